// The durable topic catalog: round trip, crash-safe replacement, stream ids never reused.
#include <catch2/catch.hpp>

#include "engine/broker.h"
#include "engine/errc.h"
#include "engine/topic_catalog.h"
#include "tests/engine/test_util.h"
#include "tests/support/mem_file_system.h"
#include "util/crc32c.h"
#include "util/endian.h"

using namespace engine;
using namespace engine::test;

namespace {

topic_catalog sample() {
  topic_catalog c;
  c.next_stream = 7;
  c.topics.push_back(
      {"alpha", make_topic_id(), {0, 1, 2}, {{"cleanup.policy", "delete"}, {"x", std::string(300, 'v')}}});
  c.topics.push_back({"beta", make_topic_id(), {5}, {}});
  c.broker_configs = {{"log.retention.ms", "60000"}};
  c.cluster_configs = {{"log.retention.bytes", "1048576"}, {"log.retention.ms", "-1"}};
  return c;
}

}  // namespace

TEST_CASE("a catalog encodes and decodes to the same value", "[engine][catalog]") {
  auto c = sample();
  c.generation = 42;
  auto bytes = encode_catalog(c);
  auto back = decode_catalog(bytes);
  REQUIRE(back);
  CHECK(*back == c);

  for (size_t i = 0; i < bytes.size(); i += 7) {
    auto damaged = bytes;
    damaged[i] ^= std::byte{0x10};
    CHECK_FALSE(decode_catalog(damaged));
  }
  auto shorter = bytes;
  shorter.pop_back();
  CHECK_FALSE(decode_catalog(shorter));
  CHECK_FALSE(decode_catalog({}));
}

TEST_CASE("a version 1 catalog (before broker configs were kept) still loads, with none", "[engine][catalog]") {
  auto c = sample();
  c.broker_configs.clear();
  c.cluster_configs.clear();
  auto bytes = encode_catalog(c);
  // Version 1 is version 2 without the two trailing (empty) config maps.
  bytes.resize(bytes.size() - 8);
  const size_t body = bytes.size() - catalog_format::header_size;
  util::le::put_u32(bytes.data() + 8, catalog_format::version_without_broker_configs);
  util::le::put_u32(bytes.data() + 12, static_cast<uint32_t>(body));
  util::le::put_u32(bytes.data() + 16, util::crc32c::value(bytes.data() + catalog_format::header_size, body));
  auto back = decode_catalog(bytes);
  REQUIRE(back);
  CHECK(*back == c);
  // Version 2 needs its maps: cut off, it is corrupt.
  util::le::put_u32(bytes.data() + 8, catalog_format::version);
  CHECK_FALSE(decode_catalog(bytes));
}

TEST_CASE("broker configs changed live survive a restart and topic changes", "[engine][catalog]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  const log_manager::dynamic_broker_configs set{{{"log.retention.ms", "60000"}}, {{"log.retention.bytes", "4096"}}};
  {
    auto m = *log_manager::open(mem_config(), fs);
    CHECK(m->broker_configs().broker.empty());
    REQUIRE(m->set_broker_configs(set));
    REQUIRE(m->create_topic("a", 1));  // a later catalog save keeps them
    REQUIRE(m->set_topic_configs("a", {{"retention.ms", "1000"}}));
  }
  auto m = *log_manager::open(mem_config(), fs);
  CHECK(m->broker_configs().broker == set.broker);
  CHECK(m->broker_configs().cluster_default == set.cluster_default);
  SECTION("a failed save changes nothing, before or after a restart") {
    fs->fail_nth_sync(1);
    CHECK(m->set_broker_configs({}).error() == errc::storage_error);
    CHECK(m->broker_configs().broker == set.broker);
    m.reset();
    fs->crash();
    m = *log_manager::open(mem_config(), fs);
    CHECK(m->broker_configs().cluster_default == set.cluster_default);
  }
  SECTION("removing them is durable too") {
    REQUIRE(m->set_broker_configs({}));
    m.reset();
    m = *log_manager::open(mem_config(), fs);
    CHECK(m->broker_configs().broker.empty());
    CHECK(m->broker_configs().cluster_default.empty());
    CHECK(m->find_topic("a")->configs.at("retention.ms") == "1000");
  }
}

TEST_CASE("save alternates slots and load takes the newest valid one", "[engine][catalog]") {
  wal::mem_file_system fs;
  auto empty = load_catalog(fs, "/d");
  REQUIRE(empty);
  CHECK(empty->generation == 0);
  CHECK(empty->topics.empty());

  auto c = sample();
  REQUIRE(save_catalog(fs, "/d", c));
  CHECK(c.generation == 1);
  c.topics.pop_back();
  REQUIRE(save_catalog(fs, "/d", c));
  CHECK(c.generation == 2);
  CHECK_FALSE(fs.contents("/d/topics.0").empty());
  CHECK_FALSE(fs.contents("/d/topics.1").empty());
  auto loaded = load_catalog(fs, "/d");
  REQUIRE(loaded);
  CHECK(*loaded == c);

  SECTION("a torn save leaves the previous generation") {
    auto next = c;
    next.topics.clear();
    fs.tear_nth_write(1, 30);
    CHECK(save_catalog(fs, "/d", next).error() == errc::storage_error);
    CHECK(next.generation == 2);
    fs.crash();
    auto after = load_catalog(fs, "/d");
    REQUIRE(after);
    CHECK(*after == c);
    // The next save overwrites the torn slot, not the good one.
    REQUIRE(save_catalog(fs, "/d", next));
    CHECK(load_catalog(fs, "/d")->topics.empty());
  }
  SECTION("a save that was never synced is lost as a whole") {
    auto next = c;
    next.topics.clear();
    fs.fail_nth_sync(1);
    CHECK_FALSE(save_catalog(fs, "/d", next));
    fs.crash();
    CHECK(*load_catalog(fs, "/d") == c);
  }
  SECTION("two corrupt slots refuse to load") {
    auto a = fs.contents("/d/topics.0");
    a[25] ^= std::byte{1};
    fs.set_contents("/d/topics.0", a);
    CHECK(load_catalog(fs, "/d"));  // one good slot is enough
    auto b = fs.contents("/d/topics.1");
    b[25] ^= std::byte{1};
    fs.set_contents("/d/topics.1", b);
    CHECK(load_catalog(fs, "/d").error() == errc::storage_error);
  }
}

TEST_CASE("topic name rule", "[engine][catalog]") {
  CHECK(valid_topic_name("a"));
  CHECK(valid_topic_name("__consumer_offsets"));
  CHECK(valid_topic_name("..."));
  CHECK(valid_topic_name(std::string(249, 'x')));
  CHECK_FALSE(valid_topic_name(""));
  CHECK_FALSE(valid_topic_name("."));
  CHECK_FALSE(valid_topic_name(".."));
  CHECK_FALSE(valid_topic_name(std::string(250, 'x')));
  CHECK_FALSE(valid_topic_name("a b"));
  CHECK_FALSE(valid_topic_name("a/b"));
  CHECK_FALSE(valid_topic_name("\xc3\xa9"));
}

TEST_CASE("stream ids are never reused, across deletes and restarts", "[engine][catalog]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = *log_manager::open(mem_config(), fs);
    REQUIRE(m->create_topic("a", 2));
    REQUIRE(produce_sync(*m, "a", 1, make_batch({"a1"})).r);
    REQUIRE(m->delete_topic("a"));
  }
  {
    auto m = *log_manager::open(mem_config(), fs);
    REQUIRE(m->create_topic("b", 2));  // streams 2 and 3, not 0 and 1
    CHECK(m->state_of("b", 1)->high_watermark == 0);
  }
  auto c = load_catalog(*fs, "/data");
  REQUIRE(c);
  REQUIRE(c->topics.size() == 1);
  CHECK(c->topics[0].streams == std::vector<uint32_t>{2, 3});
  CHECK(c->next_stream == 4);
}

TEST_CASE("a catalog that lost its newest topics does not hand their streams out again", "[engine][catalog]") {
  auto fs = std::make_shared<wal::mem_file_system>();
  {
    auto m = *log_manager::open(mem_config(), fs);
    REQUIRE(m->create_topic("a", 1));
    REQUIRE(produce_sync(*m, "a", 0, make_batch({"orphan"})).r);
  }
  // The catalog is gone: the WAL still holds stream 0's record.
  (void)fs->remove("/data/topics.0");
  (void)fs->remove("/data/topics.1");
  REQUIRE(fs->list("/data")->empty());
  auto m = *log_manager::open(mem_config(), fs);
  CHECK(m->list_topics().empty());
  REQUIRE(m->create_topic("b", 1));
  CHECK(m->state_of("b", 0)->high_watermark == 0);
  m.reset();
  m = *log_manager::open(mem_config(), fs);
  CHECK(m->state_of("b", 0)->high_watermark == 0);
  CHECK(fetch_all(*m, "b", 0).empty());
}
