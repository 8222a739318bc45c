// Group state as WAL records: every field round-trips, damaged payloads are refused; and the
// consumer-protocol subscription reader the coordinator uses for OffsetDelete and retention.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/consumer_protocol.h"
#include "engine/errc.h"
#include "engine/group_records.h"

using namespace engine;

namespace {

using bytes = engine::blob;

bytes B(const std::string& s) {
  bytes b;
  for (char c : s) b.push_back(std::byte(static_cast<unsigned char>(c)));
  return b;
}

group_metadata_record full_group() {
  stored_group g;
  g.protocol_type = "consumer";
  g.generation = 0x12345678;
  g.protocol_name = "cooperative-sticky";
  g.leader = "leader-1";
  g.state_timestamp_ms = 1'700'000'123'456;
  stored_member a;
  a.member_id = "leader-1";
  a.group_instance_id = "instance-a";
  a.client_id = "client-a";
  a.client_host = "/10.1.2.3";
  a.rebalance_timeout_ms = 300000;
  a.session_timeout_ms = 45000;
  a.subscription = B(std::string("sub\0a", 5));
  a.assignment = B("assignment-a");
  stored_member b;
  b.member_id = "member-2";
  b.client_id = "";
  b.client_host = "/::1";
  b.rebalance_timeout_ms = -1;
  b.session_timeout_ms = 6000;
  b.subscription = {};
  b.assignment = bytes(70000, std::byte{0xab});  // larger than 64 KiB: blob32
  g.members = {a, b};
  return {"group-\xc3\xa9", g};
}

offsets_record full_offsets() {
  offsets_record r;
  r.group_id = "offsets-group";
  committed_offset o1;
  o1.offset = 0x7fff'ffff'ffff'fff0;
  o1.leader_epoch = 12;
  o1.metadata = std::string(5000, 'm');  // opt32
  o1.commit_timestamp_ms = 1'700'000'000'001;
  o1.expire_timestamp_ms = 1'700'000'999'999;
  committed_offset o2;
  o2.offset = -1;
  o2.leader_epoch = -1;
  o2.metadata = std::nullopt;
  o2.commit_timestamp_ms = 0;
  committed_offset o3;
  o3.offset = 0;
  o3.metadata = std::string();  // empty, not absent
  o3.commit_timestamp_ms = -5;
  r.offsets = {{{"topic-a", 0}, o1}, {{"topic-a", -2}, o2}, {{"b", 2147483647}, o3}, {{"gone", 3}, std::nullopt}};
  return r;
}

group_record round_trip(const group_record& r) {
  auto [type, payload] = group_records::encode(r);
  auto back = group_records::decode(type, payload);
  REQUIRE(back);
  return *back;
}

}  // namespace

TEST_CASE("group metadata records round-trip every field", "[engine][group_records]") {
  const group_record r = full_group();
  auto [type, payload] = group_records::encode(r);
  CHECK(type == group_records::type_group_metadata);
  CHECK(std::to_integer<uint8_t>(payload[0]) == group_records::version);
  CHECK(round_trip(r) == r);

  // Absent optionals, no members, the removal record.
  group_metadata_record empty{"g", stored_group{}};
  CHECK(round_trip(empty) == group_record(empty));
  group_metadata_record bare{"g", stored_group{"consumer", -1, std::nullopt, std::nullopt, -7, {}}};
  CHECK(round_trip(bare) == group_record(bare));
  group_metadata_record removal{"g", std::nullopt};
  CHECK(round_trip(removal) == group_record(removal));
  CHECK(round_trip(removal) != group_record(empty));
}

TEST_CASE("offsets records round-trip every field", "[engine][group_records]") {
  const group_record r = full_offsets();
  auto [type, payload] = group_records::encode(r);
  CHECK(type == group_records::type_offsets);
  CHECK(round_trip(r) == r);
  offsets_record none{"g", {}};
  CHECK(round_trip(none) == group_record(none));
  // The empty metadata string stays distinct from no metadata.
  const auto whole = round_trip(r);
  const auto& back = std::get<offsets_record>(whole);
  CHECK(back.offsets[2].second->metadata == std::optional<std::string>(""));
  CHECK_FALSE(back.offsets[1].second->metadata);
  CHECK_FALSE(back.offsets[1].second->expire_timestamp_ms);
}

TEST_CASE("damaged group records decode to corrupt_message", "[engine][group_records]") {
  for (const group_record& r : {group_record(full_group()), group_record(full_offsets()),
                                group_record(group_metadata_record{"g", std::nullopt})}) {
    auto [type, payload] = group_records::encode(r);
    // Every truncation.
    for (size_t n = 0; n < payload.size(); n += (n < 200 ? 1 : 997)) {
      auto d = group_records::decode(type, std::span<const std::byte>(payload.data(), n));
      REQUIRE_FALSE(d);
      CHECK(d.error() == make_error_code(errc::corrupt_message));
    }
    // A trailing byte.
    auto longer = payload;
    longer.push_back(std::byte{0});
    CHECK_FALSE(group_records::decode(type, longer));
    // Another version.
    auto other = payload;
    other[0] = std::byte{2};
    CHECK_FALSE(group_records::decode(type, other));
    // An unknown type.
    CHECK_FALSE(group_records::decode(99, payload));
  }
  // A group payload read as offsets (or the reverse) does not pass as a record.
  auto [gt, gp] = group_records::encode(full_group());
  auto [ot, op] = group_records::encode(full_offsets());
  CHECK_FALSE(group_records::decode(ot, gp));
  CHECK_FALSE(group_records::decode(gt, op));
  // A forged member count does not make the decoder run away.
  group_metadata_record one{"g", stored_group{"consumer", 1, std::string("range"), std::nullopt, 0, {}}};
  auto [t1, p1] = group_records::encode(one);
  // The count is the last 4 bytes of a group without members.
  for (size_t i = p1.size() - 4; i < p1.size(); ++i) p1[i] = std::byte{0xff};
  CHECK_FALSE(group_records::decode(t1, p1));
}

namespace {

void put16(bytes& b, uint16_t v) {
  b.push_back(std::byte(v >> 8));
  b.push_back(std::byte(v & 0xff));
}
void put32(bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::byte((v >> s) & 0xff));
}
bytes subscription(int16_t version, const std::vector<std::string>& topics, bool user_data = false) {
  bytes b;
  put16(b, static_cast<uint16_t>(version));
  put32(b, static_cast<uint32_t>(topics.size()));
  for (const auto& t : topics) {
    put16(b, static_cast<uint16_t>(t.size()));
    for (char c : t) b.push_back(std::byte(static_cast<unsigned char>(c)));
  }
  if (user_data) {
    put32(b, 3);
    b.insert(b.end(), {std::byte{1}, std::byte{2}, std::byte{3}});
    put32(b, 0);  // v1+: owned partitions, empty
  } else {
    put32(b, 0xffffffffu);
  }
  return b;
}

}  // namespace

TEST_CASE("subscription_topics reads the topics of consumer-protocol metadata", "[engine][group_records]") {
  using v = std::vector<std::string>;
  CHECK(subscription_topics(subscription(0, {"a"})) == v{"a"});
  CHECK(subscription_topics(subscription(3, {"orders", "payments", ""}, true)) == v{"orders", "payments", ""});
  CHECK(subscription_topics(subscription(1, {})) == v{});
  // Just the prefix is enough (user data is not read).
  bytes prefix;
  put16(prefix, 0);
  put32(prefix, 1);
  put16(prefix, 1);
  prefix.push_back(std::byte{'x'});
  CHECK(subscription_topics(prefix) == v{"x"});
}

TEST_CASE("subscription_topics refuses malformed metadata", "[engine][group_records]") {
  CHECK_FALSE(subscription_topics(bytes{}));
  CHECK_FALSE(subscription_topics(bytes{std::byte{0}}));
  CHECK_FALSE(subscription_topics(subscription(-1, {"a"})));  // negative version
  bytes b;
  put16(b, 0);
  CHECK_FALSE(subscription_topics(b));  // no topic count
  put32(b, 0xffffffffu);
  CHECK_FALSE(subscription_topics(b));  // null array
  bytes huge;
  put16(huge, 0);
  put32(huge, 0x7fffffff);  // a forged count
  put16(huge, 1);
  huge.push_back(std::byte{'x'});
  CHECK_FALSE(subscription_topics(huge));
  // Every truncation inside the topics.
  auto good = subscription(1, {"alpha", "beta"});
  const size_t topics_end = 2 + 4 + 2 + 5 + 2 + 4;
  for (size_t n = 0; n < topics_end; ++n) CHECK_FALSE(subscription_topics(std::span<const std::byte>(good.data(), n)));
  CHECK(subscription_topics(std::span<const std::byte>(good.data(), topics_end)));
  // A negative topic length.
  bytes neg;
  put16(neg, 0);
  put32(neg, 1);
  put16(neg, 0xffff);
  put32(neg, 0);
  CHECK_FALSE(subscription_topics(neg));
  // Random bytes never crash it.
  bytes junk;
  uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 1103515245 + 12345;
    junk.push_back(std::byte(x >> 24));
    (void)subscription_topics(junk);
  }
}

TEST_CASE("the longest strings Kafka allows round-trip", "[engine][group_records]") {
  // Kafka refuses strings over 32767 bytes; the records' 16-bit lengths hold them.
  const std::string id(32767, 'g');
  stored_group g;
  g.protocol_type = "consumer";
  g.leader = id;
  g.members.push_back({id, id, id, "/h", 1, 2, {}, {}});
  group_metadata_record rec{id, g};
  CHECK(round_trip(rec) == group_record(rec));
}
