#pragma once
// The experiment file (experiments/*.json, documented in experiments/README.md) and the list of
// points it expands to. A point is one fresh server run: target x storage class x load.
// Parsing refuses unknown keys and bad values with a message naming the key, so a typo never
// silently becomes a default.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lab::experiment {

// A server setting under test: a `kairo serve` configuration, or the librdkafka mock broker.
struct target {
  std::string label;
  bool mock = false;
  std::string profile;             // --produce-profile; empty: the server's default
  std::optional<int> min_batches;  // explicit policy overrides
  std::optional<double> linger_ms;
  std::optional<long long> buffer_bytes;
  std::vector<std::string> args;  // further `kairo serve` arguments, verbatim
  std::vector<std::pair<std::string, std::string>> env;
  // librdkafka properties of the bench's clients for this target (e.g. enable.idempotence).
  std::vector<std::pair<std::string, std::string>> client;
  std::string binary;  // mock: path of kairo_mock_broker (default: next to the build)

  // auto: the tuner decides (profile auto, or no profile and no explicit policy: the server's default).
  bool is_auto() const { return !mock && (profile == "auto" || (profile.empty() && !min_batches && !linger_ms)); }
  // A static policy: a fixed profile or explicit min_batches/linger; the tuner's yardsticks.
  bool is_static() const { return !mock && !is_auto(); }
  // The `kairo serve` arguments this target adds (not ports, data dir or storage class).
  std::vector<std::string> server_args() const;
};

// A phase of a phased run: from its start on, the given settings hold (unset: as before).
struct phase {
  double duration_s = 0;
  std::optional<int> concurrency;
  std::optional<std::string> storage;
  std::string label;
  double start_s = 0;  // derived: sum of the previous phases' durations
};

struct load_spec {
  std::vector<int> concurrency{1};
  std::vector<int> message_size{256};
  std::vector<int> producers{1};
  std::vector<double> rate;  // open loop (messages/s in total); empty: closed loop
  double duration_s = 10;
  double warmup_s = 1;
  std::string acks = "all";
  int partitions = 3;
  std::string compression = "none";
  std::string topic = "experiment";
};

struct spec {
  std::string name;
  std::string description;
  std::vector<target> targets;
  std::vector<std::string> storage{"native"};
  load_spec load;
  std::vector<phase> phases;  // non-empty: a phased run (time series plots)
  double scrape_interval_s = 1.0;
  int repeat = 1;
  // Repetitions outermost (A B A B ...): every target's runs spread over the whole experiment,
  // so that a noisy stretch of the machine does not land on one target only.
  bool interleave = false;
  bool quick = false;
  nlohmann::json resolved;  // the document after the quick block was applied (written to run.json)

  bool phased() const { return !phases.empty(); }
};

struct point {
  int index = 0;
  std::string id;  // unique, file-name safe: "007-balanced-hdd-c64-s256"
  size_t target_index = 0;
  std::string storage;       // "none" for the mock broker (it has no disk)
  int concurrency = 1;       // senders per producer; for phased runs the largest of any phase
  int base_concurrency = 1;  // the load axis value (phased runs: before any phase sets its own)
  int message_size = 256;
  int producers = 1;
  std::optional<double> rate;
  int repetition = 1;
  double duration_s = 0;  // measured time (phased: the sum of the phases)
  double warmup_s = 0;
};

// Reads and validates the file; with quick, the file's "quick" block is merged over it first
// (RFC 7386 JSON merge patch). Throws std::invalid_argument with a message for the user.
spec load_spec_file(const std::string& path, bool quick);
spec parse_spec(const nlohmann::json& doc, bool quick);

std::vector<point> expand_points(const spec& s);

// Storage classes. `native` is the result folder's disk; `cloud` (1 ms ± 20 %), `hdd` (5 ms ± 20 %)
// and delays like `2ms` or `1ms±20%` add a simulated delay after every real fdatasync of that disk
// (kairo's --simulated-sync-delay); `tmpfs` puts the data directory on /dev/shm, where fdatasync
// is free: the broker's own cost with the disk taken away.
constexpr const char* tmpfs_storage = "tmpfs";
constexpr const char* tmpfs_root = "/dev/shm";
bool on_tmpfs(const std::string& storage);
// The --simulated-sync-delay value a storage class starts kairo with.
std::string sync_delay_arg(const std::string& storage);
// The mean simulated delay of a class in milliseconds (0 for native and tmpfs; the jitter is
// symmetric); NaN when the value cannot be read (the server then refuses it too).
double configured_sync_delay_ms(const std::string& storage);

// "8@0s;128@20s;8@40s" style summaries of a phased run, for CSV columns (empty when not phased).
std::string describe_concurrency_phases(const spec& s, const point& p);
std::string describe_storage_phases(const spec& s, const point& p);

}  // namespace lab::experiment
