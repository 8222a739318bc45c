#include "server/app.h"

#include <sys/resource.h>

#include <csignal>
#include <map>
#include <thread>
#include <tuple>
#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include "engine/broker.h"
#include "engine/produce_pipeline.h"
#include "server/admin/http_server.h"
#include "server/data_dir_lock.h"
#include "server/kafka/answer_batch.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/server.h"
#include "server/metrics.h"
#include "server/retention.h"
#include "server/service.h"
#include "server/tuning.h"

namespace asio = boost::asio;

namespace server {
namespace {

// Consumer lag per group and partition, from the coordinator's committed offsets and the
// partitions' high watermarks, at scrape time.
void refresh_group_gauges(metrics::registry& probes, kafka::coordinator_service& coordinators,
                          engine::log_manager& eng) {
  auto [stats, offsets, txns] =
      coordinators.query([](const engine::group_coordinator& c, const engine::txn_coordinator& t) {
        return std::tuple(c.stats(), c.committed_offsets(), t.count_by_state());
      });
  probes.txn.refresh(txns, eng.producer_totals());
  auto& probe = probes.groups;
  std::vector<metrics::lag_row> rows;
  rows.reserve(offsets.size());
  for (auto& o : offsets) {
    auto st = eng.state_of(o.tp.topic, o.tp.partition);
    if (!st) continue;
    rows.push_back({std::move(o.group), std::move(o.tp.topic), o.tp.partition, o.offset, st->high_watermark});
  }
  probe.refresh(stats, rows);
}

// The admin API's view of the consumer groups: state, members, and lag per committed partition.
nlohmann::json groups_json(kafka::coordinator_service& coordinators, engine::log_manager& eng) {
  struct row {
    engine::group_overview overview;
    size_t members = 0;
  };
  auto [groups, offsets] = coordinators.query([](const engine::group_coordinator& c, const engine::txn_coordinator&) {
    std::vector<row> rows;
    for (auto& g : c.list({})) {
      const size_t members = c.describe(g.group_id).members.size();
      rows.push_back({std::move(g), members});
    }
    return std::pair(std::move(rows), c.committed_offsets());
  });
  std::map<std::string, nlohmann::json> by_group;
  for (const auto& r : groups)
    by_group[r.overview.group_id] = {{"group_id", r.overview.group_id},
                                     {"state", std::string(engine::to_string(r.overview.state))},
                                     {"protocol_type", r.overview.protocol_type},
                                     {"members", r.members},
                                     {"lag", 0},
                                     {"partitions", nlohmann::json::array()}};
  for (const auto& o : offsets) {
    auto it = by_group.find(o.group);
    if (it == by_group.end()) continue;
    auto st = eng.state_of(o.tp.topic, o.tp.partition);
    if (!st) continue;
    const int64_t lag = std::max<int64_t>(0, st->high_watermark - o.offset);
    it->second["partitions"].push_back({{"topic", o.tp.topic},
                                        {"partition", o.tp.partition},
                                        {"committed", o.offset},
                                        {"high_watermark", st->high_watermark},
                                        {"lag", lag}});
    it->second["lag"] = it->second["lag"].get<int64_t>() + lag;
  }
  nlohmann::json out = {{"groups", nlohmann::json::array()}};
  for (auto& [id, g] : by_group) out["groups"].push_back(std::move(g));
  return out;
}

// Every connection is a file descriptor: the soft limit (often 1024) would cap clients long
// before --max-connections does. Raised to the hard limit, as servers commonly do.
void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const auto soft = lim.rlim_cur;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) lim.rlim_cur = soft;
  }
  spdlog::info("file descriptor limit {} (was {}, hard limit {})", lim.rlim_cur, soft, lim.rlim_max);
}

// What every process of the broker sets before it opens anything.
void prepare_process(const serve_config& config) {
  set_log_format(config.log_format);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::info("kairo starting: data in {}, {} io threads", config.data_dir, config.io_threads);
  raise_fd_limit();
  // A write past RLIMIT_FSIZE then fails with EFBIG, a storage failure the log handles like a
  // full disk, instead of the signal killing the broker (and every reader with it).
  std::signal(SIGXFSZ, SIG_IGN);
}

engine::config engine_config(const serve_config& config) {
  engine::config c;
  c.data_dir = config.data_dir;
  c.default_partitions = config.default_partitions;
  c.auto_create = config.auto_create_topics;
  c.max_message_bytes = config.max_message_bytes;
  c.producer_id_expiration_ms = config.producer_id_expiration_ms;
  c.sync_delay = config.simulated_sync_delay;
  c.wal.preallocate = config.wal_preallocate;
  c.wal.segment_bytes = config.wal_segment_bytes;
  return c;
}

void log_produce_settings(const serve_config& config, engine::profile prof, const engine::produce_policy& pol) {
  spdlog::info("produce profile {}: min_batches={} linger={}ms buffer={} bytes", engine::to_string(prof),
               pol.min_batches, std::chrono::duration<double, std::milli>(pol.linger).count(), pol.buffer_bytes);
  const auto& d = config.simulated_sync_delay;
  if (d.enabled())
    spdlog::warn("EXPERIMENT ONLY: simulated sync delay '{}' ({} ms mean, ±{}%) is added after every fdatasync",
                 config.storage_class, std::chrono::duration<double, std::milli>(d.mean).count(), d.jitter * 100);
}

// The Kafka listener's threads: one io_context each, so a connection's handlers never run
// concurrently with each other.
class io_pool {
 public:
  explicit io_pool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i) {
      owned_.push_back(std::make_unique<asio::io_context>(1));
      contexts_.push_back(owned_.back().get());
    }
  }
  const std::vector<asio::io_context*>& contexts() const { return contexts_; }
  void start() {
    for (auto* c : contexts_) guards_.push_back(asio::make_work_guard(*c));
    for (auto* c : contexts_) threads_.emplace_back([c] { c->run(); });
  }
  void stop() {
    guards_.clear();
    for (auto* c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>> owned_;
  std::vector<asio::io_context*> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

// Runs `tick` every `period` on `ctx` until the context stops.
void every(asio::steady_timer& timer, std::chrono::milliseconds period, std::function<void()> tick) {
  timer.expires_after(period);
  timer.async_wait([&timer, period, tick = std::move(tick)](const boost::system::error_code& ec) mutable {
    if (ec) return;
    tick();
    every(timer, period, std::move(tick));
  });
}

}  // namespace

int run_serve(const serve_config& config) {
  prepare_process(config);
  std::unique_ptr<data_dir_lock> lock;
  try {
    lock = data_dir_lock::acquire(config.data_dir);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }

  // Storage first: the coordinators are loaded from the group and transaction records the WAL
  // replays.
  kafka::coordinator_service coordinators(config.groups, config.txns);
  auto opened = engine::log_manager::open(engine_config(config), coordinators.loader());
  if (!opened) {
    spdlog::critical("kairo cannot start: {}", opened.error().message());
    return 1;
  }
  auto& eng = **opened;
  coordinators.start(eng);

  // The produce path: its policy, and what every synced group reports (on the thread committing the WAL group).
  metrics::registry probes;
  auto [prof, pol] = config.initial_policy();
  engine::produce_pipeline pipeline(eng, prof, pol);
  log_produce_settings(config, prof, pol);
  tuning_feed feed;
  eng.set_group_observer([&probes, &feed](const engine::synced_group& g) {
    feed.add(g);
    probes.observe(g);
  });
  eng.set_group_hooks(&kafka::answer_batch::hold, &kafka::answer_batch::flush);  // one post per io thread per group

  // The Kafka listener.
  io_pool io(config.io_threads);
  asio::thread_pool blocking(2);
  kafka::partial_frames frames(config.max_buffered_request_bytes);
  kafka::live_defaults defaults(config, eng.broker_configs());  // with the changes kept from before
  kafka::broker_context broker{eng, config, blocking, pipeline, probes, &feed, &coordinators, &frames, &defaults};
  kafka::kafka_server kafka_listener(broker, io.contexts());
  try {
    kafka_listener.start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  io.start();
  // One shutdown for every way out once connections may exist: no new connections and no new
  // requests; the coordinators take in what they were handed (so their writes are queued); every
  // queued sync finishes and is answered (group commits included, then parked JoinGroup/SyncGroup
  // get NOT_COORDINATOR); then connections close and the threads end.
  retention_task retention(eng, defaults, coordinators,
                           std::chrono::milliseconds(config.log_retention_check_interval_ms));
  retention.start();
  auto shut_down = [&] {
    retention.stop();
    kafka_listener.stop_accepting();
    kafka_listener.stop_reading();
    coordinators.query([](const engine::group_coordinator&, const engine::txn_coordinator&) { return 0; });
    eng.close();
    coordinators.stop();
    kafka_listener.drain_and_close(std::chrono::seconds(3));
    io.stop();
    blocking.join();
  };

  // The control thread (this one): signals, the admin API and the tuner, never the data path.
  asio::io_context control;
  std::atomic<bool> ready{false};
  tuning_loop tuning(pipeline, feed, *probes.prom);
  auto refresh_gauges = [&] {
    probes.refresh(pipeline, eng);
    refresh_group_gauges(probes, coordinators, eng);
    probes.kafka.partial_frame_bytes.Set(static_cast<double>(frames.held()));
    probes.kafka.partial_frame_peak_bytes.Set(static_cast<double>(frames.peak()));
  };
  admin::context admin_ctx{probes,
                           pipeline,
                           eng,
                           ready,
                           config,
                           std::chrono::steady_clock::now(),
                           refresh_gauges,
                           [&tuning] { return tuning.status(); },
                           [&] { return groups_json(coordinators, eng); },
                           [&](const std::string& topic) {
                             coordinators.run([topic](engine::group_coordinator& c, const engine::coordinator_time&) {
                               c.topic_deleted(topic);
                             });
                           }};
  admin::http_server admin_http(control, admin_ctx);
  try {
    admin_http.start(config.admin_listen);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    shut_down();
    return 1;
  }
  asio::signal_set signals(control, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) spdlog::info("received signal {}, shutting down", signo);
    control.stop();
  });
  asio::steady_timer tuner_timer(control);
  every(tuner_timer, std::chrono::milliseconds(100), [&] { tuning.tick(std::chrono::steady_clock::now()); });

  ready = true;
  spdlog::info("kairo ready");
  notify_service_manager("READY=1\nSTATUS=serving Kafka on " + config.listen.to_string());
  control.run();
  ready = false;
  notify_service_manager("STOPPING=1");
  admin_http.stop();
  shut_down();
  spdlog::info("kairo stopped cleanly");
  return 0;
}

}  // namespace server
