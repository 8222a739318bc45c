#include "engine/broker.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "engine/errc.h"
#include "engine/logger.h"
#include "wal/format.h"

namespace engine {

log_manager::log_manager(config cfg, std::shared_ptr<wal::file_system> fs)
    : cfg_(std::move(cfg)), fs_(std::move(fs)),
      delay_fs_(std::make_shared<wal::delaying_file_system>(fs_, cfg_.sync_delay)) {}

log_manager::~log_manager() { close(); }

result<std::unique_ptr<log_manager>> log_manager::open(config cfg, const internal_record_fn& internal) {
  return open(std::move(cfg), std::shared_ptr<wal::file_system>(wal::make_posix_file_system()), internal);
}

result<std::unique_ptr<log_manager>> log_manager::open(config cfg, std::shared_ptr<wal::file_system> fs,
                                                       const internal_record_fn& internal) {
  if (cfg.data_dir.empty()) return fail(errc::storage_error, "no data directory configured");
  if (cfg.wal.dir.empty()) cfg.wal.dir = cfg.data_dir + "/wal";
  if (!cfg.now_ms)
    cfg.now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  if (auto r = fs->create_dirs(cfg.data_dir); !r)
    return fail(errc::storage_error, "cannot create the data directory: " + r.error().message());
  auto catalog = load_catalog(*fs, cfg.data_dir);
  if (!catalog) return fail(catalog.error());

  std::unique_ptr<log_manager> m(new log_manager(std::move(cfg), std::move(fs)));
  m->catalog_ = std::move(*catalog);
  for (const auto& rec : m->catalog_.topics) {
    m->topics_.emplace(rec.name, m->make_entry(rec));
    m->names_by_id_.emplace(rec.id, rec.name);
  }

  auto w = wal::write_ahead_log::open(m->cfg_.wal, m->delay_fs_);
  if (!w)
    return fail(errc::storage_error,
                "cannot open the write-ahead log in " + m->cfg_.wal.dir + ": " + w.error().message());
  m->wal_ = std::move(*w);
  if (auto r = m->replay(internal); !r) return fail(r.error());
  return m;
}

result<void> log_manager::replay(const internal_record_fn& internal) {
  std::unordered_map<uint32_t, std::shared_ptr<partition_log>> by_stream;
  for (const auto& [name, t] : topics_)
    for (const auto& p : t->partitions) by_stream.emplace(p->stream(), p);

  uint64_t records = 0;
  uint64_t skipped = 0;
  uint64_t internal_records = 0;
  int64_t max_stream = -1;
  // Copies forward (wal_type_relocation) are held back until the one reaching their end is
  // found; then they replace what was recovered for the partition. Anything else of the
  // partition before that means the copy was interrupted: the originals stand.
  struct held_copy {
    std::vector<std::byte> payload;
    wal::position pos;
  };
  struct relocation {
    relocation_range range;
    int64_t next = -1;  // the base offset the next copy must have; -1 before the first
    std::vector<held_copy> copies;
  };
  std::unordered_map<uint32_t, relocation> relocating;
  uint64_t relocations = 0;
  const auto abandon = [&](uint32_t stream, const char* why) {
    auto it = relocating.find(stream);
    if (it == relocating.end()) return;
    log().warn("stream {}: an interrupted copy of offsets [{}, {}) is ignored ({}); the originals stand", stream,
               it->second.range.log_start, it->second.range.end, why);
    relocating.erase(it);
  };
  const auto visit = [&](const wal::record_view& r) {
    ++records;
    if (is_internal_stream(r.stream)) {
      ++internal_records;
      if (internal) internal(r.stream, r.type, r.payload);
      return;
    }
    max_stream = std::max<int64_t>(max_stream, r.stream);
    auto it = by_stream.find(r.stream);
    if (it == by_stream.end()) {
      ++skipped;  // a deleted topic's partition
      return;
    }
    if (r.type == wal_type_relocation) {
      abandon(r.stream, "another copy began");
      if (auto range = decode_relocation(r.payload)) relocating[r.stream] = relocation{*range, -1, {}};
      else log().error("WAL record lsn {} (stream {}) is not a relocation record; skipping it", r.lsn, r.stream);
      return;
    }
    if (auto rel = relocating.find(r.stream); rel != relocating.end()) {
      auto split = r.type == wal_type_record_batch ? split_batches(r.payload) : result<std::vector<batch_info>>();
      const bool continues = r.type == wal_type_record_batch && split && !split->empty() &&
                             (rel->second.next < 0 || split->front().header.base_offset == rel->second.next);
      if (continues) {
        rel->second.copies.push_back({{r.payload.begin(), r.payload.end()}, r.pos});
        rel->second.next = split->back().header.last_offset() + 1;
        if (rel->second.next < rel->second.range.end) return;
        // Complete: the copies are the partition's log from here on.
        auto& p = it->second;
        const auto& copies = rel->second.copies;
        p->reset_for_relocation(rel->second.range.log_start,
                                split_batches(copies.front().payload)->front().header.base_offset);
        for (const auto& c : copies)
          p->recover(*split_batches(c.payload), c.payload, c.pos, static_cast<uint32_t>(c.payload.size()));
        ++relocations;
        relocating.erase(rel);
        return;
      }
      abandon(r.stream, "the partition's next record is not the next copy");
    }
    if (r.type == wal_type_log_start) {
      if (auto start = decode_log_start(r.payload)) it->second->recover_log_start(*start);
      else log().error("WAL record lsn {} (stream {}) is not a log start record; skipping it", r.lsn, r.stream);
      return;
    }
    if (r.type != wal_type_record_batch) {
      ++skipped;  // a record type this version does not know
      return;
    }
    auto batches = split_batches(r.payload);
    if (!batches || batches->empty()) {
      log().error("WAL record lsn {} (stream {}) does not hold record batches; skipping it", r.lsn, r.stream);
      ++skipped;
      return;
    }
    it->second->recover(*batches, r.payload, r.pos, static_cast<uint32_t>(r.payload.size()));
  };
  // A large log takes a while: say how far recovery has come every 2 s (a service manager and
  // whoever watches the journal see it is moving; /readyz stays 503 until it is done).
  const auto started = std::chrono::steady_clock::now();
  auto progress = [&](uint64_t done, uint64_t total) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (done == total && s < 2) return;  // a small log: the line below says it all
    log().info("recovering the write-ahead log: {:.1f} of {:.1f} MiB ({:.0f} %), {} records, {:.1f} s",
               done / 1048576.0, total / 1048576.0,
               total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, records, s);
  };
  auto visited = wal_->replay(visit, progress, std::chrono::seconds(2));
  if (!visited) return fail(errc::storage_error, "replaying the write-ahead log failed: " + visited.error().message());
  while (!relocating.empty()) abandon(relocating.begin()->first, "the log ends before it does");
  if (relocations > 0) log().info("replay: {} partition(s) read from their copies forward", relocations);
  // A stream id seen in the WAL but beyond the catalog's counter (a catalog that lost its newest
  // generation) must not be handed out again, or its old records would join a new topic.
  if (max_stream >= static_cast<int64_t>(catalog_.next_stream)) {
    log().warn("WAL holds stream {} but the topic catalog would hand it out again; moving the counter past it",
               max_stream);
    catalog_.next_stream = static_cast<uint32_t>(max_stream + 1);
    if (auto r = save_catalog(*fs_, cfg_.data_dir, catalog_); !r) return fail(r.error());
  }
  log().info("opened {}: {} topics, {} WAL records replayed ({} internal, {} skipped)", cfg_.data_dir, topics_.size(),
             records, internal_records, skipped);
  return {};
}

void log_manager::close() {
  {
    std::lock_guard admin(admin_mu_);
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  }
  if (wal_) wal_->close();
  for (auto& p : all_partitions()) p->wake_all();
}

std::shared_ptr<log_manager::topic_entry> log_manager::make_entry(const topic_record& rec) const {
  auto e = std::make_shared<topic_entry>();
  e->info = topic_info{rec.name, rec.id, static_cast<int32_t>(rec.streams.size()), rec.configs};
  e->max_message_bytes = topic_max_message_bytes(rec.configs, cfg_.max_message_bytes);
  e->partitions.reserve(rec.streams.size());
  for (uint32_t s : rec.streams) e->partitions.push_back(std::make_shared<partition_log>(s, partition_opts()));
  return e;
}

result<topic_info> log_manager::create_topic(std::string_view name, int32_t partitions, topic_configs configs) {
  if (!valid_topic_name(name)) return fail(errc::invalid_topic);
  if (partitions < 1 || partitions > max_partitions_per_topic) return fail(errc::invalid_partitions);
  std::lock_guard admin(admin_mu_);
  if (closed_) return fail(errc::shutting_down);
  if (find_entry(name)) return fail(errc::topic_already_exists);

  topic_catalog next = catalog_;
  if (static_cast<uint64_t>(next.next_stream) + static_cast<uint64_t>(partitions) > first_internal_stream) {
    log().error("cannot create topic {}: the WAL's stream ids for partitions are used up", name);
    return fail(errc::invalid_partitions);
  }
  topic_record rec{std::string(name), make_topic_id(), {}, std::move(configs)};
  for (int32_t i = 0; i < partitions; ++i) rec.streams.push_back(next.next_stream++);
  next.topics.push_back(rec);
  if (auto r = save_catalog(*fs_, cfg_.data_dir, next); !r) return fail(r.error());
  catalog_ = std::move(next);

  auto entry = make_entry(rec);
  {
    std::unique_lock lock(topics_mu_);
    topics_.emplace(rec.name, entry);
    names_by_id_.emplace(rec.id, rec.name);
  }
  log().info("created topic {} with {} partitions (streams {}..{})", rec.name, partitions, rec.streams.front(),
             rec.streams.back());
  return entry->info;
}

result<void> log_manager::delete_topic(std::string_view name) {
  std::lock_guard admin(admin_mu_);
  if (closed_) return fail(errc::shutting_down);
  auto entry = find_entry(name);
  if (!entry) return fail(errc::unknown_topic_or_partition);

  topic_catalog next = catalog_;
  std::erase_if(next.topics, [&](const topic_record& t) { return t.name == name; });
  if (auto r = save_catalog(*fs_, cfg_.data_dir, next); !r) return fail(r.error());
  catalog_ = std::move(next);
  {
    std::unique_lock lock(topics_mu_);
    names_by_id_.erase(entry->info.id);
    topics_.erase(topics_.find(name));
  }
  for (auto& p : entry->partitions) p->retire();
  log().info("deleted topic {}", entry->info.name);
  return {};
}

uint32_t topic_max_message_bytes(const topic_configs& configs, uint32_t broker_default) {
  auto it = configs.find("max.message.bytes");
  if (it == configs.end()) return broker_default;
  try {
    const long long v = std::stoll(it->second);
    if (v >= 0 && v <= std::numeric_limits<int32_t>::max()) return static_cast<uint32_t>(v);
  } catch (const std::exception&) {
  }
  return broker_default;
}

result<void> log_manager::replace_topic(topic_catalog next, std::shared_ptr<topic_entry> entry) {
  if (auto r = save_catalog(*fs_, cfg_.data_dir, next); !r) return fail(r.error());
  catalog_ = std::move(next);
  std::unique_lock lock(topics_mu_);
  topics_[entry->info.name] = std::move(entry);
  return {};
}

result<topic_info> log_manager::create_partitions(std::string_view name, int32_t count) {
  std::lock_guard admin(admin_mu_);
  if (closed_) return fail(errc::shutting_down);
  auto old = find_entry(name);
  if (!old) return fail(errc::unknown_topic_or_partition);
  if (count <= old->info.partitions || count > max_partitions_per_topic) return fail(errc::invalid_partitions);
  topic_catalog next = catalog_;
  auto rec =
      std::find_if(next.topics.begin(), next.topics.end(), [&](const topic_record& t) { return t.name == name; });
  if (rec == next.topics.end()) return fail(errc::unknown_topic_or_partition);
  const auto added = static_cast<uint32_t>(count - old->info.partitions);
  if (static_cast<uint64_t>(next.next_stream) + added > first_internal_stream) return fail(errc::invalid_partitions);
  auto entry = std::make_shared<topic_entry>(*old);
  for (uint32_t i = 0; i < added; ++i) {
    rec->streams.push_back(next.next_stream);
    entry->partitions.push_back(std::make_shared<partition_log>(next.next_stream++, partition_opts()));
  }
  entry->info.partitions = count;
  if (auto r = replace_topic(std::move(next), entry); !r) return fail(r.error());
  log().info("topic {} grew from {} to {} partitions", entry->info.name, old->info.partitions, count);
  return entry->info;
}

result<topic_info> log_manager::set_topic_configs(std::string_view name, topic_configs configs) {
  std::lock_guard admin(admin_mu_);
  if (closed_) return fail(errc::shutting_down);
  auto old = find_entry(name);
  if (!old) return fail(errc::unknown_topic_or_partition);
  topic_catalog next = catalog_;
  auto rec =
      std::find_if(next.topics.begin(), next.topics.end(), [&](const topic_record& t) { return t.name == name; });
  if (rec == next.topics.end()) return fail(errc::unknown_topic_or_partition);
  rec->configs = configs;
  auto entry = std::make_shared<topic_entry>(*old);
  entry->max_message_bytes = topic_max_message_bytes(configs, cfg_.max_message_bytes);
  entry->info.configs = std::move(configs);
  if (auto r = replace_topic(std::move(next), entry); !r) return fail(r.error());
  log().info("topic {}: configs changed", entry->info.name);
  return entry->info;
}

log_manager::dynamic_broker_configs log_manager::broker_configs() const {
  std::lock_guard admin(admin_mu_);
  return {catalog_.broker_configs, catalog_.cluster_configs};
}

result<void> log_manager::set_broker_configs(const dynamic_broker_configs& configs) {
  std::lock_guard admin(admin_mu_);
  if (closed_) return fail(errc::shutting_down);
  topic_catalog next = catalog_;
  next.broker_configs = configs.broker;
  next.cluster_configs = configs.cluster_default;
  if (auto r = save_catalog(*fs_, cfg_.data_dir, next); !r) return fail(r.error());
  catalog_ = std::move(next);
  log().info("broker configs changed: {} for this broker, {} for the cluster default", configs.broker.size(),
             configs.cluster_default.size());
  return {};
}

void log_manager::delete_records(std::string_view topic, int32_t partition, int64_t offset,
                                 std::function<void(const result<int64_t>&)> done) {
  auto p = find_partition(topic, partition);
  if (!p) return done(fail(p.error()));
  (*p)->write_log_start(*wal_, offset, std::move(done));
}

result<void> log_manager::write_log_starts(
    const std::vector<std::pair<std::shared_ptr<partition_log>, int64_t>>& parts) {
  struct waiter {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
    util::error first;
  };
  auto w = std::make_shared<waiter>();
  w->left = parts.size();
  for (const auto& [p, offset] : parts)
    p->write_log_start(*wal_, offset, [w](const result<int64_t>& r) {
      std::lock_guard lock(w->mu);
      if (!r && !w->first) w->first = r.error();
      if (--w->left == 0) w->cv.notify_all();
    });
  std::unique_lock lock(w->mu);
  w->cv.wait(lock, [&] { return w->left == 0; });
  if (w->first) return fail(w->first);
  return {};
}

result<log_manager::retention_report> log_manager::enforce_retention(
    int64_t now_ms, const std::function<retention_policy(const topic_info&)>& policy, const restate_fn& restate) {
  std::lock_guard serial(retention_mu_);
  if (closed_) return fail(errc::shutting_down);
  retention_report out;
  std::vector<std::shared_ptr<const topic_entry>> entries;
  {
    std::shared_lock lock(topics_mu_);
    for (const auto& [name, e] : topics_) entries.push_back(e);
  }
  // 1. Every partition's log start, as its topic's retention asks.
  std::vector<std::pair<std::shared_ptr<partition_log>, int64_t>> moves;
  for (const auto& e : entries) {
    const retention_policy r = policy(e->info);
    if (r.retention_ms < 0 && r.retention_bytes < 0) continue;
    for (const auto& p : e->partitions) {
      const int64_t target = p->retention_start(now_ms, r.retention_ms, r.retention_bytes);
      if (target > p->state().log_start_offset) moves.emplace_back(p, target);
    }
  }
  if (!moves.empty()) {
    if (auto r = write_log_starts(moves); !r) return fail(r.error());
    out.partitions_moved = moves.size();
  }
  // 2. Copy forward the partitions that pin old segments, when that frees at least twice what
  // it copies (docs/wal-format.md, "Reclaiming space").
  if (auto r = relocate_pinning(entries, out); !r) return fail(r.error());
  // 3. The oldest segment anything live is in. Deleted topics' partitions are not in the table:
  // their batches are dead.
  auto segments = wal_->segments();
  uint64_t keep_from = segments.empty() ? 0 : segments.back().first_lsn;  // the active segment stays
  std::vector<std::pair<std::shared_ptr<partition_log>, int64_t>> restates;
  for (const auto& e : entries)
    for (const auto& p : e->partitions) {
      if (auto seg = p->first_live_segment()) keep_from = std::min(keep_from, *seg);
      // Restated as it stands (never -1, which asks for the high watermark).
      if (const int64_t start = p->state().log_start_offset; start > 0) restates.emplace_back(p, start);
    }
  size_t removable = 0;
  for (size_t i = 0; i + 1 < segments.size() && segments[i + 1].first_lsn <= keep_from; ++i) ++removable;
  if (removable > 0) {
    // 4. What the removed segments held that is still needed, once more at the head of the log:
    // each partition's log start, and the coordinators' state.
    if (auto r = write_log_starts(restates); !r) return fail(r.error());
    if (restate)
      if (auto r = restate(); !r) return fail(r.error());
    auto removed = wal_->remove_segments_before(keep_from);
    if (!removed) return fail(errc::storage_error, removed.error().message());
    out.bytes_removed = *removed;
    out.segments_removed = segments.size() - wal_->segments().size();
    log().debug("retention: removed {} WAL segment(s), {:.1f} MiB", out.segments_removed,
                static_cast<double>(*removed) / 1048576.0);
  }
  for (const auto& s : wal_->segments()) out.wal_bytes += s.bytes;
  return out;
}

result<void> log_manager::relocate_pinning(const std::vector<std::shared_ptr<const topic_entry>>& entries,
                                           retention_report& out) {
  const auto segments = wal_->segments();
  if (segments.size() < 2) return {};
  struct live {
    std::shared_ptr<partition_log> p;
    uint64_t first_segment;
    uint64_t bytes;
  };
  std::vector<live> lives;
  for (const auto& e : entries)
    for (const auto& p : e->partitions)
      if (auto seg = p->first_live_segment()) lives.push_back({p, *seg, p->size_bytes()});
  // Removing the sealed segments before segment k frees their bytes and costs a copy of every
  // partition with a batch in them (copied whole, so that its log stays in offset order). The
  // k that gains most, among those that free at least twice what they copy; nothing when
  // removal alone (no partition pins) frees as much.
  uint64_t target = 0;
  uint64_t best_gain = 0;
  uint64_t freed = 0;
  for (size_t k = 1; k < segments.size(); ++k) {
    freed += segments[k - 1].bytes;
    const uint64_t until = segments[k].first_lsn;
    uint64_t cost = 0;
    for (const auto& l : lives)
      if (l.first_segment < until) cost += l.bytes;
    if (2 * cost > freed) continue;
    if (freed - cost > best_gain) {
      best_gain = freed - cost;
      target = cost == 0 ? 0 : until;
    }
  }
  if (target == 0) return {};
  struct waiter {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
    size_t busy = 0;
    uint64_t bytes = 0;
    util::error first;
  };
  auto w = std::make_shared<waiter>();
  std::vector<std::shared_ptr<partition_log>> pinning;
  for (const auto& l : lives)
    if (l.first_segment < target) pinning.push_back(l.p);
  w->left = pinning.size();
  for (const auto& p : pinning)
    p->relocate(*wal_, [w](const result<uint64_t>& r) {
      std::lock_guard lock(w->mu);
      if (r) w->bytes += *r;
      else if (r.error() == errc::busy) ++w->busy;
      else if (!w->first) w->first = r.error();
      if (--w->left == 0) w->cv.notify_all();
    });
  std::unique_lock lock(w->mu);
  w->cv.wait(lock, [&] { return w->left == 0; });
  if (w->first) return fail(w->first);
  out.partitions_relocated = pinning.size() - w->busy;
  out.bytes_relocated = w->bytes;
  if (w->busy)
    log().debug("retention: {} partition(s) changed while being copied forward; the next pass tries again", w->busy);
  return {};
}

result<topic_info> log_manager::ensure_topic(std::string_view name) {
  if (auto e = find_entry(name)) return e->info;
  if (!cfg_.auto_create) return fail(errc::unknown_topic_or_partition);
  auto created = create_topic(name, cfg_.default_partitions);
  if (!created && created.error() == errc::topic_already_exists)
    if (auto e = find_entry(name)) return e->info;  // another thread created it first
  return created;
}

std::optional<topic_info> log_manager::find_topic(std::string_view name) const {
  if (auto e = find_entry(name)) return e->info;
  return std::nullopt;
}

std::optional<topic_info> log_manager::find_topic(const topic_id& id) const {
  std::shared_lock lock(topics_mu_);
  auto n = names_by_id_.find(id);
  if (n == names_by_id_.end()) return std::nullopt;
  auto it = topics_.find(n->second);
  if (it == topics_.end()) return std::nullopt;
  return it->second->info;
}

std::vector<topic_info> log_manager::list_topics() const {
  std::vector<topic_info> out;
  {
    std::shared_lock lock(topics_mu_);
    out.reserve(topics_.size());
    for (const auto& [name, e] : topics_) out.push_back(e->info);
  }
  std::sort(out.begin(), out.end(), [](const topic_info& a, const topic_info& b) { return a.name < b.name; });
  return out;
}

result<partition_state> log_manager::state_of(std::string_view topic, int32_t partition) const {
  auto p = find_partition(topic, partition);
  if (!p) return fail(p.error());
  return (*p)->state();
}

std::shared_ptr<const log_manager::topic_entry> log_manager::find_entry(std::string_view name) const {
  std::shared_lock lock(topics_mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

result<std::shared_ptr<partition_log>> log_manager::find_partition(std::string_view topic, int32_t partition) const {
  auto e = find_entry(topic);
  if (!e || partition < 0 || static_cast<size_t>(partition) >= e->partitions.size())
    return fail(errc::unknown_topic_or_partition);
  return e->partitions[static_cast<size_t>(partition)];
}

void log_manager::produce(std::string_view topic, int32_t partition, std::shared_ptr<void> owner,
                          std::span<std::byte> records, produce_callback done) {
  auto e = find_entry(topic);
  if (!e || partition < 0 || static_cast<size_t>(partition) >= e->partitions.size())
    return done(fail(errc::unknown_topic_or_partition));
  const auto& p = e->partitions[static_cast<size_t>(partition)];

  auto batches = validate_batches(records);
  if (!batches) {
    log().debug("refused produce to {}-{}: {}", topic, partition, batches.error().message());
    return done(fail(batches.error()));
  }
  for (const auto& b : *batches) {
    if (b.size() > e->max_message_bytes) {
      log().debug("refused produce to {}-{}: a {}-byte batch exceeds max.message.bytes {}", topic, partition, b.size(),
                  e->max_message_bytes);
      return done(fail(errc::message_too_large));
    }
    if (b.header.record_count == 0) {
      log().debug("refused produce to {}-{}: a batch without records", topic, partition);
      return done(fail(errc::corrupt_message));
    }
    // Kafka's rules for what a client may send: markers come from the transaction coordinator
    // only; an idempotent or transactional batch has a sequence and travels alone.
    const char* invalid = nullptr;
    if (b.header.control()) invalid = "a control batch (transaction marker) from a client";
    else if (b.header.transactional() && b.header.producer_id < 0)
      invalid = "a transactional batch without a producer id";
    else if (b.header.producer_id >= 0 && b.header.base_sequence < 0)
      invalid = "a producer id without a sequence number";
    else if (b.header.producer_id >= 0 && batches->size() > 1)
      invalid = "more than one batch from an idempotent producer in one partition";
    if (invalid) {
      log().debug("refused produce to {}-{}: {}", topic, partition, invalid);
      return done(fail(errc::invalid_record));
    }
  }
  p->append(*wal_, records, *batches, std::move(owner), std::move(done));
}

uint64_t log_manager::log_bytes(size_t batch_bytes) { return batch_bytes + wal::format::record_header_size; }

log_manager::storage_health log_manager::storage() const {
  auto h = wal_->health();
  return {h ? std::string() : h.error().message(), wal_->cut_back_done()};
}

void log_manager::set_group_observer(std::function<void(const synced_group&)> observer) {
  // The delay the decorator added since the previous group belongs to this one: one group is
  // committed at a time, and the observer runs on its committing thread right after its syncs.
  auto last_added = std::make_shared<std::chrono::nanoseconds>(delay_fs_->added());
  wal_->set_observer([fs = delay_fs_, last_added, observer = std::move(observer)](const wal::group_stats& g) {
    const auto added = fs->added();
    // Never more than the group waited: a delay added to a failed group's syncs is not this one's.
    synced_group s{g, std::min(added - *last_added, g.sync)};
    *last_added = added;
    s.group.sync -= s.simulated_delay;
    observer(s);
  });
}

void log_manager::append_internal(uint32_t stream, uint8_t type, std::vector<std::byte> payload,
                                  internal_done_fn done) {
  assert(is_internal_stream(stream));
  auto owner = std::make_shared<std::vector<std::byte>>(std::move(payload));
  std::span<const std::byte> bytes(*owner);
  auto d = std::make_shared<internal_done_fn>(std::move(done));
  auto queued = wal_->append(stream, type, wal::payload{owner, bytes}, [d](const wal::result<wal::appended>& r) {
    (*d)(r ? std::error_code() : from_wal_error(r.error()).code());
  });
  if (!queued) (*d)(from_wal_error(queued.error()).code());
}

result<fetch_result> log_manager::fetch(std::string_view topic, int32_t partition, int64_t offset, size_t max_bytes,
                                        bool read_committed) const {
  auto p = find_partition(topic, partition);
  if (!p) return fail(p.error());
  return (*p)->read(*wal_, offset, max_bytes, read_committed);
}

result<offset_at_time> log_manager::list_offsets(std::string_view topic, int32_t partition, int64_t timestamp,
                                                 bool read_committed) const {
  auto p = find_partition(topic, partition);
  if (!p) return fail(p.error());
  return (*p)->offset_for_timestamp(timestamp, read_committed);
}

void log_manager::write_marker(std::string_view topic, int32_t partition, int64_t producer_id, int16_t epoch,
                               bool commit, int32_t coordinator_epoch,
                               std::function<void(const result<int64_t>&)> done) {
  auto p = find_partition(topic, partition);
  if (!p) return done(fail(p.error()));
  (*p)->append_marker(*wal_, producer_id, epoch, commit, coordinator_epoch, std::move(done));
}

result<std::vector<producer_view>> log_manager::producers(std::string_view topic, int32_t partition) const {
  auto p = find_partition(topic, partition);
  if (!p) return fail(p.error());
  return (*p)->producers();
}

std::vector<std::shared_ptr<partition_log>> log_manager::all_partitions() const {
  std::vector<std::shared_ptr<partition_log>> all;
  std::shared_lock lock(topics_mu_);
  for (const auto& [name, t] : topics_) all.insert(all.end(), t->partitions.begin(), t->partitions.end());
  return all;
}

void log_manager::expire_producers() {
  for (auto& p : all_partitions()) p->expire_producers();
}

std::pair<size_t, size_t> log_manager::producer_totals() const {
  std::pair<size_t, size_t> out;
  for (auto& p : all_partitions()) {
    auto st = p->state();
    out.first += st.producers;
    out.second += st.open_transactions;
  }
  return out;
}

result<wait_handle> log_manager::wait_for_data(std::string_view topic, int32_t partition, int64_t offset,
                                               wake_fn wake) {
  if (closed_.load(std::memory_order_acquire)) return fail(errc::shutting_down);
  auto p = find_partition(topic, partition);
  if (!p) return fail(p.error());
  return (*p)->wait(offset, std::move(wake));
}

bool log_manager::cancel_wait(const wait_handle& h) {
  if (!h) return false;
  auto p = h.log.lock();
  return p && p->cancel(h.id);
}

}  // namespace engine
