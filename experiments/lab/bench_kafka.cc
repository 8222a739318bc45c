#include "experiments/lab/bench_kafka.h"

#include <random>
#include <thread>

namespace lab::bench_detail {

std::vector<char> make_payload(size_t size, uint64_t seed) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::mt19937_64 gen(seed);
  std::vector<char> out(size);
  for (auto& c : out) c = alphabet[gen() % (sizeof(alphabet) - 1)];
  return out;
}

void rk_deleter::operator()(rd_kafka_t* rk) const {
  // A consumer that never joined a group has nothing to leave; skip the close handshake.
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

std::string conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return key + "=" + value + ": " + err;
  }
  return {};
}

namespace {

conf_ptr base_conf(const bench_config& cfg, std::string* error) {
  conf_ptr conf(rd_kafka_conf_new());
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", cfg.bootstrap},
           {"client.id", "kairo-bench"},
           // Small requests on a request/response loop must not wait on Nagle + delayed ACK:
           // that would measure TCP, not the broker.
           {"socket.nagle.disable", "true"},
           {"log_level", "3"},
       }) {
    if (auto e = conf_set(conf.get(), k, v); !e.empty()) {
      *error = e;
      return nullptr;
    }
  }
  return conf;
}

bool apply_properties(rd_kafka_conf_t* conf, const bench_config& cfg, std::string* error) {
  for (const auto& [k, v] : cfg.client_properties) {
    if (auto e = conf_set(conf, k, v); !e.empty()) {
      *error = "-X " + e;
      return false;
    }
  }
  return true;
}

}  // namespace

conf_ptr producer_conf(const bench_config& cfg, std::string* error) {
  conf_ptr conf = base_conf(cfg, error);
  if (!conf) return nullptr;
  const std::string acks = cfg.acks == "all" ? "-1" : cfg.acks;
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"acks", acks},
           {"linger.ms", std::to_string(cfg.linger_ms)},
           {"compression.type", cfg.compression},
           {"enable.idempotence", "false"},
           // Messages that cannot be delivered fail within the bench's own drain bound.
           {"message.timeout.ms", "30000"},
           {"queue.buffering.max.messages", "2000000"},
           {"queue.buffering.max.kbytes", "2097151"},
       }) {
    if (auto e = conf_set(conf.get(), k, v); !e.empty()) {
      *error = e;
      return nullptr;
    }
  }
  if (!apply_properties(conf.get(), cfg, error)) return nullptr;
  return conf;
}

conf_ptr consumer_conf(const bench_config& cfg, std::string* error) {
  conf_ptr conf = base_conf(cfg, error);
  if (!conf) return nullptr;
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           // The group is only a handle for the high-level consumer API: partitions are
           // assigned explicitly and nothing is committed.
           {"group.id", "kairo-bench-" + std::to_string(now_ns())},
           {"enable.auto.commit", "false"},
           {"enable.auto.offset.store", "false"},
           {"auto.offset.reset", "earliest"},
           {"enable.partition.eof", "false"},
           // The broker answers a fetch as soon as data is there; this only bounds an idle wait.
           {"fetch.wait.max.ms", "100"},
       }) {
    if (auto e = conf_set(conf.get(), k, v); !e.empty()) {
      *error = e;
      return nullptr;
    }
  }
  if (!apply_properties(conf.get(), cfg, error)) return nullptr;
  return conf;
}

rk_ptr make_client(rd_kafka_type_t type, conf_ptr conf, std::string* error) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (rk == nullptr) {
    *error = std::string("cannot create the librdkafka client: ") + err;
    return nullptr;
  }
  conf.release();  // owned by rk now
  return rk_ptr(rk);
}

namespace {

// -1: not in the metadata; 0: present but some partition has no leader yet; n: ready.
int topic_state(const rd_kafka_metadata_t* md, const std::string& topic, std::string* topic_error) {
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return -1;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      *topic_error = rd_kafka_err2str(t.err);
      return 0;
    }
    if (t.partition_cnt == 0) return 0;
    for (int p = 0; p < t.partition_cnt; ++p) {
      if (t.partitions[p].leader < 0 || t.partitions[p].err != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    }
    return t.partition_cnt;
  }
  return -1;
}

std::string create_topic(rd_kafka_t* rk, const bench_config& cfg) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(cfg.topic.c_str(), cfg.partitions, 1, err, sizeof err);
  if (nt == nullptr) return std::string("invalid topic request: ") + err;
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(opts, setup_timeout_ms, err, sizeof err);
  rd_kafka_AdminOptions_set_operation_timeout(opts, setup_timeout_ms, err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
  std::string result;
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, setup_timeout_ms + 2000);
  if (ev == nullptr) {
    result = "no answer to CreateTopics within " + std::to_string(setup_timeout_ms / 1000) + " s";
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      const auto e = rd_kafka_topic_result_error(res[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* s = rd_kafka_topic_result_error_string(res[i]);
        result = s != nullptr && *s != '\0' ? s : rd_kafka_err2str(e);
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  return result;
}

}  // namespace

std::pair<int, std::string> ensure_topic(const bench_config& cfg) {
  std::string error;
  conf_ptr conf = producer_conf(cfg, &error);
  if (!conf) return {0, error};
  rk_ptr rk = make_client(RD_KAFKA_PRODUCER, std::move(conf), &error);
  if (!rk) return {0, error};

  const rd_kafka_metadata_t* md = nullptr;
  // all_topics=1 lists topics without asking the broker to auto-create ours.
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 1, nullptr, &md, setup_timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {0, "cannot reach the broker at " + cfg.bootstrap + " within " + std::to_string(setup_timeout_ms / 1000) +
                   " s (" + rd_kafka_err2str(err) + "); is it running, and is --bootstrap-servers right?"};
  }
  std::string topic_error;
  int state = topic_state(md, cfg.topic, &topic_error);
  rd_kafka_metadata_destroy(md);

  if (state < 0) {
    if (cfg.mode == bench_mode::consume) {
      return {0, "topic '" + cfg.topic + "' does not exist; produce to it first (kairo-lab bench --mode produce)"};
    }
    if (auto e = create_topic(rk.get(), cfg); !e.empty()) {
      return {0, "could not create topic '" + cfg.topic + "' with " + std::to_string(cfg.partitions) +
                     " partitions: " + e + "; create it on the broker first"};
    }
  }
  const int64_t deadline = now_ns() + int64_t{setup_timeout_ms} * 1'000'000;
  while (true) {
    err = rd_kafka_metadata(rk.get(), 1, nullptr, &md, setup_timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      state = topic_state(md, cfg.topic, &topic_error);
      rd_kafka_metadata_destroy(md);
      if (state > 0) return {state, {}};
    }
    if (now_ns() > deadline) {
      return {0, "topic '" + cfg.topic + "' has no leader for every partition after " +
                     std::to_string(setup_timeout_ms / 1000) + " s" +
                     (topic_error.empty() ? std::string() : " (" + topic_error + ")")};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::pair<std::vector<std::pair<int64_t, int64_t>>, std::string> query_watermarks(rd_kafka_t* rk,
                                                                                  const std::string& topic,
                                                                                  int partitions) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    const auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, setup_timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return {{}, "cannot read the offsets of " + topic + "/" + std::to_string(p) + ": " + rd_kafka_err2str(err)};
    }
    out.emplace_back(lo, hi);
  }
  return {out, {}};
}

}  // namespace lab::bench_detail
