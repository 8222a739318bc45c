// Wire codec tests for the consumer-group APIs: JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups and OffsetDelete.
// Requests are built here the way a client builds them (field by field with `writer`) and decoded
// by the broker's decoders; responses are encoded by the broker and either compared byte for byte
// or walked here field by field the way a client reads them. The field layouts follow Kafka's
// message definitions (clients/src/main/resources/common/message/*.json).

#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "server/protocol/api_keys.h"
#include "server/protocol/delete_groups.h"
#include "server/protocol/describe_groups.h"
#include "server/protocol/error_codes.h"
#include "server/protocol/heartbeat.h"
#include "server/protocol/join_group.h"
#include "server/protocol/leave_group.h"
#include "server/protocol/list_groups.h"
#include "server/protocol/offset_commit.h"
#include "server/protocol/offset_delete.h"
#include "server/protocol/offset_fetch.h"
#include "server/protocol/sync_group.h"
#include "server/protocol/wire.h"
#include "tests/server/wire_test_util.h"

using namespace server::protocol;
using namespace server::protocol::test;

namespace {

bytes copy_of(byte_view v) { return bytes(v.begin(), v.end()); }

bool inside(const bytes& outer, byte_view inner) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

}  // namespace

// ---- table --------------------------------------------------------------------------------

TEST_CASE("group APIs: flexible versions as Kafka defines them", "[protocol][groups]") {
  // flexibleVersions from Kafka's message definitions; OffsetDelete is "none".
  check_api_versions({
      {api_key::offset_commit, 8, 8},
      {api_key::offset_fetch, 8, 6},
      {api_key::join_group, 9, 6},
      {api_key::heartbeat, 4, 4},
      {api_key::leave_group, 5, 4},
      {api_key::sync_group, 5, 4},
      {api_key::describe_groups, 5, 5},
      {api_key::list_groups, 4, 3},
      {api_key::delete_groups, 2, 2},
      {api_key::offset_delete, 0, 32767},
  });
}

TEST_CASE("group API decoders refuse versions outside the table", "[protocol][groups]") {
  const std::vector<api_decoder> decoders = {
      {api_key::join_group, [](reader& r, std::int16_t v) { join_group_request::decode(r, v); }},
      {api_key::sync_group, [](reader& r, std::int16_t v) { sync_group_request::decode(r, v); }},
      {api_key::heartbeat, [](reader& r, std::int16_t v) { heartbeat_request::decode(r, v); }},
      {api_key::leave_group, [](reader& r, std::int16_t v) { leave_group_request::decode(r, v); }},
      {api_key::offset_commit, [](reader& r, std::int16_t v) { offset_commit_request::decode(r, v); }},
      {api_key::offset_fetch, [](reader& r, std::int16_t v) { offset_fetch_request::decode(r, v); }},
      {api_key::list_groups, [](reader& r, std::int16_t v) { list_groups_request::decode(r, v); }},
      {api_key::describe_groups, [](reader& r, std::int16_t v) { describe_groups_request::decode(r, v); }},
      {api_key::delete_groups, [](reader& r, std::int16_t v) { delete_groups_request::decode(r, v); }},
      {api_key::offset_delete, [](reader& r, std::int16_t v) { offset_delete_request::decode(r, v); }},
  };
  REQUIRE(decoders.size() == 10);
  check_decoders_refuse_unknown_versions(decoders);
}

// ---- JoinGroup ----------------------------------------------------------------------------

TEST_CASE("JoinGroup requests v0-9", "[protocol][join_group]") {
  const bytes range_meta = hex({0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06});
  const bytes rr_meta = hex({0x00, 0x03, 0xff});
  for (auto v : versions_of(api_key::join_group)) {
    INFO("version " << v);
    const bool flex = v >= 6;
    // v5 joins without a static membership id; later versions with one.
    const opt_string instance = v == 5 ? opt_string{} : opt_string{"instance-1"};
    bytes buf;
    writer w(buf);
    w.write_string("group-1", flex);
    w.write_int32(45000);
    if (v >= 1) w.write_int32(300000);
    w.write_string("member-1", flex);
    if (v >= 5) w.write_nullable_string(instance, flex);
    w.write_string("consumer", flex);
    w.write_array_length(2, flex);
    w.write_string("range", flex);
    w.write_bytes(range_meta, flex);
    if (flex) write_unknown_tags(w);
    w.write_string("roundrobin", flex);
    w.write_bytes(rr_meta, flex);
    if (flex) w.write_empty_tagged_fields();
    if (v >= 8) w.write_nullable_string(std::string_view("rebalance needed"), flex);
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = join_group_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.group_id == "group-1");
    CHECK(req.session_timeout_ms == 45000);
    CHECK(req.rebalance_timeout_ms == (v >= 1 ? 300000 : -1));
    CHECK(req.member_id == "member-1");
    CHECK(req.group_instance_id == (v >= 5 ? instance : opt_string{}));
    CHECK(req.protocol_type == "consumer");
    REQUIRE(req.protocols.size() == 2);
    CHECK(req.protocols[0].name == "range");
    CHECK(copy_of(req.protocols[0].metadata) == range_meta);
    CHECK(inside(buf, req.protocols[0].metadata));
    CHECK(req.protocols[1].name == "roundrobin");
    CHECK(copy_of(req.protocols[1].metadata) == rr_meta);
    CHECK(inside(buf, req.protocols[1].metadata));
    CHECK(req.reason == (v >= 8 ? opt_string{"rebalance needed"} : opt_string{}));
    require_prefixes_throw(buf, [v](reader& pr) { join_group_request::decode(pr, v); });
  }
}

TEST_CASE("JoinGroup v0 request exact bytes (first join, no member id)", "[protocol][join_group]") {
  const bytes buf = concat({hex({0x00, 0x01}), text("g"),                 // group_id
                            hex({0x00, 0x00, 0x27, 0x10}),                // session_timeout_ms 10000
                            hex({0x00, 0x00}),                            // member_id ""
                            hex({0x00, 0x08}), text("consumer"),          // protocol_type
                            hex({0x00, 0x00, 0x00, 0x01}),                // one protocol
                            hex({0x00, 0x05}), text("range"),             //
                            hex({0x00, 0x00, 0x00, 0x02, 0x00, 0x00})});  // metadata
  reader r(buf);
  auto req = join_group_request::decode(r, 0);
  CHECK(r.remaining() == 0);
  CHECK(req.group_id == "g");
  CHECK(req.session_timeout_ms == 10000);
  CHECK(req.rebalance_timeout_ms == -1);
  CHECK(req.member_id.empty());
  CHECK_FALSE(req.group_instance_id.has_value());
  REQUIRE(req.protocols.size() == 1);
  CHECK(copy_of(req.protocols[0].metadata) == hex({0x00, 0x00}));
  CHECK_FALSE(req.reason.has_value());
}

TEST_CASE("JoinGroup responses v0-9 as a client reads them", "[protocol][join_group]") {
  const bytes meta1 = hex({0x00, 0x01, 0x02});
  const bytes meta2 = hex({0x0a});
  join_group_response resp;
  resp.throttle_time_ms = 7;
  resp.error = error_code::none;
  resp.generation_id = 3;
  resp.protocol_type = "consumer";
  resp.protocol_name = "range";
  resp.leader = "member-1";
  resp.skip_assignment = true;
  resp.member_id = "member-1";
  resp.members = {{"member-1", std::nullopt, meta1}, {"member-2", "instance-2", meta2}};

  for (auto v : versions_of(api_key::join_group)) {
    INFO("version " << v);
    const bool flex = v >= 6;
    bytes out = encode_response(resp, v);
    reader r(out);
    if (v >= 2) CHECK(r.read_int32() == 7);
    CHECK(r.read_int16() == 0);
    CHECK(r.read_int32() == 3);
    if (v >= 7) CHECK(r.read_nullable_string(flex) == opt_string{"consumer"});
    if (v >= 7) {
      CHECK(r.read_nullable_string(flex) == opt_string{"range"});
    } else {
      CHECK(r.read_string(flex) == "range");
    }
    CHECK(r.read_string(flex) == "member-1");
    if (v >= 9) CHECK(r.read_bool());
    CHECK(r.read_string(flex) == "member-1");
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_string(flex) == "member-1");
    if (v >= 5) CHECK_FALSE(r.read_nullable_string(flex).has_value());
    CHECK(copy_of(r.read_bytes(flex)) == meta1);
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_string(flex) == "member-2");
    if (v >= 5) CHECK(r.read_nullable_string(flex) == opt_string{"instance-2"});
    CHECK(copy_of(r.read_bytes(flex)) == meta2);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

TEST_CASE("JoinGroup error responses exact bytes: null protocol name by version", "[protocol][join_group]") {
  join_group_response resp;
  resp.error = error_code::member_id_required;
  resp.member_id = "m";
  // protocol_type and protocol_name stay null, as in an answer before a protocol is chosen.

  // v0: error, generation, protocol_name "" (not nullable before v7), leader, member_id,
  // members.
  CHECK(encode_response(resp, 0) == concat({hex({0x00, 0x4f, 0xff, 0xff, 0xff, 0xff,  //
                                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}),
                                            text("m"), hex({0x00, 0x00, 0x00, 0x00})}));
  // v6: flexible, but protocol_name is still not nullable: compact "" (0x01).
  CHECK(encode_response(resp, 6) == concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0xff, 0xff, 0xff, 0xff,  //
                                                 0x01, 0x01, 0x02}),
                                            text("m"), hex({0x01, 0x00})}));
  // v7: protocol_type and protocol_name are both compact null (0x00).
  CHECK(encode_response(resp, 7) == concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0xff, 0xff, 0xff, 0xff,  //
                                                 0x00, 0x00, 0x01, 0x02}),
                                            text("m"), hex({0x01, 0x00})}));
  // v9: skip_assignment (false) after leader.
  CHECK(encode_response(resp, 9) == concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0xff, 0xff, 0xff, 0xff,  //
                                                 0x00, 0x00, 0x01, 0x00, 0x02}),
                                            text("m"), hex({0x01, 0x00})}));
}

// ---- SyncGroup ----------------------------------------------------------------------------

TEST_CASE("SyncGroup requests v0-5", "[protocol][sync_group]") {
  const bytes assignment1 = hex({0x00, 0x01, 0x00, 0x00, 0x00, 0x01});
  for (auto v : versions_of(api_key::sync_group)) {
    INFO("version " << v);
    const bool flex = v >= 4;
    bytes buf;
    writer w(buf);
    w.write_string("group-1", flex);
    w.write_int32(4);
    w.write_string("member-1", flex);
    if (v >= 3) w.write_nullable_string(std::string_view("instance-1"), flex);
    if (v >= 5) w.write_nullable_string(std::string_view("consumer"), flex);
    if (v >= 5) w.write_nullable_string(std::nullopt, flex);
    w.write_array_length(2, flex);
    w.write_string("member-1", flex);
    w.write_bytes(assignment1, flex);
    if (flex) write_unknown_tags(w);
    w.write_string("member-2", flex);
    w.write_bytes(bytes{}, flex);
    if (flex) w.write_empty_tagged_fields();
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = sync_group_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.group_id == "group-1");
    CHECK(req.generation_id == 4);
    CHECK(req.member_id == "member-1");
    CHECK(req.group_instance_id == (v >= 3 ? opt_string{"instance-1"} : opt_string{}));
    CHECK(req.protocol_type == (v >= 5 ? opt_string{"consumer"} : opt_string{}));
    CHECK_FALSE(req.protocol_name.has_value());
    REQUIRE(req.assignments.size() == 2);
    CHECK(req.assignments[0].member_id == "member-1");
    CHECK(copy_of(req.assignments[0].assignment) == assignment1);
    CHECK(inside(buf, req.assignments[0].assignment));
    CHECK(req.assignments[1].member_id == "member-2");
    CHECK(req.assignments[1].assignment.empty());
    require_prefixes_throw(buf, [v](reader& pr) { sync_group_request::decode(pr, v); });
  }
}

TEST_CASE("SyncGroup responses v0-5", "[protocol][sync_group]") {
  const bytes assignment = hex({0x01, 0x02, 0x03});
  sync_group_response resp;
  resp.throttle_time_ms = 9;
  resp.error = error_code::none;
  resp.protocol_type = "consumer";
  resp.protocol_name = std::nullopt;
  resp.assignment = assignment;

  CHECK(encode_response(resp, 0) == hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03}));
  CHECK(encode_response(resp, 4) == hex({0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x00}));

  for (auto v : versions_of(api_key::sync_group)) {
    INFO("version " << v);
    const bool flex = v >= 4;
    bytes out = encode_response(resp, v);
    reader r(out);
    if (v >= 1) CHECK(r.read_int32() == 9);
    CHECK(r.read_int16() == 0);
    if (v >= 5) CHECK(r.read_nullable_string(flex) == opt_string{"consumer"});
    if (v >= 5) CHECK_FALSE(r.read_nullable_string(flex).has_value());
    CHECK(copy_of(r.read_bytes(flex)) == assignment);
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- Heartbeat ----------------------------------------------------------------------------

TEST_CASE("Heartbeat requests v0-4", "[protocol][heartbeat]") {
  for (auto v : versions_of(api_key::heartbeat)) {
    INFO("version " << v);
    const bool flex = v >= 4;
    bytes buf;
    writer w(buf);
    w.write_string("group-1", flex);
    w.write_int32(12);
    w.write_string("member-1", flex);
    if (v >= 3) w.write_nullable_string(v == 3 ? opt_string{} : opt_string{"instance-1"}, flex);
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = heartbeat_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.group_id == "group-1");
    CHECK(req.generation_id == 12);
    CHECK(req.member_id == "member-1");
    CHECK(req.group_instance_id == (v >= 4 ? opt_string{"instance-1"} : opt_string{}));
    require_prefixes_throw(buf, [v](reader& pr) { heartbeat_request::decode(pr, v); });
  }
}

TEST_CASE("Heartbeat responses exact bytes", "[protocol][heartbeat]") {
  heartbeat_response resp;
  resp.throttle_time_ms = 0x0102;
  resp.error = error_code::rebalance_in_progress;
  CHECK(encode_response(resp, 0) == hex({0x00, 0x1b}));
  CHECK(encode_response(resp, 1) == hex({0x00, 0x00, 0x01, 0x02, 0x00, 0x1b}));
  CHECK(encode_response(resp, 3) == hex({0x00, 0x00, 0x01, 0x02, 0x00, 0x1b}));
  CHECK(encode_response(resp, 4) == hex({0x00, 0x00, 0x01, 0x02, 0x00, 0x1b, 0x00}));
}

// ---- LeaveGroup ---------------------------------------------------------------------------

TEST_CASE("LeaveGroup requests v0-5", "[protocol][leave_group]") {
  for (auto v : versions_of(api_key::leave_group)) {
    INFO("version " << v);
    const bool flex = v >= 4;
    bytes buf;
    writer w(buf);
    w.write_string("group-1", flex);
    if (v <= 2) {
      w.write_string("member-1", flex);
    } else {
      w.write_array_length(2, flex);
      w.write_string("member-1", flex);
      w.write_nullable_string(std::string_view("instance-1"), flex);
      if (v >= 5) w.write_nullable_string(std::string_view("shutting down"), flex);
      if (flex) write_unknown_tags(w);
      w.write_string("", flex);
      w.write_nullable_string(std::string_view("instance-2"), flex);
      if (v >= 5) w.write_nullable_string(std::nullopt, flex);
      if (flex) w.write_empty_tagged_fields();
    }
    if (flex) w.write_empty_tagged_fields();

    reader r(buf);
    auto req = leave_group_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.group_id == "group-1");
    if (v <= 2) {
      REQUIRE(req.members.size() == 1);
      CHECK(req.members[0].member_id == "member-1");
      CHECK_FALSE(req.members[0].group_instance_id.has_value());
      CHECK_FALSE(req.members[0].reason.has_value());
    } else {
      REQUIRE(req.members.size() == 2);
      CHECK(req.members[0].member_id == "member-1");
      CHECK(req.members[0].group_instance_id == opt_string{"instance-1"});
      CHECK(req.members[0].reason == (v >= 5 ? opt_string{"shutting down"} : opt_string{}));
      CHECK(req.members[1].member_id.empty());
      CHECK(req.members[1].group_instance_id == opt_string{"instance-2"});
      CHECK_FALSE(req.members[1].reason.has_value());
    }
    require_prefixes_throw(buf, [v](reader& pr) { leave_group_request::decode(pr, v); });
  }
}

TEST_CASE("LeaveGroup responses v0-5", "[protocol][leave_group]") {
  leave_group_response resp;
  resp.throttle_time_ms = 3;
  resp.error = error_code::none;
  resp.members = {{"member-1", std::nullopt, error_code::none}, {"", "instance-2", error_code::unknown_member_id}};

  // v0-2 carry no members array.
  CHECK(encode_response(resp, 0) == hex({0x00, 0x00}));
  CHECK(encode_response(resp, 2) == hex({0x00, 0x00, 0x00, 0x03, 0x00, 0x00}));

  for (auto v : versions_of(api_key::leave_group)) {
    INFO("version " << v);
    const bool flex = v >= 4;
    bytes out = encode_response(resp, v);
    reader r(out);
    if (v >= 1) CHECK(r.read_int32() == 3);
    CHECK(r.read_int16() == 0);
    if (v >= 3) {
      REQUIRE(r.read_array_length(flex) == 2);
      CHECK(r.read_string(flex) == "member-1");
      CHECK_FALSE(r.read_nullable_string(flex).has_value());
      CHECK(r.read_int16() == 0);
      if (flex) r.skip_tagged_fields();
      CHECK(r.read_string(flex).empty());
      CHECK(r.read_nullable_string(flex) == opt_string{"instance-2"});
      CHECK(r.read_int16() == 25);
      if (flex) r.skip_tagged_fields();
    }
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- OffsetCommit -------------------------------------------------------------------------

TEST_CASE("OffsetCommit requests v0-8", "[protocol][offset_commit]") {
  for (auto v : versions_of(api_key::offset_commit)) {
    INFO("version " << v);
    const bool flex = v >= 8;
    bytes buf;
    writer w(buf);
    w.write_string("group-1", flex);
    if (v >= 1) w.write_int32(5);
    if (v >= 1) w.write_string("member-1", flex);
    if (v >= 7) w.write_nullable_string(std::nullopt, flex);
    if (v >= 2 && v <= 4) w.write_int64(86400000);
    w.write_array_length(2, flex);
    w.write_string("orders", flex);
    w.write_array_length(2, flex);
    w.write_int32(0);
    w.write_int64(100);
    if (v >= 6) w.write_int32(7);
    if (v == 1) w.write_int64(1700000000000);
    w.write_nullable_string(std::string_view("meta"), flex);
    if (flex) write_unknown_tags(w);
    w.write_int32(3);
    w.write_int64(std::numeric_limits<std::int64_t>::max());
    if (v >= 6) w.write_int32(-1);
    if (v == 1) w.write_int64(-1);
    w.write_nullable_string(std::nullopt, flex);
    if (flex) w.write_empty_tagged_fields();
    if (flex) w.write_empty_tagged_fields();
    w.write_string("empty", flex);
    w.write_array_length(0, flex);
    if (flex) write_unknown_tags(w);
    if (flex) w.write_empty_tagged_fields();

    reader r(buf);
    auto req = offset_commit_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.group_id == "group-1");
    CHECK(req.generation_id == (v >= 1 ? 5 : -1));
    CHECK(req.member_id == (v >= 1 ? "member-1" : ""));
    CHECK_FALSE(req.group_instance_id.has_value());
    CHECK(req.retention_time_ms == (v >= 2 && v <= 4 ? 86400000 : -1));
    REQUIRE(req.topics.size() == 2);
    CHECK(req.topics[0].name == "orders");
    REQUIRE(req.topics[0].partitions.size() == 2);
    const auto& p0 = req.topics[0].partitions[0];
    CHECK(p0.partition_index == 0);
    CHECK(p0.committed_offset == 100);
    CHECK(p0.committed_leader_epoch == (v >= 6 ? 7 : -1));
    CHECK(p0.commit_timestamp == (v == 1 ? 1700000000000 : -1));
    CHECK(p0.committed_metadata == opt_string{"meta"});
    const auto& p1 = req.topics[0].partitions[1];
    CHECK(p1.partition_index == 3);
    CHECK(p1.committed_offset == std::numeric_limits<std::int64_t>::max());
    CHECK(p1.committed_leader_epoch == -1);
    CHECK_FALSE(p1.committed_metadata.has_value());
    CHECK(req.topics[1].name == "empty");
    CHECK(req.topics[1].partitions.empty());
    require_prefixes_throw(buf, [v](reader& pr) { offset_commit_request::decode(pr, v); });
  }
}

TEST_CASE("OffsetCommit v7 request with a static member", "[protocol][offset_commit]") {
  bytes buf;
  writer w(buf);
  w.write_string("g");
  w.write_int32(1);
  w.write_string("m");
  w.write_nullable_string(std::string_view("instance-1"));
  w.write_array_length(0);
  reader r(buf);
  auto req = offset_commit_request::decode(r, 7);
  CHECK(r.remaining() == 0);
  CHECK(req.group_instance_id == opt_string{"instance-1"});
  CHECK(req.topics.empty());
}

TEST_CASE("OffsetCommit responses v0-8", "[protocol][offset_commit]") {
  offset_commit_response resp;
  resp.throttle_time_ms = 11;
  resp.topics = {{"orders", {{0, error_code::none}, {1, error_code::offset_metadata_too_large}}}};

  CHECK(encode_response(resp, 0) == concat({hex({0x00, 0x00, 0x00, 0x01, 0x00, 0x06}), text("orders"),
                                            hex({0x00, 0x00, 0x00, 0x02,              //
                                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                                                 0x00, 0x00, 0x00, 0x01, 0x00, 0x0c})}));

  for (auto v : versions_of(api_key::offset_commit)) {
    INFO("version " << v);
    const bool flex = v >= 8;
    bytes out = encode_response(resp, v);
    reader r(out);
    if (v >= 3) CHECK(r.read_int32() == 11);
    REQUIRE(r.read_array_length(flex) == 1);
    CHECK(r.read_string(flex) == "orders");
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_int32() == 0);
    CHECK(r.read_int16() == 0);
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_int32() == 1);
    CHECK(r.read_int16() == 12);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- OffsetFetch --------------------------------------------------------------------------

namespace {

void write_offset_fetch_topics(writer& w, bool flex) {
  w.write_array_length(2, flex);
  w.write_string("orders", flex);
  w.write_array_length(2, flex);
  w.write_int32(0);
  w.write_int32(5);
  if (flex) write_unknown_tags(w);
  w.write_string("payments", flex);
  w.write_array_length(0, flex);
  if (flex) w.write_empty_tagged_fields();
}

void check_offset_fetch_topics(const std::optional<std::vector<offset_fetch_request::topic>>& t) {
  REQUIRE(t.has_value());
  REQUIRE(t->size() == 2);
  CHECK((*t)[0].name == "orders");
  CHECK((*t)[0].partition_indexes == std::vector<std::int32_t>{0, 5});
  CHECK((*t)[1].name == "payments");
  CHECK((*t)[1].partition_indexes.empty());
}

}  // namespace

TEST_CASE("OffsetFetch requests v0-8", "[protocol][offset_fetch]") {
  for (auto v : versions_of(api_key::offset_fetch)) {
    INFO("version " << v);
    const bool flex = v >= 6;
    bytes buf;
    writer w(buf);
    if (v <= 7) {
      w.write_string("group-1", flex);
      write_offset_fetch_topics(w, flex);
    } else {
      w.write_array_length(2, flex);
      w.write_string("group-1", flex);
      write_offset_fetch_topics(w, flex);
      w.write_empty_tagged_fields();
      w.write_string("group-2", flex);
      w.write_nullable_array_length(std::nullopt, flex);
      write_unknown_tags(w);
    }
    if (v >= 7) w.write_bool(true);
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = offset_fetch_request::decode(r, v);
    CHECK(r.remaining() == 0);
    REQUIRE(req.groups.size() == (v >= 8 ? 2u : 1u));
    CHECK(req.groups[0].group_id == "group-1");
    check_offset_fetch_topics(req.groups[0].topics);
    if (v >= 8) {
      CHECK(req.groups[1].group_id == "group-2");
      CHECK_FALSE(req.groups[1].topics.has_value());
    }
    CHECK(req.require_stable == (v >= 7));
    require_prefixes_throw(buf, [v](reader& pr) { offset_fetch_request::decode(pr, v); });
  }
}

TEST_CASE("OffsetFetch null topics: every offset from v2, refused on v0-1", "[protocol][offset_fetch]") {
  for (auto v : versions_of(api_key::offset_fetch)) {
    if (v >= 8) continue;
    INFO("version " << v);
    const bool flex = v >= 6;
    bytes buf;
    writer w(buf);
    w.write_string("group-1", flex);
    w.write_nullable_array_length(std::nullopt, flex);
    if (v >= 7) w.write_bool(false);
    if (flex) w.write_empty_tagged_fields();
    reader r(buf);
    if (v <= 1) {
      CHECK_THROWS_AS(offset_fetch_request::decode(r, v), protocol_error);
      continue;
    }
    auto req = offset_fetch_request::decode(r, v);
    CHECK(r.remaining() == 0);
    REQUIRE(req.groups.size() == 1);
    CHECK(req.groups[0].group_id == "group-1");
    CHECK_FALSE(req.groups[0].topics.has_value());
    CHECK_FALSE(req.require_stable);
  }
}

TEST_CASE("OffsetFetch responses v0-8", "[protocol][offset_fetch]") {
  offset_fetch_response::group g;
  g.group_id = "group-1";
  g.error = error_code::none;
  g.topics = {
      {"orders",
       {{0, 42, 3, "meta", error_code::none}, {1, -1, -1, std::nullopt, error_code::unknown_topic_or_partition}}}};
  offset_fetch_response resp;
  resp.throttle_time_ms = 4;
  resp.groups = {g};

  SECTION("v1 exact bytes: no throttle, no top-level error") {
    offset_fetch_response small;
    small.groups = {
        {"group-1", {{"t", {{2, 9, 1, std::nullopt, error_code::none}}}}, error_code::coordinator_not_available}};
    CHECK(encode_response(small, 1) == concat({hex({0x00, 0x00, 0x00, 0x01, 0x00, 0x01}), text("t"),
                                               hex({0x00, 0x00, 0x00, 0x01,                          // one partition
                                                    0x00, 0x00, 0x00, 0x02,                          // partition_index
                                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,  // committed_offset
                                                    0xff, 0xff,                                      // metadata null
                                                    0x00, 0x00})}));                                 // error_code
    // v2 appends the top-level error code.
    bytes v2 = encode_response(small, 2);
    REQUIRE(v2.size() == encode_response(small, 1).size() + 2);
    CHECK(v2[v2.size() - 2] == std::byte{0x00});
    CHECK(v2[v2.size() - 1] == std::byte{0x0f});
  }

  SECTION("every version as a client reads it") {
    for (auto v : versions_of(api_key::offset_fetch)) {
      INFO("version " << v);
      const bool flex = v >= 6;
      bytes out = encode_response(resp, v);
      reader r(out);
      if (v >= 3) CHECK(r.read_int32() == 4);
      if (v >= 8) {
        REQUIRE(r.read_array_length(flex) == 1);
        CHECK(r.read_string(flex) == "group-1");
      }
      REQUIRE(r.read_array_length(flex) == 1);
      CHECK(r.read_string(flex) == "orders");
      REQUIRE(r.read_array_length(flex) == 2);
      CHECK(r.read_int32() == 0);
      CHECK(r.read_int64() == 42);
      if (v >= 5) CHECK(r.read_int32() == 3);
      CHECK(r.read_nullable_string(flex) == opt_string{"meta"});
      CHECK(r.read_int16() == 0);
      if (flex) r.skip_tagged_fields();
      CHECK(r.read_int32() == 1);
      CHECK(r.read_int64() == -1);
      if (v >= 5) CHECK(r.read_int32() == -1);
      CHECK_FALSE(r.read_nullable_string(flex).has_value());
      CHECK(r.read_int16() == 3);
      if (flex) r.skip_tagged_fields();
      if (flex) r.skip_tagged_fields();
      if (v >= 2) CHECK(r.read_int16() == 0);  // v2-7 top level, v8+ per group
      if (v >= 8) r.skip_tagged_fields();
      if (flex) r.skip_tagged_fields();
      CHECK(r.remaining() == 0);
    }
  }

  SECTION("v8 batches groups; v0-7 need exactly one") {
    offset_fetch_response two;
    two.groups = {g, {"group-2", {}, error_code::group_authorization_failed}};
    bytes out = encode_response(two, 8);
    reader r(out);
    CHECK(r.read_int32() == 0);
    REQUIRE(r.read_compact_array_length() == 2);
    CHECK(r.read_compact_string() == "group-1");
    REQUIRE(r.read_compact_array_length() == 1);
    CHECK(r.read_compact_string() == "orders");
    REQUIRE(r.read_compact_array_length() == 2);
    for (int i = 0; i < 2; ++i) {
      r.read_int32();
      r.read_int64();
      r.read_int32();
      r.read_compact_nullable_string();
      r.read_int16();
      r.skip_tagged_fields();
    }
    r.skip_tagged_fields();
    CHECK(r.read_int16() == 0);
    r.skip_tagged_fields();
    CHECK(r.read_compact_string() == "group-2");
    CHECK(r.read_compact_array_length() == 0);
    CHECK(r.read_int16() == 30);
    r.skip_tagged_fields();
    r.skip_tagged_fields();
    CHECK(r.remaining() == 0);

    bytes sink;
    writer w(sink);
    CHECK_THROWS_AS(two.encode(w, 7), std::invalid_argument);
    offset_fetch_response none;
    CHECK_THROWS_AS(none.encode(w, 0), std::invalid_argument);
  }
}

// ---- ListGroups ---------------------------------------------------------------------------

TEST_CASE("ListGroups requests v0-4", "[protocol][list_groups]") {
  for (auto v : versions_of(api_key::list_groups)) {
    INFO("version " << v);
    const bool flex = v >= 3;
    bytes buf;
    writer w(buf);
    if (v >= 4) {
      w.write_compact_array_length(2);
      w.write_compact_string("Stable");
      w.write_compact_string("Empty");
    }
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = list_groups_request::decode(r, v);
    CHECK(r.remaining() == 0);
    if (v >= 4) {
      CHECK(req.states_filter == std::vector<std::string>{"Stable", "Empty"});
    } else {
      CHECK(req.states_filter.empty());
    }
    require_prefixes_throw(buf, [v](reader& pr) { list_groups_request::decode(pr, v); });
  }
}

TEST_CASE("ListGroups responses v0-4", "[protocol][list_groups]") {
  list_groups_response resp;
  resp.throttle_time_ms = 1;
  resp.error = error_code::none;
  resp.groups = {{"group-1", "consumer", "Stable"}, {"connect-1", "connect", "Empty"}};

  list_groups_response one;
  one.groups = {{"g", "consumer", "Stable"}};
  CHECK(encode_response(one, 0) == concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}), text("g"),
                                           hex({0x00, 0x08}), text("consumer")}));
  CHECK(encode_response(one, 4) ==
        concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02}), text("g"), hex({0x09}), text("consumer"),
                hex({0x07}), text("Stable"), hex({0x00, 0x00})}));

  for (auto v : versions_of(api_key::list_groups)) {
    INFO("version " << v);
    const bool flex = v >= 3;
    bytes out = encode_response(resp, v);
    reader r(out);
    if (v >= 1) CHECK(r.read_int32() == 1);
    CHECK(r.read_int16() == 0);
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_string(flex) == "group-1");
    CHECK(r.read_string(flex) == "consumer");
    if (v >= 4) CHECK(r.read_string(flex) == "Stable");
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_string(flex) == "connect-1");
    CHECK(r.read_string(flex) == "connect");
    if (v >= 4) CHECK(r.read_string(flex) == "Empty");
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- DescribeGroups -----------------------------------------------------------------------

TEST_CASE("DescribeGroups requests v0-5", "[protocol][describe_groups]") {
  for (auto v : versions_of(api_key::describe_groups)) {
    INFO("version " << v);
    const bool flex = v >= 5;
    bytes buf;
    writer w(buf);
    w.write_array_length(2, flex);
    w.write_string("group-1", flex);
    w.write_string("group-2", flex);
    if (v >= 3) w.write_bool(true);
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = describe_groups_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.groups == std::vector<std::string>{"group-1", "group-2"});
    CHECK(req.include_authorized_operations == (v >= 3));
    require_prefixes_throw(buf, [v](reader& pr) { describe_groups_request::decode(pr, v); });
  }
}

TEST_CASE("DescribeGroups responses v0-5", "[protocol][describe_groups]") {
  const bytes metadata = hex({0x00, 0x01, 0x00, 0x00});
  const bytes assignment = hex({0x00, 0x01, 0x00, 0x00, 0x00, 0x00});
  describe_groups_response::member m1{"member-1", std::nullopt, "client-1", "/10.0.0.1", metadata, assignment};
  describe_groups_response::member m2{"member-2", "instance-2", "client-2", "/10.0.0.2", bytes{}, bytes{}};
  describe_groups_response resp;
  resp.throttle_time_ms = 6;
  describe_groups_response::group stable;
  stable.group_id = "group-1";
  stable.group_state = "Stable";
  stable.protocol_type = "consumer";
  stable.protocol_data = "range";
  stable.members = {m1, m2};
  stable.authorized_operations = 0x0f;
  describe_groups_response::group dead;
  dead.error = error_code::group_id_not_found;
  dead.group_id = "gone";
  dead.group_state = "Dead";
  resp.groups = {stable, dead};

  describe_groups_response just_dead;
  just_dead.groups = {dead};
  CHECK(encode_response(just_dead, 0) ==
        concat({hex({0x00, 0x00, 0x00, 0x01, 0x00, 0x45, 0x00, 0x04}), text("gone"), hex({0x00, 0x04}), text("Dead"),
                hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00})}));
  // v3 appends authorized_operations, INT32_MIN when not asked for.
  CHECK(encode_response(just_dead, 3) ==
        concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x45, 0x00, 0x04}), text("gone"),
                hex({0x00, 0x04}), text("Dead"),
                hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00})}));

  for (auto v : versions_of(api_key::describe_groups)) {
    INFO("version " << v);
    const bool flex = v >= 5;
    bytes out = encode_response(resp, v);
    reader r(out);
    if (v >= 1) CHECK(r.read_int32() == 6);
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_int16() == 0);
    CHECK(r.read_string(flex) == "group-1");
    CHECK(r.read_string(flex) == "Stable");
    CHECK(r.read_string(flex) == "consumer");
    CHECK(r.read_string(flex) == "range");
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_string(flex) == "member-1");
    if (v >= 4) CHECK_FALSE(r.read_nullable_string(flex).has_value());
    CHECK(r.read_string(flex) == "client-1");
    CHECK(r.read_string(flex) == "/10.0.0.1");
    CHECK(copy_of(r.read_bytes(flex)) == metadata);
    CHECK(copy_of(r.read_bytes(flex)) == assignment);
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_string(flex) == "member-2");
    if (v >= 4) CHECK(r.read_nullable_string(flex) == opt_string{"instance-2"});
    CHECK(r.read_string(flex) == "client-2");
    CHECK(r.read_string(flex) == "/10.0.0.2");
    CHECK(r.read_bytes(flex).empty());
    CHECK(r.read_bytes(flex).empty());
    if (flex) r.skip_tagged_fields();
    if (v >= 3) CHECK(r.read_int32() == 0x0f);
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_int16() == 69);
    CHECK(r.read_string(flex) == "gone");
    CHECK(r.read_string(flex) == "Dead");
    CHECK(r.read_string(flex).empty());
    CHECK(r.read_string(flex).empty());
    CHECK(r.read_array_length(flex) == 0);
    if (v >= 3) CHECK(r.read_int32() == std::numeric_limits<std::int32_t>::min());
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- DeleteGroups -------------------------------------------------------------------------

TEST_CASE("DeleteGroups requests v0-2", "[protocol][delete_groups]") {
  for (auto v : versions_of(api_key::delete_groups)) {
    INFO("version " << v);
    const bool flex = v >= 2;
    bytes buf;
    writer w(buf);
    w.write_array_length(2, flex);
    w.write_string("group-1", flex);
    w.write_string("group-2", flex);
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = delete_groups_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.groups_names == std::vector<std::string>{"group-1", "group-2"});
    require_prefixes_throw(buf, [v](reader& pr) { delete_groups_request::decode(pr, v); });
  }
}

TEST_CASE("DeleteGroups responses v0-2", "[protocol][delete_groups]") {
  delete_groups_response resp;
  resp.throttle_time_ms = 2;
  resp.results = {{"g", error_code::none}, {"busy", error_code::non_empty_group}};

  // throttle_time_ms is there from v0.
  CHECK(encode_response(resp, 0) ==
        concat({hex({0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01}), text("g"),
                hex({0x00, 0x00, 0x00, 0x04}), text("busy"), hex({0x00, 0x44})}));
  CHECK(encode_response(resp, 2) ==
        concat({hex({0x00, 0x00, 0x00, 0x02, 0x03, 0x02}), text("g"), hex({0x00, 0x00, 0x00, 0x05}), text("busy"),
                hex({0x00, 0x44, 0x00, 0x00})}));

  for (auto v : versions_of(api_key::delete_groups)) {
    INFO("version " << v);
    const bool flex = v >= 2;
    bytes out = encode_response(resp, v);
    reader r(out);
    CHECK(r.read_int32() == 2);
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_string(flex) == "g");
    CHECK(r.read_int16() == 0);
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_string(flex) == "busy");
    CHECK(r.read_int16() == 68);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- OffsetDelete -------------------------------------------------------------------------

TEST_CASE("OffsetDelete v0 request", "[protocol][offset_delete]") {
  bytes buf;
  writer w(buf);
  w.write_string("group-1");
  w.write_array_length(2);
  w.write_string("orders");
  w.write_array_length(2);
  w.write_int32(0);
  w.write_int32(7);
  w.write_string("payments");
  w.write_array_length(0);

  reader r(buf);
  auto req = offset_delete_request::decode(r, 0);
  CHECK(r.remaining() == 0);
  CHECK(req.group_id == "group-1");
  REQUIRE(req.topics.size() == 2);
  CHECK(req.topics[0].name == "orders");
  CHECK(req.topics[0].partitions == std::vector<std::int32_t>{0, 7});
  CHECK(req.topics[1].name == "payments");
  CHECK(req.topics[1].partitions.empty());
  require_prefixes_throw(buf, [](reader& pr) { offset_delete_request::decode(pr, 0); });
}

TEST_CASE("OffsetDelete v0 response exact bytes", "[protocol][offset_delete]") {
  offset_delete_response resp;
  resp.error = error_code::none;
  resp.throttle_time_ms = 0x10;
  resp.topics = {{"t", {{0, error_code::none}, {1, error_code::group_subscribed_to_topic}}}};

  // error_code comes before throttle_time_ms in this API.
  CHECK(encode_response(resp, 0) ==
        concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}), text("t"),
                hex({0x00, 0x00, 0x00, 0x02,              //
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                     0x00, 0x00, 0x00, 0x01, 0x00, 0x56})}));

  offset_delete_response refused;
  refused.error = error_code::group_id_not_found;
  bytes out = encode_response(refused, 0);
  reader r(out);
  CHECK(r.read_int16() == 69);
  CHECK(r.read_int32() == 0);
  CHECK(r.read_array_length() == 0);
  CHECK(r.remaining() == 0);
}
