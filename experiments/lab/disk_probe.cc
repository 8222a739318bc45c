#include "experiments/lab/disk_probe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace lab {
namespace {

namespace fs = std::filesystem;

constexpr size_t direct_alignment = 4096;  // O_DIRECT: buffer, offset and length aligned to this
// The overwrite files hold at most this much per size; the writes wrap around inside it. Large
// enough that the device sees fresh offsets, small enough to zero-fill in well under a second.
constexpr size_t overwrite_region_cap = 32u << 20;
constexpr size_t zero_chunk = 1u << 20;

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

[[noreturn]] void fail_io(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error("disk probe: " + what + " " + path + " failed: " + std::strerror(err));
}

struct scoped_fd {
  int fd = -1;
  scoped_fd() = default;
  explicit scoped_fd(int f) : fd(f) {}
  scoped_fd(scoped_fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  scoped_fd(const scoped_fd&) = delete;
  scoped_fd& operator=(const scoped_fd&) = delete;
  ~scoped_fd() { reset(); }
  void reset(int f = -1) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
};

// The probe's own directory, removed on every way out.
struct scoped_dir {
  std::string path;
  ~scoped_dir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

struct aligned_buffer {
  char* data = nullptr;
  explicit aligned_buffer(size_t n) {
    void* p = nullptr;
    if (::posix_memalign(&p, direct_alignment, n) != 0) throw std::bad_alloc();
    data = static_cast<char*>(p);
  }
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  ~aligned_buffer() { std::free(data); }
};

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail_io("write to", path, w < 0 ? errno : EIO);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Written with zeros (not fallocate: unwritten extents would turn the first overwrite of each
// block into a metadata change) and synced, so the timed overwrites change data only.
void zero_fill(const std::string& path, size_t bytes) {
  scoped_fd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (f.fd < 0) fail_io("create", path, errno);
  const std::vector<char> zeros(zero_chunk, 0);
  for (size_t done = 0; done < bytes;) {
    const size_t n = std::min(zero_chunk, bytes - done);
    write_all(f.fd, zeros.data(), n, path);
    done += n;
  }
  if (::fdatasync(f.fd) != 0) fail_io("fdatasync of", path, errno);
}

void sync_dir(const std::string& dir) {
  scoped_fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd >= 0) ::fsync(d.fd);
}

// "ext4 on /dev/vda": the longest mount point of /proc/self/mounts that contains dir.
std::string filesystem_of(const std::string& dir) {
  std::ifstream in("/proc/self/mounts");
  std::string src, mnt, type, rest, best = "unknown";
  size_t best_len = 0;
  while (in >> src >> mnt >> type && std::getline(in, rest)) {
    const bool inside = dir == mnt || mnt == "/" ||
                        (dir.size() > mnt.size() && dir.compare(0, mnt.size(), mnt) == 0 && dir[mnt.size()] == '/');
    if (inside && mnt.size() >= best_len) {
      best_len = mnt.size();
      best = type + " on " + src;
    }
  }
  return best;
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const auto rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))));
  return sorted[std::min(rank, sorted.size()) - 1];
}

std::string fmt(const char* f, double v) {
  if (std::isnan(v)) return "–";
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string round_list(const disk_probe_cell& c) {
  std::string out;
  for (double v : c.round_p50_us) {
    if (!out.empty()) out += ' ';
    out += fmt("%.3g", v);
  }
  return out;
}

std::vector<const disk_probe_cell*> by_size(const disk_probe_result& r) {
  std::vector<const disk_probe_cell*> cells;
  for (auto& c : r.cells) cells.push_back(&c);
  std::stable_sort(cells.begin(), cells.end(), [](auto* a, auto* b) { return a->size < b->size; });
  return cells;
}

// One mode's file for all sizes (append: one fresh file per batch, made in run_batch).
struct mode_state {
  disk_mode mode;
  std::string path;
  scoped_fd file;
  size_t region = 0;  // overwrite modes: the zero-filled length
  bool supported = true;
  std::string note;
};

std::string unsupported_note(int err) {
  return std::string("O_DIRECT refused (") + std::strerror(err) + "): this filesystem does not support it";
}

// Opens the file the timed operations of a mode go to; false (with st.note) when the
// filesystem refuses the mode.
bool open_mode(mode_state& st) {
  int flags = O_WRONLY | O_CLOEXEC;
  if (st.mode == disk_mode::dsync) flags |= O_DSYNC;
  if (st.mode == disk_mode::direct) flags |= O_DIRECT | O_DSYNC;
  const int fd = ::open(st.path.c_str(), flags);
  if (fd < 0 && st.mode == disk_mode::direct && errno == EINVAL) {
    st.supported = false;
    st.note = unsupported_note(EINVAL);
    return false;
  }
  if (fd < 0) fail_io("open", st.path, errno);
  st.file.reset(fd);
  return true;
}

using clock_type = std::chrono::steady_clock;

// One (mode, size, round) batch: an untimed warm-up operation, then `count` timed ones.
// Returns false when *stop was raised (the batch's samples are then dropped).
bool run_batch(mode_state& st, const std::string& dir, size_t write_size, int count, int round, char* buf,
               std::vector<double>& samples, const std::atomic<bool>* stop) {
  std::string append_path;
  scoped_fd append_file;
  if (st.mode == disk_mode::append) {
    append_path = dir + "/append-" + std::to_string(round) + "-" + std::to_string(write_size) + ".dat";
    append_file.reset(::open(append_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
    if (append_file.fd < 0) fail_io("create", append_path, errno);
  }
  const int fd = st.mode == disk_mode::append ? append_file.fd : st.file.fd;
  const std::string& path = st.mode == disk_mode::append ? append_path : st.path;
  const size_t slots = st.mode == disk_mode::append ? 1 : std::max<size_t>(1, st.region / write_size);
  uint64_t serial = 0;
  std::vector<double> batch;
  batch.reserve(static_cast<size_t>(count));
  for (int i = 0; i <= count; ++i) {
    if (stop && stop->load()) return false;
    // Every write differs from the last, so no layer below can skip it as unchanged.
    ++serial;
    std::memcpy(buf, &serial, sizeof serial);
    const auto off = static_cast<off_t>((static_cast<size_t>(i) % slots) * write_size);
    const auto t0 = clock_type::now();
    ssize_t w;
    do {
      w = st.mode == disk_mode::append ? ::write(fd, buf, write_size) : ::pwrite(fd, buf, write_size, off);
    } while (w < 0 && errno == EINTR);
    if (w < 0 && st.mode == disk_mode::direct && errno == EINVAL) {
      st.supported = false;
      st.note = unsupported_note(EINVAL);
      return true;
    }
    if (w != static_cast<ssize_t>(write_size)) fail_io("write to", path, w < 0 ? errno : EIO);
    if ((st.mode == disk_mode::append || st.mode == disk_mode::overwrite) && ::fdatasync(fd) != 0)
      fail_io("fdatasync of", path, errno);
    const auto t1 = clock_type::now();
    if (i > 0) batch.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  if (st.mode == disk_mode::append) {
    append_file.reset();
    ::unlink(append_path.c_str());
  }
  samples.insert(samples.end(), batch.begin(), batch.end());
  return true;
}

}  // namespace

const char* to_string(disk_mode m) {
  switch (m) {
    case disk_mode::append: return "append";
    case disk_mode::overwrite: return "overwrite";
    case disk_mode::dsync: return "dsync";
    case disk_mode::direct: return "direct";
  }
  return "?";
}

std::optional<disk_mode> parse_disk_mode(std::string_view s) {
  for (auto m : {disk_mode::append, disk_mode::overwrite, disk_mode::dsync, disk_mode::direct})
    if (s == to_string(m)) return m;
  return std::nullopt;
}

const disk_probe_cell* disk_probe_result::find(disk_mode m, size_t size) const {
  for (auto& c : cells)
    if (c.mode == m && c.size == size) return &c;
  return nullptr;
}

std::vector<size_t> parse_disk_sizes(const std::string& list) {
  std::vector<size_t> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t mult = 1;
    std::string digits = item;
    if (!digits.empty() && (digits.back() == 'k' || digits.back() == 'K')) {
      mult = 1024;
      digits.pop_back();
    }
    char* end = nullptr;
    const unsigned long long v = std::strtoull(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || v == 0 || v * mult > (64ull << 20))
      throw std::invalid_argument("--sizes: '" + item + "' is not a byte count from 1 to 64 MiB (e.g. 4096 or 4k)");
    out.push_back(static_cast<size_t>(v * mult));
  }
  if (out.empty()) throw std::invalid_argument("--sizes: give at least one size, e.g. 4096,65536");
  return out;
}

disk_probe_result run_disk_probe(const disk_probe_config& cfg,
                                 const std::function<void(const disk_probe_progress&)>& on_progress,
                                 const std::atomic<bool>* stop) {
  if (cfg.sizes.empty() || cfg.modes.empty()) throw std::invalid_argument("disk probe: no sizes or no modes to probe");
  if (cfg.rounds < 1 || cfg.count < 1) throw std::invalid_argument("disk probe: rounds and count must be at least 1");
  const auto started = clock_type::now();
  disk_probe_result r;
  std::error_code ec;
  r.dir = fs::weakly_canonical(fs::absolute(cfg.dir), ec).string();
  if (ec || !fs::is_directory(r.dir))
    throw std::runtime_error("disk probe: " + cfg.dir + " is not a directory; create it or pass another --dir");
  r.filesystem = filesystem_of(r.dir);
  r.rounds = cfg.rounds;
  r.count = cfg.count;

  scoped_dir work;
  std::string tmpl = r.dir + "/kairo-disk-probe-XXXXXX";
  if (!::mkdtemp(tmpl.data())) fail_io("create a directory in", r.dir, errno);
  work.path = tmpl;

  auto write_size_of = [](disk_mode m, size_t size) {
    return m == disk_mode::direct ? round_up(size, direct_alignment) : size;
  };
  size_t max_write = 0;
  for (auto m : cfg.modes)
    for (size_t s : cfg.sizes) max_write = std::max(max_write, write_size_of(m, s));

  std::vector<mode_state> modes;
  for (auto m : cfg.modes) {
    mode_state st{m, work.path + "/" + to_string(m) + ".dat", {}, 0, true, {}};
    if (m != disk_mode::append) {
      for (size_t s : cfg.sizes) {
        const size_t w = write_size_of(m, s);
        st.region =
            std::max(st.region, std::max(w, std::min(w * static_cast<size_t>(cfg.count), overwrite_region_cap)));
      }
      st.region = round_up(st.region, direct_alignment);
      zero_fill(st.path, st.region);
    }
    modes.push_back(std::move(st));
  }
  sync_dir(work.path);
  for (auto& st : modes)
    if (st.mode != disk_mode::append) open_mode(st);

  aligned_buffer buf(max_write);
  uint64_t x = 0x9e3779b97f4a7c15ull;  // incompressible contents (xorshift)
  for (size_t i = 0; i < max_write; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf.data[i] = static_cast<char>(x);
  }

  // samples[mode][size]
  std::vector<std::vector<std::vector<double>>> samples(modes.size(),
                                                        std::vector<std::vector<double>>(cfg.sizes.size()));
  std::vector<std::vector<std::vector<double>>> round_p50(modes.size(),
                                                          std::vector<std::vector<double>>(cfg.sizes.size()));
  disk_probe_progress pr;
  pr.rounds = cfg.rounds;
  pr.batches_total = cfg.rounds * static_cast<int>(cfg.sizes.size() * modes.size());
  for (int round = 0; round < cfg.rounds && !r.interrupted; ++round) {
    for (size_t si = 0; si < cfg.sizes.size() && !r.interrupted; ++si) {
      for (size_t k = 0; k < modes.size() && !r.interrupted; ++k) {
        const size_t mi = (k + static_cast<size_t>(round)) % modes.size();
        auto& st = modes[mi];
        if (st.supported) {
          std::vector<double> batch;
          if (!run_batch(st, work.path, write_size_of(st.mode, cfg.sizes[si]), cfg.count, round, buf.data, batch,
                         stop)) {
            r.interrupted = true;
            break;
          }
          if (!batch.empty()) {
            samples[mi][si].insert(samples[mi][si].end(), batch.begin(), batch.end());
            std::sort(batch.begin(), batch.end());
            round_p50[mi][si].push_back(percentile(batch, 0.5));
          }
        }
        pr.round = round + 1;
        pr.mode = st.mode;
        pr.size = cfg.sizes[si];
        ++pr.batches_done;
        if (on_progress) on_progress(pr);
      }
    }
  }

  for (size_t mi = 0; mi < modes.size(); ++mi) {
    for (size_t si = 0; si < cfg.sizes.size(); ++si) {
      disk_probe_cell c;
      c.mode = modes[mi].mode;
      c.size = cfg.sizes[si];
      c.write_size = write_size_of(c.mode, c.size);
      c.supported = modes[mi].supported;
      c.note = modes[mi].note;
      auto& v = samples[mi][si];
      std::sort(v.begin(), v.end());
      c.samples = static_cast<int>(v.size());
      c.p50_us = percentile(v, 0.50);
      c.p99_us = percentile(v, 0.99);
      c.max_us = v.empty() ? NAN : v.back();
      double sum = 0;
      for (double d : v) sum += d;
      c.mean_us = v.empty() ? NAN : sum / static_cast<double>(v.size());
      c.round_p50_us = round_p50[mi][si];
      r.cells.push_back(std::move(c));
    }
  }
  r.seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  return r;
}

std::string disk_probe_table(const disk_probe_result& r) {
  std::ostringstream out;
  out << "disk probe in " << r.dir << " (" << r.filesystem << "): " << r.rounds << " rounds x " << r.count
      << " per mode and size, " << fmt("%.1f", r.seconds) << " s" << (r.interrupted ? ", INTERRUPTED" : "") << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-10s %8s %10s %10s %10s   %s\n", "mode", "bytes", "p50 us", "p99 us", "mean us",
                "p50 per round, us");
  out << line;
  for (auto* c : by_size(r)) {
    if (!c->supported) {
      std::snprintf(line, sizeof line, "%-10s %8zu   unsupported: %s\n", to_string(c->mode), c->write_size,
                    c->note.c_str());
    } else {
      std::snprintf(line, sizeof line, "%-10s %8zu %10s %10s %10s   %s\n", to_string(c->mode), c->write_size,
                    fmt("%.1f", c->p50_us).c_str(), fmt("%.1f", c->p99_us).c_str(), fmt("%.1f", c->mean_us).c_str(),
                    round_list(*c).c_str());
    }
    out << line;
  }
  return out.str();
}

std::string disk_probe_markdown(const disk_probe_result& r) {
  std::ostringstream md;
  md << "In `" << r.dir << "` (" << r.filesystem << "), " << r.rounds << " interleaved rounds × " << r.count
     << " per mode and size, " << fmt("%.1f", r.seconds) << " s" << (r.interrupted ? " (**interrupted**)" : "")
     << ":\n\n| mode | bytes | p50 µs | p99 µs | mean µs | p50 per round µs |\n|---|---|---|---|---|---|\n";
  for (auto* c : by_size(r)) {
    md << "| " << to_string(c->mode) << " | " << c->write_size << " | ";
    if (!c->supported) md << "unsupported: " << c->note << " | | | |\n";
    else
      md << fmt("%.1f", c->p50_us) << " | " << fmt("%.1f", c->p99_us) << " | " << fmt("%.1f", c->mean_us) << " | "
         << round_list(*c) << " |\n";
  }
  return md.str();
}

nlohmann::ordered_json disk_probe_json(const disk_probe_result& r) {
  auto num = [](double v) { return std::isnan(v) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v); };
  nlohmann::ordered_json cells = nlohmann::ordered_json::array();
  for (auto& c : r.cells) {
    nlohmann::ordered_json rounds = nlohmann::ordered_json::array();
    for (double v : c.round_p50_us) rounds.push_back(v);
    cells.push_back({{"mode", to_string(c.mode)},
                     {"size", c.size},
                     {"write_size", c.write_size},
                     {"supported", c.supported},
                     {"note", c.note},
                     {"samples", c.samples},
                     {"p50_us", num(c.p50_us)},
                     {"p99_us", num(c.p99_us)},
                     {"mean_us", num(c.mean_us)},
                     {"max_us", num(c.max_us)},
                     {"round_p50_us", rounds}});
  }
  return {{"dir", r.dir},         {"filesystem", r.filesystem},   {"rounds", r.rounds}, {"count", r.count},
          {"seconds", r.seconds}, {"interrupted", r.interrupted}, {"cells", cells}};
}

}  // namespace lab
