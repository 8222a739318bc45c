#pragma once
// `kairo-lab disk` and the experiment runner's disk yardstick: how long it takes to make N bytes
// durable in a directory, for the ways a log can do it (BRIEF.md "Yardsticks": F, one sync of a
// group on this disk, measured in the same run as the figures it judges).
//
//   append     write() to a file opened O_APPEND (it grows), then fdatasync: a log that
//              grows its segment, so every sync also journals the inode's new size
//   overwrite  pwrite into a file zero-filled to its full size and synced beforehand, then
//              fdatasync: a preallocated segment, data only
//   dsync      the same overwrite on an fd opened O_DSYNC: one pwrite, no fdatasync
//   direct     the same on an fd opened O_DIRECT|O_DSYNC, from a 4096-aligned buffer, the size
//              rounded up to 4096; unsupported where the filesystem refuses O_DIRECT (tmpfs)
//
// The modes are interleaved in rounds (each round runs every size and mode, the mode order
// rotated per round), so a noisy stretch of the machine hits every mode alike; the per-round
// p50s show the spread. The probe works in a fresh subdirectory and removes it, also when it
// throws or is stopped. Not thread-safe; blocking I/O on the calling thread.
#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lab {

enum class disk_mode { append, overwrite, dsync, direct };

const char* to_string(disk_mode m);
std::optional<disk_mode> parse_disk_mode(std::string_view s);

struct disk_probe_config {
  std::string dir = ".";  // an existing directory; the probe's files go in a fresh subdirectory of it
  std::vector<size_t> sizes{4096, 16384, 65536, 262144};  // bytes made durable per operation
  std::vector<disk_mode> modes{disk_mode::append, disk_mode::overwrite, disk_mode::dsync, disk_mode::direct};
  int rounds = 3;
  int count = 500;  // timed operations per mode, size and round (after one untimed warm-up operation)
};

struct disk_probe_progress {
  int round = 0;  // 1-based
  int rounds = 0;
  disk_mode mode = disk_mode::append;
  size_t size = 0;
  int batches_done = 0;  // (mode, size, round) batches finished, of batches_total
  int batches_total = 0;
};

// One mode at one size, over all rounds. Latencies in microseconds; NaN when there are no
// samples (unsupported, or stopped before its first batch).
struct disk_probe_cell {
  disk_mode mode = disk_mode::append;
  size_t size = 0;
  size_t write_size = 0;  // bytes per operation: size, rounded up to 4096 for direct
  bool supported = true;
  std::string note;  // why unsupported
  int samples = 0;
  double p50_us = 0, p99_us = 0, mean_us = 0, max_us = 0;
  std::vector<double> round_p50_us;  // one per finished round
};

struct disk_probe_result {
  std::string dir;         // the directory probed (absolute)
  std::string filesystem;  // e.g. "ext4 on /dev/vda" (from /proc/self/mounts), or "unknown"
  int rounds = 0, count = 0;
  double seconds = 0;
  bool interrupted = false;            // *stop was raised: fewer rounds than asked
  std::vector<disk_probe_cell> cells;  // modes x sizes, in the config's order

  const disk_probe_cell* find(disk_mode m, size_t size) const;  // nullptr when not probed
};

// Runs the probe. Throws std::invalid_argument for a bad config and std::runtime_error (naming
// the file and the errno) when the directory cannot be used or a write or sync fails.
disk_probe_result run_disk_probe(const disk_probe_config& cfg,
                                 const std::function<void(const disk_probe_progress&)>& on_progress = {},
                                 const std::atomic<bool>* stop = nullptr);

std::string disk_probe_table(const disk_probe_result& r);  // the human table, a line per mode and size
std::string disk_probe_markdown(const disk_probe_result& r);
nlohmann::ordered_json disk_probe_json(const disk_probe_result& r);

// "4096,16384" -> sizes; throws std::invalid_argument naming the bad item.
std::vector<size_t> parse_disk_sizes(const std::string& list);

// The `kairo-lab disk` command line; returns the exit code.
int disk_main(int argc, const char* const* argv);

}  // namespace lab
