#include "experiments/lab/experiment_bound.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "experiments/lab/experiment_output.h"

namespace lab::experiment {
namespace {

constexpr double unknown_group_bytes = 4096;  // a page: what one small group writes

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

using load_key = std::tuple<int, int, int>;  // message size, producers, concurrency

}  // namespace

disk_probe_config runner_probe_config(const std::string& dir) {
  disk_probe_config c;
  c.dir = dir;
  c.modes = {disk_mode::append, disk_mode::overwrite};
  c.rounds = 3;
  c.count = 200;
  return c;
}

double probed_sync_us(const disk_yardstick& d, double bytes, size_t* size_used) {
  std::vector<double> p50s;
  size_t used = 0;
  for (const auto* probe : {&d.start, &d.end}) {
    if (!*probe) continue;
    // The smallest probed size that holds the group, else the largest probed.
    const disk_probe_cell* best = nullptr;
    const disk_probe_cell* largest = nullptr;
    for (auto& c : (*probe)->cells) {
      if (c.mode != disk_mode::overwrite || !c.supported || c.samples == 0) continue;
      if (!largest || c.size > largest->size) largest = &c;
      if (static_cast<double>(c.size) >= bytes && (!best || c.size < best->size)) best = &c;
    }
    if (!best) best = largest;
    if (!best) continue;
    p50s.push_back(best->p50_us);
    used = best->size;
  }
  if (size_used) *size_used = used;
  if (p50s.empty()) return NAN;
  double sum = 0;
  for (double v : p50s) sum += v;
  return sum / static_cast<double>(p50s.size());
}

void fill_bounds(const spec& s, std::vector<point_result>& rows, const std::vector<disk_yardstick>& disks) {
  const bool has_mock = std::any_of(s.targets.begin(), s.targets.end(), [](auto& t) { return t.mock; });
  std::map<load_key, std::vector<double>> mock_p50;
  for (auto& r : rows)
    if (r.mock && r.status == "ok" && !r.pt.rate && !s.phased())
      mock_p50[{r.pt.message_size, r.pt.producers, r.pt.concurrency}].push_back(r.bench.latency.p50);

  for (auto& r : rows) {
    auto& b = r.bound;
    b = point_bound{};
    if (r.mock) {
      b.note = "the mock is the yardstick's R";
      continue;
    }
    // F: the disk this point's data was on, at the bytes of its groups.
    const std::string root = on_tmpfs(r.pt.storage) ? tmpfs_storage : "native";
    const disk_yardstick* disk = nullptr;
    for (auto& d : disks)
      if (d.root == root) disk = &d;
    b.bytes_per_group = r.server.bytes_per_group;
    if (!(b.bytes_per_group > 0)) b.bytes_per_group = r.server.records_per_group * r.pt.message_size;
    std::string notes;
    if (!(b.bytes_per_group > 0)) {
      b.bytes_per_group = NAN;
      notes = "bytes per group unknown: 4 KiB assumed; ";
    }
    b.f_probe_us =
        disk ? probed_sync_us(*disk, std::isnan(b.bytes_per_group) ? unknown_group_bytes : b.bytes_per_group, &b.f_size)
             : NAN;
    // The runner set the delay; the server's gauge is the fallback for a value the lab cannot read.
    double delay_ms = configured_sync_delay_ms(r.pt.storage);
    if (std::isnan(delay_ms)) delay_ms = r.server.simulated_delay_ms;
    b.f_delay_us = delay_ms * 1e3;
    b.f_us = b.f_probe_us + b.f_delay_us;

    auto empty = [&](const std::string& why) { b.note = notes + why; };
    if (r.status != "ok") {
      empty("the point failed");
      continue;
    }
    if (s.phased()) {
      empty("phased: the load or the storage changes during the point");
      continue;
    }
    if (r.pt.rate) {
      empty("open loop: the bound is that of a closed loop");
      continue;
    }
    if (std::isnan(b.f_probe_us)) {
      empty("no disk probe of " + root + (disk && !disk->error.empty() ? " (" + disk->error + ")" : ""));
      continue;
    }
    if (!has_mock) {
      empty("no mock target in this experiment: R unknown, no bound");
      continue;
    }
    auto it = mock_p50.find({r.pt.message_size, r.pt.producers, r.pt.concurrency});
    if (it == mock_p50.end()) {
      empty("no finished mock point at this load: R unknown, no bound");
      continue;
    }
    b.r_us = median(it->second);  // over the mock's repetitions
    const double c = static_cast<double>(r.pt.producers) * r.pt.concurrency;
    b.bound_msgs_per_sec = c / ((b.r_us + b.f_us) / 1e6);
    b.fraction_of_bound = r.bench.msgs_per_sec / b.bound_msgs_per_sec;
    if (r.pt.concurrency == 1) b.p50_target_us = b.r_us + b.f_us;
    b.note = notes;
    if (!b.note.empty()) b.note.resize(b.note.size() - 2);  // the trailing "; "
  }
}

}  // namespace lab::experiment
