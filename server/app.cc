#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include "server/app.h"

#include <sys/resource.h>

#include <csignal>
#include <thread>
#include <tuple>

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
#include "server/kafka/broker_context.h"
#include "server/kafka/server.h"
#include "server/metrics.h"
#include "server/tuning.h"

namespace asio = boost::asio;

namespace server {
namespace {

// Consumer lag per group and partition, from the coordinator's committed offsets and the
// partitions' high watermarks, at scrape time.
void refresh_group_gauges(metrics::registry& probes, kafka::coordinator_service& coordinators,
                          engine::log_manager& eng) {
  auto [stats, offsets, txns] = coordinators.query([](const engine::group_coordinator& c,
                                                      const engine::txn_coordinator& t) {
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

}  // namespace

int run_serve(const serve_config& config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::info("kairo starting: data in {}, {} io threads", config.data_dir, config.io_threads);
  raise_fd_limit();
  // A write past RLIMIT_FSIZE then fails with EFBIG, a storage failure the log handles like a
  // full disk, instead of the signal killing the broker (and every reader with it).
  std::signal(SIGXFSZ, SIG_IGN);

  std::unique_ptr<data_dir_lock> lock;
  try {
    lock = data_dir_lock::acquire(config.data_dir);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }

  engine::config ecfg;
  ecfg.data_dir = config.data_dir;
  ecfg.default_partitions = config.default_partitions;
  ecfg.auto_create = config.auto_create_topics;
  ecfg.max_message_bytes = config.max_message_bytes;
  // The coordinators are loaded from the group and transaction records the WAL replays.
  kafka::coordinator_service coordinators(config.groups, config.txns);
  ecfg.producer_id_expiration_ms = config.producer_id_expiration_ms;
  auto opened = engine::log_manager::open(ecfg, std::shared_ptr<wal::file_system>(wal::make_posix_file_system()),
                                          coordinators.loader());
  if (!opened) {
    spdlog::critical("kairo cannot start: the data directory {} could not be opened (the error above names the "
                     "file, the operation and the cause)",
                     config.data_dir);
    return 1;
  }
  auto& eng = **opened;
  coordinators.start(eng);

  metrics::registry probes;
  auto [prof, pol] = config.initial_policy();
  engine::produce_pipeline pipeline(eng.wal(), prof, pol, config.simulated_sync_delay);
  spdlog::info("produce profile {}: min_batches={} linger={}ms buffer={} bytes", engine::to_string(prof),
               pol.min_batches, std::chrono::duration<double, std::milli>(pol.linger).count(), pol.buffer_bytes);
  if (config.simulated_sync_delay.enabled())
    spdlog::warn("EXPERIMENT ONLY: simulated sync delay '{}' ({} ms mean, ±{}%) is added after every fdatasync",
                 config.storage_class, std::chrono::duration<double, std::milli>(config.simulated_sync_delay.mean).count(),
                 config.simulated_sync_delay.jitter * 100);

  // Every synced group feeds the metrics (and, from the tuner issue on, the controller). Runs on
  // the WAL's sync thread: counters and histograms only.
  tuning_feed feed;
  eng.wal().set_observer([&probes, &feed](const wal::group_stats& g) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    feed.add(tuner::group_sample{now, static_cast<uint32_t>(g.records), g.bytes, g.sync + g.simulated_delay, g.write,
                                 g.oldest_wait, g.idle_before});
    auto& p = probes.pipeline;
    auto& w = probes.wal;
    p.flushes[static_cast<size_t>(g.reason)]->Increment();
    p.flushed_batches.Increment(static_cast<double>(g.records));
    p.batches_per_flush.Observe(static_cast<double>(g.records));
    p.flush_wait.Observe(std::chrono::duration<double>(g.oldest_wait).count());
    w.groups.Increment();
    w.records.Increment(static_cast<double>(g.records));
    w.bytes.Increment(static_cast<double>(g.bytes));
    w.group_records.Observe(static_cast<double>(g.records));
    w.group_bytes.Observe(static_cast<double>(g.bytes));
    w.write_duration.Observe(std::chrono::duration<double>(g.write).count());
    // In overlap mode one sync covers several groups and each reports it: count it once.
    w.sync_duration.Observe(std::chrono::duration<double>(g.sync).count());
  });

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::io_context*> raw;
  for (unsigned i = 0; i < config.io_threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    raw.push_back(contexts.back().get());
  }
  asio::thread_pool blocking(2);
  kafka::partial_frames frames(config.max_buffered_request_bytes);
  kafka::broker_context broker{eng, config, blocking, pipeline, probes, &feed, &coordinators, &frames};
  kafka::kafka_server kafka_listener(broker, raw);
  try {
    kafka_listener.start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto* c : raw) guards.push_back(asio::make_work_guard(*c));
  std::vector<std::thread> io_threads;
  for (auto* c : raw) io_threads.emplace_back([c] { c->run(); });

  // The control context runs on the main thread: signals, the admin API and (later) the tuner.
  asio::io_context control;
  std::atomic<bool> ready{false};
  admin::context admin_ctx{probes, pipeline, eng, ready, config, std::chrono::steady_clock::now(),
                           [&] {
                             auto& p = probes.pipeline;
                             auto st = pipeline.current();
                             p.pending_batches.Set(static_cast<double>(eng.wal().queued_records()));
                             p.pending_bytes.Set(static_cast<double>(eng.wal().queued_bytes()));
                             probes.wal.queue_records.Set(static_cast<double>(eng.wal().queued_records()));
                             probes.wal.queue_bytes.Set(static_cast<double>(eng.wal().queued_bytes()));
                             p.min_batches.Set(st.policy.min_batches);
                             p.linger_seconds.Set(std::chrono::duration<double>(st.policy.linger).count());
                             p.buffer_bytes.Set(static_cast<double>(st.policy.buffer_bytes));
                             p.memory_used_bytes.Set(static_cast<double>(pipeline.budget().used()));
                             p.memory_peak_bytes.Set(static_cast<double>(pipeline.budget().peak()));
                             p.memory_capacity_bytes.Set(static_cast<double>(pipeline.budget().capacity()));
                             p.memory_waiters.Set(static_cast<double>(pipeline.budget().waiting()));
                             for (auto q : {engine::profile::low_latency, engine::profile::balanced,
                                            engine::profile::high_throughput, engine::profile::auto_tuned,
                                            engine::profile::custom})
                               p.profile.Add({{"profile", std::string(engine::to_string(q))}}).Set(q == st.active ? 1 : 0);
                             probes.wal.simulated_sync_delay.Set(std::chrono::duration<double>(st.sync_delay.mean).count());
                             probes.wal.failed.Set(eng.storage().failure.empty() ? 0 : 1);
                             probes.process.resident_memory_bytes.Set(metrics::resident_memory_bytes());
                             refresh_group_gauges(probes, coordinators, eng);
                             probes.kafka.partial_frame_bytes.Set(static_cast<double>(frames.held()));
                             probes.kafka.partial_frame_peak_bytes.Set(static_cast<double>(frames.peak()));
                           },
                           {}};
  tuning_loop tuning(pipeline, feed, *probes.prom);
  admin_ctx.tuner_status = [&tuning] { return tuning.status(); };
  admin::http_server admin_http(control, admin_ctx);
  try {
    admin_http.start(config.admin_listen);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    kafka_listener.stop_accepting();
    eng.close();
    kafka_listener.drain_and_close(std::chrono::seconds(1));
    guards.clear();
    for (auto* c : raw) c->stop();
    for (auto& t : io_threads) t.join();
    return 1;
  }
  asio::signal_set signals(control, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) spdlog::info("received signal {}, shutting down", signo);
    control.stop();
  });
  // The tuner's period: every 100 ms on the control thread, never on the data path.
  asio::steady_timer tuner_timer(control);
  std::function<void()> schedule_tick = [&] {
    tuner_timer.expires_after(std::chrono::milliseconds(100));
    tuner_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      tuning.tick(std::chrono::steady_clock::now());
      schedule_tick();
    });
  };
  schedule_tick();

  ready = true;
  spdlog::info("kairo ready");
  control.run();
  ready = false;
  admin_http.stop();

  // Shutdown: no new connections and no new requests; the group coordinator takes in what it
  // was handed (so its writes are queued), every queued sync finishes and is answered (group
  // commits included, then parked JoinGroup/SyncGroup get NOT_COORDINATOR); then close.
  kafka_listener.stop_accepting();
  kafka_listener.stop_reading();
  coordinators.query([](const engine::group_coordinator&, const engine::txn_coordinator&) { return 0; });
  eng.close();
  coordinators.stop();
  kafka_listener.drain_and_close(std::chrono::seconds(3));
  guards.clear();
  for (auto* c : raw) c->stop();
  for (auto& t : io_threads) t.join();
  blocking.join();
  spdlog::info("kairo stopped cleanly");
  return 0;
}

}  // namespace server
