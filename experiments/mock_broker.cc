// kairo_mock_broker: librdkafka's built-in mock cluster as a stand-alone broker, the yardstick
// for `kairo-lab bench`: an in-memory Kafka broker written in C, with no disk and no fsync.
//
//   kairo_mock_broker [--listen-port P] [--brokers N] [--topic NAME --partitions N]
//
// The first stdout line is `bootstrap=HOST:PORT[,...]` (flushed), then it runs until SIGINT or
// SIGTERM and exits 0. librdkafka 2.0.2 binds its mock brokers to 127.0.0.1 on a port the kernel
// picks, so --listen-port cannot be honoured; it is accepted and a note goes to stderr when the
// port differs. The mock answers no CreateTopics: --topic pre-creates a topic (otherwise it
// auto-creates unknown topics on Metadata/Produce with its default partition count).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// The mock leaves Nagle on for the connections it accepts, so a small response waits for the
// client's ACK of the previous one (the next request, or the 40 ms delayed-ACK timer): open-loop
// latency then equals the send interval and maxima sit at ~40 ms. A yardstick must not measure
// that, so this executable supplies `accept` (the mock's listener calls it through the dynamic
// linker, and the executable's definition comes first) and turns Nagle off on every connection,
// as kairo and real brokers do.
extern "C" int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  const int s = static_cast<int>(syscall(SYS_accept4, fd, addr, len, 0));
  if (s >= 0) {
    const int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return s;
}

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "kairo_mock_broker: %s\n"
               "usage: kairo_mock_broker [--listen-port P] [--brokers N] [--topic NAME --partitions N]\n",
               why);
  std::exit(2);
}

int parse_int(const char* s, const char* flag) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 0 || v > 65535) usage((std::string(flag) + " needs a number").c_str());
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  int listen_port = 0, brokers = 1, partitions = 3;
  std::string topic;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--listen-port") listen_port = parse_int(value(), "--listen-port");
    else if (a == "--brokers") brokers = parse_int(value(), "--brokers");
    else if (a == "--topic") topic = value();
    else if (a == "--partitions") partitions = parse_int(value(), "--partitions");
    else if (a == "--help" || a == "-h") usage("an in-memory Kafka broker (librdkafka mock cluster)");
    else usage((std::string("unknown argument ") + a).c_str());
  }
  if (brokers < 1 || partitions < 1) usage("--brokers and --partitions must be at least 1");

  // Block the stop signals before librdkafka starts its threads (they inherit the mask), so that
  // sigwait below is the only place they are delivered.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  // The handle only hosts the mock cluster; it never connects anywhere.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "kairo_mock_broker: cannot create the host handle: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mcluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (mcluster == nullptr) {
    std::fprintf(stderr, "kairo_mock_broker: cannot start the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  if (!topic.empty()) {
    const auto e = rd_kafka_mock_topic_create(mcluster, topic.c_str(), partitions, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "kairo_mock_broker: cannot create topic %s: %s\n", topic.c_str(), rd_kafka_err2str(e));
      rd_kafka_mock_cluster_destroy(mcluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
  std::printf("bootstrap=%s\n", bootstraps.c_str());
  std::fflush(stdout);
  if (listen_port != 0 && bootstraps.find(std::string(":").append(std::to_string(listen_port))) == std::string::npos) {
    std::fprintf(stderr,
                 "kairo_mock_broker: librdkafka %s cannot bind a chosen port; listening on %s instead of port %d\n",
                 rd_kafka_version_str(), bootstraps.c_str(), listen_port);
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  rd_kafka_mock_cluster_destroy(mcluster);
  rd_kafka_destroy(rk);
  return 0;
}
