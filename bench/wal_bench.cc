// Durable appends per second of the group-commit WAL against the disk's serial fdatasync rate,
// both measured in the same run on the same directory.
//
//   wal_bench [--dir DIR] [--seconds S] [--threads 1,8,64,256] [--sizes 256,4096]
//
// Each appending thread keeps exactly one record in flight (append, wait for its durable
// completion, repeat), like a closed-loop producer with acks=all.
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
  bool overlap = false;
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
  double appends_per_sec;
  double records_per_sync;
  double p50_us, p99_us;
};

run_result run_wal(const config& cfg, int threads, size_t size) {
  const std::string dir = cfg.dir + "/log";
  std::filesystem::remove_all(dir);
  wal::options o;
  o.dir = dir;
  std::string problem;
  auto opened = wal::write_ahead_log::open(o, std::shared_ptr<wal::file_system>(wal::make_posix_file_system()), &problem);
  if (!opened) {
    std::fprintf(stderr, "cannot open wal: %s\n", problem.c_str());
    std::exit(1);
  }
  auto& w = **opened;
  std::atomic<uint64_t> groups{0}, grouped_records{0};
  std::atomic<bool> measuring{false};
  w.set_observer([&](const wal::group_stats& g) {
    if (!measuring.load(std::memory_order_relaxed)) return;
    groups.fetch_add(1, std::memory_order_relaxed);
    grouped_records.fetch_add(g.records, std::memory_order_relaxed);
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
        w.append(static_cast<uint32_t>(t), 1, wal::payload{data, std::span<const std::byte>(*data)},
                 [&](const wal::result<wal::appended>& r) {
                   std::lock_guard lock(mu);
                   done = true;
                   ok = r.has_value();
                   cv.notify_one();
                 },
                 wal::when_full::wait);
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done; });
        if (!ok) {
          std::fprintf(stderr, "append failed: %s\n", w.failure().c_str());
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
  auto pct = [&](double q) { return all.empty() ? 0.0 : all[static_cast<size_t>(q * static_cast<double>(all.size() - 1))]; };
  run_result r;
  r.appends_per_sec = static_cast<double>(total) / secs;
  r.records_per_sync = groups ? static_cast<double>(grouped_records) / static_cast<double>(groups) : 0;
  r.p50_us = pct(0.50);
  r.p99_us = pct(0.99);
  std::filesystem::remove_all(dir);
  return r;
}

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
    else if (a == "--threads") {
      cfg.threads.clear();
      for (long v : parse_list(next())) cfg.threads.push_back(static_cast<int>(v));
    } else if (a == "--sizes") {
      cfg.sizes.clear();
      for (long v : parse_list(next())) cfg.sizes.push_back(static_cast<size_t>(v));
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: wal_bench [--dir DIR] [--seconds S] [--threads 1,8,64,256] [--sizes 256,4096]\n");
      return 0;
    } else {
      std::fprintf(stderr, "unknown option %s (try --help)\n", a.c_str());
      return 2;
    }
  }
  std::filesystem::create_directories(cfg.dir);
  std::printf("wal_bench: dir=%s, %.1f s per point, one record in flight per thread\n", cfg.dir.c_str(), cfg.seconds);
  std::printf("%-8s %-7s %14s %14s %10s %10s %10s %12s\n", "threads", "size", "serial_sync/s", "appends/s",
              "x_serial", "rec/sync", "p50_us", "p99_us");
  for (size_t size : cfg.sizes) {
    // Measured beside each size so that both numbers see the same disk at the same moment.
    const double serial = serial_sync_rate(cfg.dir, std::min(cfg.seconds, 2.0), size);
    for (int threads : cfg.threads) {
      auto r = run_wal(cfg, threads, size);
      std::printf("%-8d %-7zu %14.0f %14.0f %10.1f %10.1f %10.1f %12.1f\n", threads, size, serial,
                  r.appends_per_sec, r.appends_per_sec / serial, r.records_per_sync, r.p50_us, r.p99_us);
      std::fflush(stdout);
    }
  }
  return 0;
}
