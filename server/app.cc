#include <utility>  // before Boost.Asio: 1.74's awaitable.hpp uses std::exchange without it
#include "server/app.h"

#include <csignal>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include "engine/broker.h"
#include "server/kafka/broker_context.h"
#include "server/kafka/server.h"

namespace asio = boost::asio;

namespace server {

int run_serve(const serve_config& config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::info("kairo starting: data in {}, {} io threads", config.data_dir, config.io_threads);

  engine::config ecfg;
  ecfg.data_dir = config.data_dir;
  ecfg.default_partitions = config.default_partitions;
  ecfg.auto_create = config.auto_create_topics;
  ecfg.max_message_bytes = config.max_message_bytes;
  auto opened = engine::log_manager::open(ecfg, std::shared_ptr<wal::file_system>(wal::make_posix_file_system()));
  if (!opened) {
    spdlog::critical("cannot open the data directory {}: {} (see the error above for the file and cause)",
                     config.data_dir, opened.error().message());
    return 1;
  }
  auto& eng = **opened;

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::io_context*> raw;
  for (unsigned i = 0; i < config.io_threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    raw.push_back(contexts.back().get());
  }
  asio::thread_pool blocking(2);
  kafka::broker_context broker{eng, config, blocking};
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

  // The control context runs on the main thread: signals now, the admin API and tuner later.
  asio::io_context control;
  asio::signal_set signals(control, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) spdlog::info("received signal {}, shutting down", signo);
    control.stop();
  });
  spdlog::info("kairo ready");
  control.run();

  // Shutdown: no new connections; finish every queued sync and answer it; then close.
  kafka_listener.stop_accepting();
  eng.close();
  kafka_listener.drain_and_close(std::chrono::seconds(3));
  guards.clear();
  for (auto* c : raw) c->stop();
  for (auto& t : io_threads) t.join();
  blocking.join();
  spdlog::info("kairo stopped cleanly");
  return 0;
}

}  // namespace server
