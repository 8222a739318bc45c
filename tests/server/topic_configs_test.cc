// The broker and topic configs DescribeConfigs reports: each value's layers (topic, this broker's
// live change, the cluster default's, kairo serve's option, the built-in default) and the live
// changes AlterConfigs / IncrementalAlterConfigs make, persisted before they are applied.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/errc.h"
#include "server/config.h"
#include "server/kafka/topic_configs.h"

using namespace server::kafka;

namespace {

server::serve_config parse(std::vector<const char*> args) {
  args.insert(args.begin(), {"kairo", "serve"});
  auto c = server::parse_serve_args(static_cast<int>(args.size()), args.data());
  REQUIRE(c);
  return *c;
}

const topic_config_value& find(const std::vector<topic_config_value>& all, const std::string& name) {
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& v) { return v.name == name; });
  REQUIRE(it != all.end());
  return *it;
}

engine::result<void> keep(const live_defaults::stored&) { return {}; }

}  // namespace

TEST_CASE("an option left at its default is DEFAULT_CONFIG, a given one STATIC_BROKER_CONFIG over the default") {
  auto plain = parse({});
  live_defaults d0(plain);
  auto r0 = find(broker_configs(plain, d0), "log.retention.ms");
  CHECK(r0.value == "604800000");
  CHECK(r0.origin == config_origin::fixed);
  REQUIRE(r0.synonyms.size() == 1);

  auto given = parse({"--log-retention-ms", "3600000", "--max-message-bytes", "2000000"});
  live_defaults d1(given);
  auto r1 = find(broker_configs(given, d1), "log.retention.ms");
  CHECK(r1.value == "3600000");
  CHECK(r1.origin == config_origin::static_broker);
  REQUIRE(r1.synonyms.size() == 2);
  CHECK(r1.synonyms[1] == config_synonym{"log.retention.ms", "604800000", config_origin::fixed});
  auto m = find(broker_configs(given, d1), "message.max.bytes");
  CHECK(m.value == "2000000");
  CHECK(m.origin == config_origin::static_broker);
  CHECK(m.read_only);
  CHECK(find(broker_configs(given, d1), "num.partitions").origin == config_origin::fixed);
}

TEST_CASE("a topic config lists its own value first, then the broker config it falls back to") {
  auto c = parse({"--log-retention-ms", "3600000"});
  live_defaults d(c, {{{"log.retention.ms", "60000"}}, {{"log.retention.ms", "120000"}}});
  auto all = effective_topic_configs(c, d, {{"retention.ms", "1000"}});
  const auto& r = find(all, "retention.ms");
  CHECK(r.value == "1000");
  CHECK(r.origin == config_origin::topic);
  CHECK_FALSE(r.read_only);
  CHECK(r.type == config_type::long_integer);
  std::vector<config_synonym> want{
      {"retention.ms", "1000", config_origin::topic},
      {"log.retention.ms", "60000", config_origin::dynamic_broker},
      {"log.retention.ms", "120000", config_origin::dynamic_default_broker},
      {"log.retention.ms", "3600000", config_origin::static_broker},
      {"log.retention.ms", "604800000", config_origin::fixed},
  };
  CHECK(r.synonyms == want);

  // No topic value: the broker's highest layer gives value and origin.
  const auto& b = find(effective_topic_configs(c, d, {}), "retention.ms");
  CHECK(b.value == "60000");
  CHECK(b.origin == config_origin::dynamic_broker);
  CHECK(retention_of(d, {}).retention_ms == 60000);
  CHECK(retention_of(d, {{"retention.ms", "1000"}}).retention_ms == 1000);

  const auto& cp = find(all, "cleanup.policy");
  CHECK(cp.value == "delete");
  REQUIRE(cp.synonyms.size() == 1);
  CHECK(cp.synonyms[0].name == "log.cleanup.policy");
}

TEST_CASE("live changes: this broker's over the cluster default's, AlterConfigs replaces, Incremental edits") {
  auto c = parse({});
  live_defaults d(c);
  CHECK(d.retention_bytes() == -1);

  REQUIRE(d.alter({{"log.retention.bytes", "1000"}}, true, false, keep));
  CHECK(d.retention_bytes() == 1000);
  REQUIRE(d.alter({{"log.retention.bytes", "500"}, {"log.retention.ms", "9000"}}, false, false, keep));
  CHECK(d.retention_bytes() == 500);
  CHECK(d.retention_ms() == 9000);

  // The cluster default ("") lists only what was changed for it, with that one layer.
  auto cluster = broker_configs(c, d, true);
  REQUIRE(cluster.size() == 1);
  CHECK(cluster[0].name == "log.retention.bytes");
  CHECK(cluster[0].value == "1000");
  CHECK(cluster[0].origin == config_origin::dynamic_default_broker);
  REQUIRE(cluster[0].synonyms.size() == 1);

  // AlterConfigs on "0" with only retention.ms: the resource's set becomes exactly that.
  REQUIRE(d.alter({{"log.retention.ms", "8000"}}, false, true, keep));
  CHECK(d.retention_ms() == 8000);
  CHECK(d.retention_bytes() == 1000);  // back to the cluster default's
  CHECK(d.current().broker == std::map<std::string, std::string>{{"log.retention.ms", "8000"}});

  // IncrementalAlterConfigs DELETE: removes one change only.
  REQUIRE(d.alter({{"log.retention.ms", std::nullopt}}, false, false, keep));
  CHECK(d.retention_ms() == 604800000);
  CHECK(d.current().cluster_default.size() == 1);
}

TEST_CASE("a change that cannot be saved is not applied") {
  auto c = parse({});
  live_defaults d(c);
  live_defaults::stored seen;
  REQUIRE(d.alter({{"log.retention.ms", "5000"}}, false, false, [&](const live_defaults::stored& s) {
    seen = s;
    return engine::result<void>{};
  }));
  CHECK(seen.broker.at("log.retention.ms") == "5000");
  auto r = d.alter({{"log.retention.ms", "7000"}}, false, false, [](const live_defaults::stored&) {
    return engine::result<void>{engine::fail(engine::errc::storage_error)};
  });
  CHECK_FALSE(r);
  CHECK(d.retention_ms() == 5000);
  CHECK(d.current().broker.at("log.retention.ms") == "5000");
}

TEST_CASE("kept changes that no longer check out are ignored, the rest apply") {
  auto c = parse({});
  live_defaults d(c, {{{"log.retention.ms", "12"}, {"log.flush.interval.ms", "1"}}, {{"log.retention.bytes", "x"}}});
  CHECK(d.retention_ms() == 12);
  CHECK(d.retention_bytes() == -1);
  CHECK(d.current().broker.size() == 1);
  CHECK(d.current().cluster_default.empty());
}

TEST_CASE("broker configs are checked: only the live ones, whole numbers from -1") {
  CHECK_FALSE(check_broker_config("log.retention.ms", std::string("-1")));
  CHECK_FALSE(check_broker_config("log.retention.bytes", std::nullopt));
  CHECK(check_broker_config("log.retention.ms", std::string("-2")));
  CHECK(check_broker_config("log.retention.ms", std::string("1h")));
  auto why = check_broker_config("num.partitions", std::string("3"));
  REQUIRE(why);
  CHECK(why->find("while it runs") != std::string::npos);
}
