// Durable appends per second of the group-commit WAL against the disk's serial fdatasync rate,
// both measured in the same run on the same directory.
//
//   wal_bench [--dir DIR] [--seconds S] [--threads 1,8,64,256] [--sizes 256,4096] [--repeat N]
//             [--preallocate] [--commit-here]
//
// --commit-here: each thread appends under a commit_scope and commits the group itself when
// the log is idle (as the produce path's io thread does), instead of waiting for the sync
// thread to do it.
//
// Each appending thread keeps exactly one record in flight (append, wait for its durable
// completion, repeat), like a closed-loop producer with acks=all. Every repetition measures the
// serial fdatasync rate again just before its run. The summary gives medians over the
// repetitions.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "wal/write_ahead_log.h"

using namespace std::chrono;

namespace {

struct config {
  std::string dir = "./data/wal-bench";
  double seconds = 3;
  std::vector<int> threads{1, 8, 64, 256};
  std::vector<size_t> sizes{256, 4096};
  int repeat = 1;
  bool preallocate = false;  // the log's default; --preallocate for zero-filled segments
  bool commit_here = false;  // --commit-here: appenders commit an idle log's group themselves
};

std::vector<long> parse_list(const char* s) {
  std::vector<long> out;
  for (const char* p = s; *p;) {
    char* end;
    out.push_back(std::strtol(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p) break;
  }
  return out;
}

// Appends and fdatasyncs one record at a time: the rate a log without group commit gets.
double serial_sync_rate(const std::string& dir, double seconds, size_t size) {
  const std::string path = dir + "/serial-sync.probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) {
    std::perror("open probe");
    std::exit(1);
  }
  std::vector<char> buf(size, 'x');
  const auto end = steady_clock::now() + duration<double>(seconds);
  long n = 0;
  auto start = steady_clock::now();
  while (steady_clock::now() < end) {
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size()) || ::fdatasync(fd) != 0) {
      std::perror("probe write/fdatasync");
      std::exit(1);
    }
    ++n;
  }
  double secs = duration<double>(steady_clock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  return static_cast<double>(n) / secs;
}

struct run_result {
  double appends_per_sec = 0;
  double records_per_sync = 0;
  double records_per_group = 0;
  double write_us = 0;  // mean write time per group (encode + write())
  double sync_us = 0;   // mean fdatasync time per sync
  double p50_us = 0, p99_us = 0;
};

run_result run_wal(const config& cfg, int threads, size_t size) {
  const std::string dir = cfg.dir + "/log";
  std::filesystem::remove_all(dir);
  wal::options o;
  o.dir = dir;
  o.preallocate = cfg.preallocate;
  auto opened = wal::write_ahead_log::open(o, std::shared_ptr<wal::file_system>(wal::make_posix_file_system()));
  if (!opened) {
    std::fprintf(stderr, "cannot open wal: %s\n", opened.error().message().c_str());
    std::exit(1);
  }
  auto& w = **opened;
  // Only the log's completing thread calls the observer; these are read after close().
  uint64_t groups = 0, grouped_records = 0;
  double syncs = 0;  // one per group
  double write_ns = 0, sync_ns = 0;
  std::atomic<bool> measuring{false};
  w.set_observer([&](const wal::group_stats& g) {
    if (!measuring.load(std::memory_order_relaxed)) return;
    groups++;
    grouped_records += g.records;
    syncs += 1;
    write_ns += static_cast<double>(g.write.count());
    sync_ns += static_cast<double>(g.sync.count());
  });

  auto data = std::make_shared<std::vector<std::byte>>(size, std::byte{'r'});
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  std::vector<long> counts(static_cast<size_t>(threads), 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      std::mutex mu;
      std::condition_variable cv;
      auto& my_lat = lat[static_cast<size_t>(t)];
      while (!stop.load(std::memory_order_relaxed)) {
        bool done = false, ok = false;
        const auto t0 = steady_clock::now();
        std::optional<wal::write_ahead_log::commit_scope> scope;
        if (cfg.commit_here) scope.emplace(w);
        auto queued = w.append(
            static_cast<uint32_t>(t), 1, wal::payload{data, std::span<const std::byte>(*data)},
            [&](const wal::result<wal::appended>& r) {
              std::lock_guard lock(mu);
              done = true;
              ok = r.has_value();
              cv.notify_one();
            },
            wal::when_full::wait);
        if (!queued) {
          std::fprintf(stderr, "append refused: %s\n", queued.error().message().c_str());
          std::exit(1);
        }
        if (scope) scope->commit();  // holds no lock: the completion takes `mu`
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done; });
        if (!ok) {
          std::fprintf(stderr, "append failed: %s\n", w.health() ? "" : w.health().error().message().c_str());
          std::exit(1);
        }
        if (measuring.load(std::memory_order_relaxed)) {
          my_lat.push_back(duration<double, std::micro>(steady_clock::now() - t0).count());
          counts[static_cast<size_t>(t)]++;
        }
      }
    });
  std::this_thread::sleep_for(milliseconds(300));  // warm-up
  measuring = true;
  const auto start = steady_clock::now();
  std::this_thread::sleep_for(duration<double>(cfg.seconds));
  measuring = false;
  const double secs = duration<double>(steady_clock::now() - start).count();
  stop = true;
  for (auto& t : ts) t.join();
  w.close();

  long total = 0;
  std::vector<double> all;
  for (size_t i = 0; i < lat.size(); ++i) {
    total += counts[i];
    all.insert(all.end(), lat[i].begin(), lat[i].end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    return all.empty() ? 0.0 : all[static_cast<size_t>(q * static_cast<double>(all.size() - 1))];
  };
  run_result r;
  r.appends_per_sec = static_cast<double>(total) / secs;
  r.records_per_sync = syncs > 0 ? static_cast<double>(grouped_records) / syncs : 0;
  r.records_per_group = groups ? static_cast<double>(grouped_records) / static_cast<double>(groups) : 0;
  r.write_us = groups ? write_ns / 1e3 / static_cast<double>(groups) : 0;
  r.sync_us = syncs > 0 ? sync_ns / 1e3 / syncs : 0;
  r.p50_us = pct(0.50);
  r.p99_us = pct(0.99);
  std::filesystem::remove_all(dir);
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Every run of one (size, threads) point.
struct point {
  size_t size;
  int threads;
  std::vector<double> serial_sync;  // per repetition
  std::vector<run_result> runs;
};

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir") cfg.dir = next();
    else if (a == "--seconds") cfg.seconds = std::atof(next());
    else if (a == "--preallocate") cfg.preallocate = true;
    else if (a == "--commit-here") cfg.commit_here = true;
    else if (a == "--threads") {
      cfg.threads.clear();
      for (long v : parse_list(next())) cfg.threads.push_back(static_cast<int>(v));
    } else if (a == "--sizes") {
      cfg.sizes.clear();
      for (long v : parse_list(next())) cfg.sizes.push_back(static_cast<size_t>(v));
    } else if (a == "--repeat") {
      cfg.repeat = std::atoi(next());
      if (cfg.repeat < 1) {
        std::fprintf(stderr, "--repeat needs a count of at least 1\n");
        return 2;
      }
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: wal_bench [--dir DIR] [--seconds S] [--threads 1,8,64,256] [--sizes 256,4096] [--repeat N] "
          "[--preallocate] [--commit-here]\n");
      return 0;
    } else {
      std::fprintf(stderr, "unknown option %s (try --help)\n", a.c_str());
      return 2;
    }
  }
  std::filesystem::create_directories(cfg.dir);
  std::printf("wal_bench: dir=%s, %.1f s per run, %d repetition(s), one record in flight per thread%s\n",
              cfg.dir.c_str(), cfg.seconds, cfg.repeat,
              cfg.commit_here ? ", appenders commit an idle log's group" : "");
  std::printf("%-7s %-8s %-4s %14s %14s %10s %10s %10s %10s %10s %10s %12s\n", "size", "threads", "rep",
              "serial_sync/s", "appends/s", "x_serial", "rec/sync", "rec/group", "write_us", "sync_us", "p50_us",
              "p99_us");
  std::vector<point> points;
  for (size_t size : cfg.sizes)
    for (int threads : cfg.threads) {
      point pt{size, threads, {}, {}};
      for (int rep = 0; rep < cfg.repeat; ++rep) {
        // Measured beside each repetition so that both numbers see the same disk at the same moment.
        const double serial = serial_sync_rate(cfg.dir, std::min(cfg.seconds, 2.0), size);
        pt.serial_sync.push_back(serial);
        auto r = run_wal(cfg, threads, size);
        pt.runs.push_back(r);
        std::printf("%-7zu %-8d %-4d %14.0f %14.0f %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %12.1f\n", size, threads,
                    rep + 1, serial, r.appends_per_sec, r.appends_per_sec / serial, r.records_per_sync,
                    r.records_per_group, r.write_us, r.sync_us, r.p50_us, r.p99_us);
        std::fflush(stdout);
      }
      points.push_back(std::move(pt));
    }

  std::printf(
      "\nmedians over %d repetition(s); x_serial = appends/s over the serial fdatasync rate of the same repetition\n",
      cfg.repeat);
  std::printf("%-7s %-8s %14s %13s %9s %9s %9s\n", "size", "threads", "serial_sync/s", "appends/s", "x_serial",
              "rec/sync", "p99_us");
  for (auto& pt : points) {
    std::vector<double> rate, x, rps, p99;
    for (size_t i = 0; i < pt.runs.size(); ++i) {
      rate.push_back(pt.runs[i].appends_per_sec);
      x.push_back(pt.runs[i].appends_per_sec / pt.serial_sync[i]);
      rps.push_back(pt.runs[i].records_per_sync);
      p99.push_back(pt.runs[i].p99_us);
    }
    std::printf("%-7zu %-8d %14.0f %13.0f %9.1f %9.1f %9.0f\n", pt.size, pt.threads, median(pt.serial_sync),
                median(rate), median(x), median(rps), median(p99));
  }
  return 0;
}
