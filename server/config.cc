#include "server/config.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <thread>

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace server {

endpoint parse_endpoint(const std::string& s, const std::string& what) {
  auto bad = [&] {
    return std::invalid_argument(what + ": '" + s + "' is not HOST:PORT (for example 127.0.0.1:9092)");
  };
  auto colon = s.rfind(':');
  if (colon == std::string::npos) throw bad();
  endpoint e;
  e.host = s.substr(0, colon);
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  if (e.host.empty()) e.host = "0.0.0.0";
  const std::string port = s.substr(colon + 1);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) throw bad();
  e.port = static_cast<uint16_t>(p);
  return e;
}

std::pair<engine::profile, engine::produce_policy> serve_config::initial_policy() const {
  auto p = produce_profile;
  auto pol = engine::profile_policy(p);
  if (min_batches) pol.min_batches = *min_batches;
  if (linger_ms) pol.linger = std::chrono::nanoseconds(static_cast<int64_t>(*linger_ms * 1e6));
  if (buffer_bytes) pol.buffer_bytes = *buffer_bytes;
  if (min_batches || linger_ms || buffer_bytes) p = engine::profile::custom;
  return {p, pol};
}

engine::simulated_sync_delay parse_sync_delay(const std::string& s) {
  using namespace std::chrono;
  if (s == "native" || s == "off" || s == "0") return {};
  if (s == "cloud") return {milliseconds(1), 0.2};
  if (s == "hdd") return {milliseconds(5), 0.2};
  auto bad = [&] {
    return std::invalid_argument("--simulated-sync-delay: '" + s +
                                 "' is not native, cloud, hdd or a duration like 2ms or 1ms±20%");
  };
  std::string v = s, spread;
  for (const char* sep : {"\u00b1", "+-"}) {
    auto at = v.find(sep);
    if (at != std::string::npos) {
      spread = v.substr(at + std::string(sep).size());
      v = v.substr(0, at);
      break;
    }
  }
  char* end = nullptr;
  double n = std::strtod(v.c_str(), &end);
  std::string unit(end);
  double ns;
  if (unit == "us") ns = n * 1e3;
  else if (unit == "ms") ns = n * 1e6;
  else if (unit == "s") ns = n * 1e9;
  else throw bad();
  if (!(ns >= 0) || ns > 10e9) throw bad();
  engine::simulated_sync_delay d{nanoseconds(static_cast<int64_t>(ns)), 0.0};
  if (!spread.empty()) {
    if (spread.back() != '%') throw bad();
    spread.pop_back();
    double pct = std::strtod(spread.c_str(), &end);
    if (*end != '\0' || !(pct >= 0) || pct > 100) throw bad();
    d.jitter = pct / 100.0;
  }
  return d;
}

namespace {

bool parse_bool(const std::string& v, const std::string& what) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw std::invalid_argument(what + ": '" + v + "' is not a boolean (use true or false)");
}

template <class T>
T parse_whole(const std::string& v, const std::string& what, long long min, long long max) {
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > max)
    throw std::invalid_argument(what + ": '" + v + "' must be a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  return static_cast<T>(n);
}

template <class T>
T parse_positive(const std::string& v, const std::string& what, long long max) {
  return parse_whole<T>(v, what, 1, max);
}

}  // namespace

std::optional<serve_config> parse_serve_args(int argc, const char* const* argv) {
  po::options_description opts(
      "kairo serve options (each also settable as KAIRO_<NAME> in the environment, "
      "with dashes as underscores, or as `name = value` in --config)");
  // clang-format off
  opts.add_options()
    ("help,h", "print this help and exit")
    ("print-config", "print every setting as a config file (name = default, each with its description) and exit")
    ("config", po::value<std::string>(), "read settings from this file (lines of `name = value`, # comments)")
    ("listen", po::value<std::string>()->default_value("127.0.0.1:9092"), "Kafka listener HOST:PORT")
    ("advertised-listener", po::value<std::string>(), "HOST:PORT clients are told to connect to (default: --listen)")
    ("admin-listen", po::value<std::string>()->default_value("127.0.0.1:9644"), "metrics and admin HTTP HOST:PORT")
    ("data-dir", po::value<std::string>()->default_value("./data"), "directory for the write-ahead log and topic catalog")
    ("default-partitions", po::value<std::string>()->default_value("3"), "partitions of auto-created topics")
    ("auto-create-topics", po::value<std::string>()->default_value("true"), "create unknown topics on produce/metadata (true|false)")
    ("max-request-bytes", po::value<std::string>()->default_value("104857600"), "largest request frame accepted; larger ones close the connection")
    ("max-connections", po::value<std::string>()->default_value("20000"), "most client connections at once; more are closed at accept (rate-limited log line)")
    ("max-connections-per-ip", po::value<std::string>()->default_value("10000"), "most client connections from one address at once")
    ("connections-max-idle-ms", po::value<std::string>()->default_value("600000"), "a connection with no request and no answer pending for this long is closed (Kafka's connections.max.idle.ms)")
    ("request-read-timeout-ms", po::value<std::string>()->default_value("30000"), "a request frame that stops arriving for this long closes its connection")
    ("max-buffered-request-bytes", po::value<std::string>()->default_value("536870912"), "memory all partly received request frames may hold together; a frame that needs more waits for it (its read timeout still runs)")
    ("max-message-bytes", po::value<std::string>()->default_value("1048576"), "largest RecordBatch accepted (MESSAGE_TOO_LARGE above)")
    ("io-threads", po::value<std::string>()->default_value("0"), "Kafka I/O threads (0: one per core)")
    ("log-level", po::value<std::string>()->default_value("info"), "trace|debug|info|warn|error")
    ("log-format", po::value<std::string>()->default_value("text"), "text (timestamp, module, level) | journal (\"<priority>module: message\" for journald; the unit sets it)")
    ("produce-profile", po::value<std::string>()->default_value("auto"), "batching profile: low-latency | balanced | high-throughput | auto (also KAIRO_PRODUCE_PROFILE)")
    ("min-batches", po::value<std::string>(), "override: flush once this many batches are pending")
    ("linger-ms", po::value<std::string>(), "override: flush once the oldest pending batch waited this long (ms, fractions allowed)")
    ("buffer-bytes", po::value<std::string>(), "override: flush once this many bytes are pending; produce waits past twice this")
    ("wal-preallocate", po::value<std::string>()->default_value("false"), "zero-fill each log segment ahead of the writer, so that an ack's fdatasync flushes data only: lower p50, but twice the bytes written (true|false; measured in docs/wal.md)")
    ("wal-commit-on-io-thread", po::value<std::string>()->default_value("true"), "when the log is idle, the io thread that queued a produce writes and syncs its group itself instead of handing it to the log's sync thread and back (true|false; measured in docs/wal.md)")
    ("wal-segment-bytes", po::value<std::string>()->default_value("268435456"), "largest log segment; segments grow from 1 MiB to this, doubling")
    ("simulated-sync-delay", po::value<std::string>()->default_value("native"), "EXPERIMENT ONLY: delay added after every real fdatasync: native (off) | cloud (1ms±20%) | hdd (5ms±20%) | e.g. 2ms, 1ms±20%")
    ("group-initial-rebalance-delay-ms", po::value<std::string>()->default_value("3000"), "how long the first rebalance of an empty group waits for more members (re-armed while they keep arriving)")
    ("group-min-session-timeout-ms", po::value<std::string>()->default_value("6000"), "smallest session timeout a group member may ask for (INVALID_SESSION_TIMEOUT below)")
    ("group-max-session-timeout-ms", po::value<std::string>()->default_value("1800000"), "largest session timeout a group member may ask for")
    ("group-max-size", po::value<std::string>()->default_value("2147483647"), "most members one group may have (GROUP_MAX_SIZE_REACHED above)")
    ("offsets-retention-minutes", po::value<std::string>()->default_value("10080"), "committed offsets of a group that has been empty this long are removed (7 days)")
    ("offsets-retention-check-interval-ms", po::value<std::string>()->default_value("600000"), "how often expired offsets are looked for")
    ("offset-metadata-max-bytes", po::value<std::string>()->default_value("4096"), "largest metadata string of a committed offset (OFFSET_METADATA_TOO_LARGE above)")
    ("transaction-max-timeout-ms", po::value<std::string>()->default_value("900000"), "largest transaction timeout a producer may ask for (INVALID_TRANSACTION_TIMEOUT above)")
    ("transaction-abort-timed-out-transaction-cleanup-interval-ms", po::value<std::string>()->default_value("10000"), "how often transactions past their timeout are looked for and aborted")
    ("transactional-id-expiration-ms", po::value<std::string>()->default_value("604800000"), "a transactional id idle this long is forgotten (7 days)")
    ("producer-id-expiration-ms", po::value<std::string>()->default_value("86400000"), "a producer's sequence state in a partition is forgotten after this long without a write (1 day)")
    ("log-retention-ms", po::value<std::string>()->default_value("604800000"), "records older than this are deleted, in topics that set no retention.ms (7 days; -1 keeps them); the broker's log.retention.ms, which AlterConfigs of broker \"0\" or \"\" overrides live and a restart keeps")
    ("log-retention-bytes", po::value<std::string>()->default_value("-1"), "a partition keeps at most this many bytes, in topics that set no retention.bytes (-1: no limit); the broker's log.retention.bytes, overridden live as log.retention.ms")
    ("log-retention-check-interval-ms", po::value<std::string>()->default_value("300000"), "how often retention moves log starts and removes WAL segments that hold nothing live");
  // clang-format on

  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  if (vm.count("help")) {
    std::cout << "usage: kairo serve [options]\n\nRuns the broker: Kafka clients connect to --listen; "
                 "/metrics, /healthz, /readyz and the admin API are on --admin-listen.\n\n"
              << opts << std::endl;
    return std::nullopt;
  }
  if (vm.count("print-config")) {
    std::cout << "# kairo serve settings: `name = value` per line, # starts a comment. Every setting is\n"
                 "# listed with its default, commented out; a command-line option or KAIRO_<NAME> in the\n"
                 "# environment overrides this file. Generated by `kairo serve --print-config`.\n";
    for (const auto& o : opts.options()) {
      const auto& name = o->long_name();
      if (name == "help" || name == "print-config" || name == "config") continue;
      std::cout << "\n# " << o->description() << "\n";
      boost::any def;
      if (o->semantic()->apply_default(def))
        std::cout << "# " << name << " = " << boost::any_cast<std::string>(def) << "\n";
      else std::cout << "# " << name << " =\n";
    }
    return std::nullopt;
  }
  const auto names = [&](const std::string& env) -> std::string {
    if (env.rfind("KAIRO_", 0) != 0) return "";
    std::string n = env.substr(6);
    for (auto& c : n) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return opts.find_nothrow(n, false) && n != "help" && n != "print-config" ? n : "";
  };
  po::store(po::parse_environment(opts, names), vm);
  if (vm.count("config")) {
    const auto path = vm["config"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("--config: cannot read '" + path + "'");
    po::store(po::parse_config_file(in, opts, false), vm);
  }
  po::notify(vm);

  serve_config c;
  auto get = [&](const char* k) { return vm[k].as<std::string>(); };
  c.listen = parse_endpoint(get("listen"), "--listen");
  if (vm.count("advertised-listener"))
    c.advertised = parse_endpoint(get("advertised-listener"), "--advertised-listener");
  c.admin_listen = parse_endpoint(get("admin-listen"), "--admin-listen");
  c.data_dir = get("data-dir");
  c.default_partitions = parse_positive<int32_t>(get("default-partitions"), "--default-partitions", 100000);
  c.auto_create_topics = parse_bool(get("auto-create-topics"), "--auto-create-topics");
  c.max_request_bytes = parse_positive<uint32_t>(get("max-request-bytes"), "--max-request-bytes", 1ll << 30);
  c.max_message_bytes = parse_positive<uint32_t>(get("max-message-bytes"), "--max-message-bytes", 64ll << 20);
  c.max_connections = parse_positive<size_t>(get("max-connections"), "--max-connections", 10'000'000);
  c.max_connections_per_ip =
      parse_positive<size_t>(get("max-connections-per-ip"), "--max-connections-per-ip", 10'000'000);
  c.connections_max_idle = std::chrono::milliseconds(
      parse_positive<int64_t>(get("connections-max-idle-ms"), "--connections-max-idle-ms", 86'400'000ll * 365));
  c.request_read_timeout = std::chrono::milliseconds(
      parse_positive<int64_t>(get("request-read-timeout-ms"), "--request-read-timeout-ms", 3'600'000));
  c.max_buffered_request_bytes =
      parse_positive<uint64_t>(get("max-buffered-request-bytes"), "--max-buffered-request-bytes", 64ll << 30);
  if (get("io-threads") != "0") c.io_threads = parse_positive<unsigned>(get("io-threads"), "--io-threads", 256);
  c.log_level = get("log-level");
  c.log_format = get("log-format");
  if (c.log_format != "text" && c.log_format != "journal")
    throw std::invalid_argument("--log-format: '" + c.log_format + "' is not text or journal");
  auto prof = engine::parse_profile(get("produce-profile"));
  if (!prof || *prof == engine::profile::custom)
    throw std::invalid_argument("--produce-profile: '" + get("produce-profile") +
                                "' is not a profile (low-latency, balanced, high-throughput or auto)");
  c.produce_profile = *prof;
  if (vm.count("min-batches")) c.min_batches = parse_positive<uint32_t>(get("min-batches"), "--min-batches", 1000000);
  if (vm.count("linger-ms")) {
    char* end = nullptr;
    const auto v = get("linger-ms");
    double ms = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(ms >= 0) || ms > 60000)
      throw std::invalid_argument("--linger-ms: '" + v + "' must be a number of milliseconds from 0 to 60000");
    c.linger_ms = ms;
  }
  if (vm.count("buffer-bytes"))
    c.buffer_bytes = parse_positive<uint64_t>(get("buffer-bytes"), "--buffer-bytes", 4ll << 30);
  c.wal_preallocate = parse_bool(get("wal-preallocate"), "--wal-preallocate");
  c.wal_commit_on_io_thread = parse_bool(get("wal-commit-on-io-thread"), "--wal-commit-on-io-thread");
  c.wal_segment_bytes = parse_whole<uint64_t>(get("wal-segment-bytes"), "--wal-segment-bytes", 1 << 20, 1ll << 40);
  if (c.wal_segment_bytes < uint64_t{c.max_message_bytes} + (64 << 10))
    throw std::invalid_argument("--wal-segment-bytes must exceed --max-message-bytes by at least 64 KiB");
  c.storage_class = get("simulated-sync-delay");
  c.simulated_sync_delay = parse_sync_delay(c.storage_class);
  using std::chrono::milliseconds;
  auto& g = c.groups;
  g.initial_rebalance_delay = milliseconds(parse_whole<int64_t>(get("group-initial-rebalance-delay-ms"),
                                                                "--group-initial-rebalance-delay-ms", 0, 3'600'000));
  g.min_session_timeout = milliseconds(
      parse_positive<int64_t>(get("group-min-session-timeout-ms"), "--group-min-session-timeout-ms", 86'400'000));
  g.max_session_timeout = milliseconds(
      parse_positive<int64_t>(get("group-max-session-timeout-ms"), "--group-max-session-timeout-ms", 86'400'000));
  if (g.max_session_timeout < g.min_session_timeout)
    throw std::invalid_argument("--group-max-session-timeout-ms must not be below --group-min-session-timeout-ms");
  g.max_group_size = parse_positive<size_t>(get("group-max-size"), "--group-max-size", 2147483647);
  g.offsets_retention = std::chrono::minutes(
      parse_positive<int64_t>(get("offsets-retention-minutes"), "--offsets-retention-minutes", 100ll * 365 * 24 * 60));
  g.offsets_retention_check_interval = milliseconds(parse_positive<int64_t>(
      get("offsets-retention-check-interval-ms"), "--offsets-retention-check-interval-ms", 86'400'000));
  g.max_metadata_bytes =
      parse_positive<size_t>(get("offset-metadata-max-bytes"), "--offset-metadata-max-bytes", 1 << 20);
  auto& t = c.txns;
  t.max_timeout = milliseconds(
      parse_positive<int64_t>(get("transaction-max-timeout-ms"), "--transaction-max-timeout-ms", 86'400'000));
  t.abort_check_interval =
      milliseconds(parse_positive<int64_t>(get("transaction-abort-timed-out-transaction-cleanup-interval-ms"),
                                           "--transaction-abort-timed-out-transaction-cleanup-interval-ms", 3'600'000));
  t.id_expiration = milliseconds(parse_positive<int64_t>(get("transactional-id-expiration-ms"),
                                                         "--transactional-id-expiration-ms", 365ll * 86'400'000));
  c.producer_id_expiration_ms =
      parse_positive<int64_t>(get("producer-id-expiration-ms"), "--producer-id-expiration-ms", 365ll * 86'400'000);
  c.log_retention_ms =
      parse_whole<int64_t>(get("log-retention-ms"), "--log-retention-ms", -1, std::numeric_limits<int64_t>::max());
  c.log_retention_bytes = parse_whole<int64_t>(get("log-retention-bytes"), "--log-retention-bytes", -1,
                                               std::numeric_limits<int64_t>::max());
  c.log_retention_check_interval_ms =
      parse_positive<int64_t>(get("log-retention-check-interval-ms"), "--log-retention-check-interval-ms", 86'400'000);
  if (c.io_threads == 0) c.io_threads = std::max(1u, std::thread::hardware_concurrency());
  for (const auto& [name, value] : vm)
    if (!value.defaulted()) c.given.insert(name);
  for (const auto& o : opts.options()) {
    boost::any def;
    if (o->semantic()->apply_default(def)) c.option_defaults[o->long_name()] = boost::any_cast<std::string>(def);
  }
  return c;
}

}  // namespace server
