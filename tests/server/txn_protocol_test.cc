// Wire codec tests for the producer and transaction APIs: InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeProducers, DescribeTransactions and
// ListTransactions. Requests are built here the way a client builds them (field by field with
// `writer`) and decoded by the broker's decoders; responses are encoded by the broker and either
// compared byte for byte or walked here field by field the way a client reads them. The field
// layouts follow Kafka's message definitions (clients/src/main/resources/common/message/*.json).

#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "server/protocol/add_offsets_to_txn.h"
#include "server/protocol/add_partitions_to_txn.h"
#include "server/protocol/api_keys.h"
#include "server/protocol/describe_producers.h"
#include "server/protocol/describe_transactions.h"
#include "server/protocol/end_txn.h"
#include "server/protocol/error_codes.h"
#include "server/protocol/init_producer_id.h"
#include "server/protocol/list_transactions.h"
#include "server/protocol/txn_offset_commit.h"
#include "server/protocol/wire.h"
#include "tests/server/wire_test_util.h"

using namespace server::protocol;
using namespace server::protocol::test;

namespace {

constexpr std::int64_t pid = 0x0102030405060708;

}  // namespace

// ---- table --------------------------------------------------------------------------------

TEST_CASE("transaction APIs: versions and flexible versions as Kafka defines them", "[protocol][txn]") {
  // Kafka's api keys, the client-facing max versions served, flexibleVersions from Kafka's
  // definitions.
  const std::vector<std::pair<api_key, std::int16_t>> ids = {
      {api_key::init_producer_id, 22},      {api_key::add_partitions_to_txn, 24},
      {api_key::add_offsets_to_txn, 25},    {api_key::end_txn, 26},
      {api_key::txn_offset_commit, 28},     {api_key::describe_producers, 61},
      {api_key::describe_transactions, 65}, {api_key::list_transactions, 66},
  };
  for (const auto& [key, id] : ids) CHECK(static_cast<std::int16_t>(key) == id);
  check_api_versions({
      {api_key::init_producer_id, 4, 2},
      {api_key::add_partitions_to_txn, 3, 3},
      {api_key::add_offsets_to_txn, 3, 3},
      {api_key::end_txn, 3, 3},
      {api_key::txn_offset_commit, 3, 3},
      {api_key::describe_producers, 0, 0},
      {api_key::describe_transactions, 0, 0},
      {api_key::list_transactions, 1, 0},
  });
}

TEST_CASE("transaction API decoders refuse versions outside the table", "[protocol][txn]") {
  const std::vector<api_decoder> decoders = {
      {api_key::init_producer_id, [](reader& r, std::int16_t v) { init_producer_id_request::decode(r, v); }},
      {api_key::add_partitions_to_txn, [](reader& r, std::int16_t v) { add_partitions_to_txn_request::decode(r, v); }},
      {api_key::add_offsets_to_txn, [](reader& r, std::int16_t v) { add_offsets_to_txn_request::decode(r, v); }},
      {api_key::end_txn, [](reader& r, std::int16_t v) { end_txn_request::decode(r, v); }},
      {api_key::txn_offset_commit, [](reader& r, std::int16_t v) { txn_offset_commit_request::decode(r, v); }},
      {api_key::describe_producers, [](reader& r, std::int16_t v) { describe_producers_request::decode(r, v); }},
      {api_key::describe_transactions, [](reader& r, std::int16_t v) { describe_transactions_request::decode(r, v); }},
      {api_key::list_transactions, [](reader& r, std::int16_t v) { list_transactions_request::decode(r, v); }},
  };
  REQUIRE(decoders.size() == 8);
  check_decoders_refuse_unknown_versions(decoders);
}

// ---- InitProducerId -----------------------------------------------------------------------

TEST_CASE("InitProducerId requests v0-4", "[protocol][init_producer_id]") {
  for (auto v : versions_of(api_key::init_producer_id)) {
    for (const opt_string& txn_id : {opt_string{"txn-1"}, opt_string{}}) {
      INFO("version " << v << (txn_id ? " transactional" : " idempotent"));
      const bool flex = v >= 2;
      bytes buf;
      writer w(buf);
      w.write_nullable_string(txn_id, flex);
      w.write_int32(60000);
      if (v >= 3) w.write_int64(pid);
      if (v >= 3) w.write_int16(7);
      if (flex) write_unknown_tags(w);

      reader r(buf);
      auto req = init_producer_id_request::decode(r, v);
      CHECK(r.remaining() == 0);
      CHECK(req.transactional_id == txn_id);
      CHECK(req.transaction_timeout_ms == 60000);
      CHECK(req.producer_id == (v >= 3 ? pid : -1));
      CHECK(req.producer_epoch == (v >= 3 ? 7 : -1));
      require_prefixes_throw(buf, [v](reader& pr) { init_producer_id_request::decode(pr, v); });
    }
  }
}

TEST_CASE("InitProducerId request exact bytes: idempotent producer, v0 and v4", "[protocol][init_producer_id]") {
  // v0: transactional_id null (int16 -1), transaction_timeout_ms 60000.
  {
    const bytes buf = hex({0xff, 0xff, 0x00, 0x00, 0xea, 0x60});
    reader r(buf);
    auto req = init_producer_id_request::decode(r, 0);
    CHECK(r.remaining() == 0);
    CHECK_FALSE(req.transactional_id.has_value());
    CHECK(req.transaction_timeout_ms == 60000);
    CHECK(req.producer_id == -1);
    CHECK(req.producer_epoch == -1);
  }
  // v4: compact null (0x00), timeout, producer_id -1, producer_epoch -1, no tags.
  {
    const bytes buf =
        hex({0x00, 0x00, 0x00, 0xea, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00});
    reader r(buf);
    auto req = init_producer_id_request::decode(r, 4);
    CHECK(r.remaining() == 0);
    CHECK_FALSE(req.transactional_id.has_value());
    CHECK(req.transaction_timeout_ms == 60000);
    CHECK(req.producer_id == -1);
    CHECK(req.producer_epoch == -1);
  }
  // An empty transactional id is not null: the handler must see the difference.
  {
    const bytes buf = hex({0x00, 0x00, 0x00, 0x00, 0x03, 0xe8});
    reader r(buf);
    auto req = init_producer_id_request::decode(r, 1);
    CHECK(req.transactional_id == opt_string{""});
  }
}

TEST_CASE("InitProducerId responses v0-4", "[protocol][init_producer_id]") {
  init_producer_id_response resp;
  resp.throttle_time_ms = 0;
  resp.error = error_code::none;
  resp.producer_id = 4000;
  resp.producer_epoch = 0;
  CHECK(encode_response(resp, 0) == hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                                         0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xa0, 0x00, 0x00}));
  CHECK(encode_response(resp, 2) == hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                                         0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xa0, 0x00, 0x00, 0x00}));

  init_producer_id_response refused;
  refused.throttle_time_ms = 3;
  refused.error = error_code::concurrent_transactions;
  for (auto v : versions_of(api_key::init_producer_id)) {
    INFO("version " << v);
    const bool flex = v >= 2;
    bytes out = encode_response(refused, v);
    reader r(out);
    CHECK(r.read_int32() == 3);  // throttle_time_ms from v0
    CHECK(r.read_int16() == 51);
    CHECK(r.read_int64() == -1);
    CHECK(r.read_int16() == -1);
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- AddPartitionsToTxn -------------------------------------------------------------------

TEST_CASE("AddPartitionsToTxn requests v0-3", "[protocol][add_partitions_to_txn]") {
  for (auto v : versions_of(api_key::add_partitions_to_txn)) {
    INFO("version " << v);
    const bool flex = v >= 3;
    bytes buf;
    writer w(buf);
    w.write_string("txn-1", flex);
    w.write_int64(pid);
    w.write_int16(2);
    w.write_array_length(3, flex);
    w.write_string("orders", flex);
    w.write_array_length(2, flex);  // []int32: no tagged section per element
    w.write_int32(0);
    w.write_int32(5);
    if (flex) write_unknown_tags(w);
    w.write_string("payments", flex);
    w.write_array_length(1, flex);
    w.write_int32(std::numeric_limits<std::int32_t>::max());
    if (flex) w.write_empty_tagged_fields();
    w.write_string("empty", flex);
    w.write_array_length(0, flex);
    if (flex) w.write_empty_tagged_fields();
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = add_partitions_to_txn_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.transactional_id == "txn-1");
    CHECK(req.producer_id == pid);
    CHECK(req.producer_epoch == 2);
    REQUIRE(req.topics.size() == 3);
    CHECK(req.topics[0].name == "orders");
    CHECK(req.topics[0].partitions == std::vector<std::int32_t>{0, 5});
    CHECK(req.topics[1].name == "payments");
    CHECK(req.topics[1].partitions == std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::max()});
    CHECK(req.topics[2].name == "empty");
    CHECK(req.topics[2].partitions.empty());
    require_prefixes_throw(buf, [v](reader& pr) { add_partitions_to_txn_request::decode(pr, v); });
  }
}

TEST_CASE("AddPartitionsToTxn v3 request exact bytes", "[protocol][add_partitions_to_txn]") {
  const bytes buf = concat({hex({0x02}), text("x"),                                 // txn id
                            hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09}),  // pid 9
                            hex({0x00, 0x01}),                                      // epoch 1
                            hex({0x02, 0x02}), text("t"),                           // topic "t"
                            hex({0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}),
                            hex({0x00, 0x00})});  // topic tags, request tags
  reader r(buf);
  auto req = add_partitions_to_txn_request::decode(r, 3);
  CHECK(r.remaining() == 0);
  CHECK(req.transactional_id == "x");
  CHECK(req.producer_id == 9);
  CHECK(req.producer_epoch == 1);
  REQUIRE(req.topics.size() == 1);
  CHECK(req.topics[0].name == "t");
  CHECK(req.topics[0].partitions == std::vector<std::int32_t>{0, 1});
}

TEST_CASE("AddPartitionsToTxn responses v0-3", "[protocol][add_partitions_to_txn]") {
  add_partitions_to_txn_response small;
  small.results = {{"t", {{0, error_code::none}, {1, error_code::invalid_producer_epoch}}}};
  // throttle_time_ms from v0; ResultsByTopicV3AndBelow, no top-level error code.
  CHECK(encode_response(small, 0) ==
        concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}), text("t"),
                hex({0x00, 0x00, 0x00, 0x02,              //
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                     0x00, 0x00, 0x00, 0x01, 0x00, 0x2f})}));
  CHECK(encode_response(small, 3) == concat({hex({0x00, 0x00, 0x00, 0x00, 0x02, 0x02}), text("t"),
                                             hex({0x03,                                      //
                                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                                                  0x00, 0x00, 0x00, 0x01, 0x00, 0x2f, 0x00,  //
                                                  0x00, 0x00})}));

  add_partitions_to_txn_response resp;
  resp.throttle_time_ms = 8;
  resp.results = {{"orders", {{0, error_code::none}, {5, error_code::concurrent_transactions}}},
                  {"gone", {{0, error_code::unknown_topic_or_partition}}},
                  {"empty", {}}};
  for (auto v : versions_of(api_key::add_partitions_to_txn)) {
    INFO("version " << v);
    const bool flex = v >= 3;
    bytes out = encode_response(resp, v);
    reader r(out);
    CHECK(r.read_int32() == 8);
    REQUIRE(r.read_array_length(flex) == 3);
    CHECK(r.read_string(flex) == "orders");
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_int32() == 0);
    CHECK(r.read_int16() == 0);
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_int32() == 5);
    CHECK(r.read_int16() == 51);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_string(flex) == "gone");
    REQUIRE(r.read_array_length(flex) == 1);
    CHECK(r.read_int32() == 0);
    CHECK(r.read_int16() == 3);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_string(flex) == "empty");
    CHECK(r.read_array_length(flex) == 0);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- AddOffsetsToTxn ----------------------------------------------------------------------

TEST_CASE("AddOffsetsToTxn requests v0-3", "[protocol][add_offsets_to_txn]") {
  for (auto v : versions_of(api_key::add_offsets_to_txn)) {
    INFO("version " << v);
    const bool flex = v >= 3;
    bytes buf;
    writer w(buf);
    w.write_string("txn-1", flex);
    w.write_int64(pid);
    w.write_int16(std::numeric_limits<std::int16_t>::max());
    w.write_string("group-1", flex);
    if (flex) write_unknown_tags(w);

    reader r(buf);
    auto req = add_offsets_to_txn_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.transactional_id == "txn-1");
    CHECK(req.producer_id == pid);
    CHECK(req.producer_epoch == std::numeric_limits<std::int16_t>::max());
    CHECK(req.group_id == "group-1");
    require_prefixes_throw(buf, [v](reader& pr) { add_offsets_to_txn_request::decode(pr, v); });
  }
}

TEST_CASE("AddOffsetsToTxn responses exact bytes", "[protocol][add_offsets_to_txn]") {
  add_offsets_to_txn_response resp;
  resp.throttle_time_ms = 0x0102;
  resp.error = error_code::producer_fenced;
  for (auto v : versions_of(api_key::add_offsets_to_txn)) {
    INFO("version " << v);
    bytes expected = hex({0x00, 0x00, 0x01, 0x02, 0x00, 0x5a});
    if (v >= 3) expected.push_back(std::byte{0x00});
    CHECK(encode_response(resp, v) == expected);
  }
}

// ---- EndTxn -------------------------------------------------------------------------------

TEST_CASE("EndTxn requests v0-3", "[protocol][end_txn]") {
  for (auto v : versions_of(api_key::end_txn)) {
    for (bool committed : {true, false}) {
      INFO("version " << v << (committed ? " commit" : " abort"));
      const bool flex = v >= 3;
      bytes buf;
      writer w(buf);
      w.write_string("txn-1", flex);
      w.write_int64(pid);
      w.write_int16(3);
      w.write_bool(committed);
      if (flex) write_unknown_tags(w);

      reader r(buf);
      auto req = end_txn_request::decode(r, v);
      CHECK(r.remaining() == 0);
      CHECK(req.transactional_id == "txn-1");
      CHECK(req.producer_id == pid);
      CHECK(req.producer_epoch == 3);
      CHECK(req.committed == committed);
      require_prefixes_throw(buf, [v](reader& pr) { end_txn_request::decode(pr, v); });
    }
  }
}

TEST_CASE("EndTxn v0 request exact bytes", "[protocol][end_txn]") {
  const bytes buf = concat({hex({0x00, 0x01}), text("x"),                           //
                            hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00}),  // pid
                            hex({0x00, 0x04}),                                      // epoch
                            hex({0x01})});                                          // commit
  reader r(buf);
  auto req = end_txn_request::decode(r, 0);
  CHECK(r.remaining() == 0);
  CHECK(req.transactional_id == "x");
  CHECK(req.producer_id == 0x1000);
  CHECK(req.producer_epoch == 4);
  CHECK(req.committed);
}

TEST_CASE("EndTxn responses exact bytes", "[protocol][end_txn]") {
  end_txn_response resp;
  resp.throttle_time_ms = 1;
  resp.error = error_code::invalid_txn_state;
  for (auto v : versions_of(api_key::end_txn)) {
    INFO("version " << v);
    bytes expected = hex({0x00, 0x00, 0x00, 0x01, 0x00, 0x30});
    if (v >= 3) expected.push_back(std::byte{0x00});
    CHECK(encode_response(resp, v) == expected);
  }
}

// ---- TxnOffsetCommit ----------------------------------------------------------------------

TEST_CASE("TxnOffsetCommit requests v0-3", "[protocol][txn_offset_commit]") {
  for (auto v : versions_of(api_key::txn_offset_commit)) {
    for (const opt_string& instance : {opt_string{"instance-1"}, opt_string{}}) {
      INFO("version " << v << (instance ? " static member" : " dynamic member"));
      const bool flex = v >= 3;
      bytes buf;
      writer w(buf);
      w.write_string("txn-1", flex);
      w.write_string("group-1", flex);
      w.write_int64(pid);
      w.write_int16(1);
      if (v >= 3) w.write_int32(6);
      if (v >= 3) w.write_string("member-1", flex);
      if (v >= 3) w.write_nullable_string(instance, flex);
      w.write_array_length(2, flex);
      w.write_string("orders", flex);
      w.write_array_length(2, flex);
      w.write_int32(0);
      w.write_int64(100);
      if (v >= 2) w.write_int32(7);
      w.write_nullable_string(std::string_view("meta"), flex);
      if (flex) write_unknown_tags(w);
      w.write_int32(3);
      w.write_int64(std::numeric_limits<std::int64_t>::max());
      if (v >= 2) w.write_int32(-1);
      w.write_nullable_string(std::nullopt, flex);
      if (flex) w.write_empty_tagged_fields();
      if (flex) write_unknown_tags(w);
      w.write_string("empty", flex);
      w.write_array_length(0, flex);
      if (flex) w.write_empty_tagged_fields();
      if (flex) write_unknown_tags(w);

      reader r(buf);
      auto req = txn_offset_commit_request::decode(r, v);
      CHECK(r.remaining() == 0);
      CHECK(req.transactional_id == "txn-1");
      CHECK(req.group_id == "group-1");
      CHECK(req.producer_id == pid);
      CHECK(req.producer_epoch == 1);
      CHECK(req.generation_id == (v >= 3 ? 6 : -1));
      CHECK(req.member_id == (v >= 3 ? "member-1" : ""));
      CHECK(req.group_instance_id == (v >= 3 ? instance : opt_string{}));
      REQUIRE(req.topics.size() == 2);
      CHECK(req.topics[0].name == "orders");
      REQUIRE(req.topics[0].partitions.size() == 2);
      const auto& p0 = req.topics[0].partitions[0];
      CHECK(p0.partition_index == 0);
      CHECK(p0.committed_offset == 100);
      CHECK(p0.committed_leader_epoch == (v >= 2 ? 7 : -1));
      CHECK(p0.committed_metadata == opt_string{"meta"});
      const auto& p1 = req.topics[0].partitions[1];
      CHECK(p1.partition_index == 3);
      CHECK(p1.committed_offset == std::numeric_limits<std::int64_t>::max());
      CHECK(p1.committed_leader_epoch == -1);
      CHECK_FALSE(p1.committed_metadata.has_value());
      CHECK(req.topics[1].name == "empty");
      CHECK(req.topics[1].partitions.empty());
      require_prefixes_throw(buf, [v](reader& pr) { txn_offset_commit_request::decode(pr, v); });
    }
  }
}

TEST_CASE("TxnOffsetCommit v0 request exact bytes", "[protocol][txn_offset_commit]") {
  const bytes buf = concat({hex({0x00, 0x01}), text("x"),                           // txn id
                            hex({0x00, 0x01}), text("g"),                           // group
                            hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02}),  // pid
                            hex({0x00, 0x00}),                                      // epoch
                            hex({0x00, 0x00, 0x00, 0x01, 0x00, 0x01}), text("t"),   // topic
                            hex({0x00, 0x00, 0x00, 0x01,                            //
                                 0x00, 0x00, 0x00, 0x04,                            // part 4
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,    // offset 42
                                 0xff, 0xff})});                                    // null meta
  reader r(buf);
  auto req = txn_offset_commit_request::decode(r, 0);
  CHECK(r.remaining() == 0);
  CHECK(req.transactional_id == "x");
  CHECK(req.group_id == "g");
  CHECK(req.producer_id == 2);
  CHECK(req.producer_epoch == 0);
  CHECK(req.generation_id == -1);
  CHECK(req.member_id.empty());
  CHECK_FALSE(req.group_instance_id.has_value());
  REQUIRE(req.topics.size() == 1);
  REQUIRE(req.topics[0].partitions.size() == 1);
  CHECK(req.topics[0].partitions[0].partition_index == 4);
  CHECK(req.topics[0].partitions[0].committed_offset == 42);
  CHECK(req.topics[0].partitions[0].committed_leader_epoch == -1);
  CHECK_FALSE(req.topics[0].partitions[0].committed_metadata.has_value());
}

TEST_CASE("TxnOffsetCommit responses v0-3", "[protocol][txn_offset_commit]") {
  txn_offset_commit_response small;
  small.topics = {{"t", {{0, error_code::none}, {3, error_code::unknown_member_id}}}};
  CHECK(encode_response(small, 0) ==
        concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}), text("t"),
                hex({0x00, 0x00, 0x00, 0x02,              //
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                     0x00, 0x00, 0x00, 0x03, 0x00, 0x19})}));
  CHECK(encode_response(small, 3) == concat({hex({0x00, 0x00, 0x00, 0x00, 0x02, 0x02}), text("t"),
                                             hex({0x03,                                      //
                                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                                                  0x00, 0x00, 0x00, 0x03, 0x00, 0x19, 0x00,  //
                                                  0x00, 0x00})}));

  txn_offset_commit_response resp;
  resp.throttle_time_ms = 12;
  resp.topics = {{"orders", {{0, error_code::none}, {1, error_code::illegal_generation}}},
                 {"payments", {{2, error_code::fenced_instance_id}}}};
  for (auto v : versions_of(api_key::txn_offset_commit)) {
    INFO("version " << v);
    const bool flex = v >= 3;
    bytes out = encode_response(resp, v);
    reader r(out);
    CHECK(r.read_int32() == 12);  // throttle_time_ms from v0
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_string(flex) == "orders");
    REQUIRE(r.read_array_length(flex) == 2);
    CHECK(r.read_int32() == 0);
    CHECK(r.read_int16() == 0);
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_int32() == 1);
    CHECK(r.read_int16() == 22);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.read_string(flex) == "payments");
    REQUIRE(r.read_array_length(flex) == 1);
    CHECK(r.read_int32() == 2);
    CHECK(r.read_int16() == 82);
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    if (flex) r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}

// ---- DescribeProducers --------------------------------------------------------------------

TEST_CASE("DescribeProducers v0 request", "[protocol][describe_producers]") {
  bytes buf;
  writer w(buf);
  w.write_compact_array_length(2);
  w.write_compact_string("orders");
  w.write_compact_array_length(3);  // []int32: no tagged section per element
  w.write_int32(0);
  w.write_int32(1);
  w.write_int32(9);
  write_unknown_tags(w);
  w.write_compact_string("payments");
  w.write_compact_array_length(0);
  w.write_empty_tagged_fields();
  write_unknown_tags(w);

  reader r(buf);
  auto req = describe_producers_request::decode(r, 0);
  CHECK(r.remaining() == 0);
  REQUIRE(req.topics.size() == 2);
  CHECK(req.topics[0].name == "orders");
  CHECK(req.topics[0].partition_indexes == std::vector<std::int32_t>{0, 1, 9});
  CHECK(req.topics[1].name == "payments");
  CHECK(req.topics[1].partition_indexes.empty());
  require_prefixes_throw(buf, [](reader& pr) { describe_producers_request::decode(pr, 0); });

  // Topics is not nullable: a compact null (0x00) is refused, not read as "every topic".
  const bytes null_topics = hex({0x00, 0x00});
  reader nr(null_topics);
  CHECK_THROWS_AS(describe_producers_request::decode(nr, 0), protocol_error);
}

TEST_CASE("DescribeProducers v0 response", "[protocol][describe_producers]") {
  describe_producers_response::producer p;
  p.producer_id = 7;
  p.producer_epoch = 2;
  p.last_sequence = 9;
  p.last_timestamp = 1000;
  p.coordinator_epoch = -1;
  p.current_txn_start_offset = -1;
  describe_producers_response small;
  small.topics = {{"t", {{0, error_code::none, std::nullopt, {p}}}}};
  CHECK(encode_response(small, 0) == concat({hex({0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
                                                  0x02, 0x02}),            // one topic, name "t"
                                             text("t"),
                                             hex({0x02,                                            // one partition
                                                  0x00, 0x00, 0x00, 0x00,                          // partition_index
                                                  0x00, 0x00,                                      // error_code
                                                  0x00,                                            // error_message null
                                                  0x02,                                            // one producer
                                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,  // producer_id
                                                  0x00, 0x00, 0x00, 0x02,  // producer_epoch: int32
                                                  0x00, 0x00, 0x00, 0x09,  // last_sequence
                                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // last_timestamp
                                                  0xff, 0xff, 0xff, 0xff,                          // coordinator_epoch
                                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // current_txn_start
                                                  0x00, 0x00, 0x00, 0x00})}));  // producer, partition, topic, top tags

  describe_producers_response resp;
  resp.throttle_time_ms = 5;
  describe_producers_response::producer in_txn{pid, 70000, 41, 1700000000000, 3, 1234};
  resp.topics = {{"orders",
                  {{0, error_code::none, std::nullopt, {p, in_txn}},
                   {7, error_code::not_leader_or_follower, "partition 7 is not here", {}}}},
                 {"gone", {{0, error_code::unknown_topic_or_partition, std::nullopt, {}}}}};
  bytes out = encode_response(resp, 0);
  reader r(out);
  CHECK(r.read_int32() == 5);
  REQUIRE(r.read_compact_array_length() == 2);
  CHECK(r.read_compact_string() == "orders");
  REQUIRE(r.read_compact_array_length() == 2);
  CHECK(r.read_int32() == 0);
  CHECK(r.read_int16() == 0);
  CHECK_FALSE(r.read_compact_nullable_string().has_value());
  REQUIRE(r.read_compact_array_length() == 2);
  CHECK(r.read_int64() == 7);
  CHECK(r.read_int32() == 2);
  CHECK(r.read_int32() == 9);
  CHECK(r.read_int64() == 1000);
  CHECK(r.read_int32() == -1);
  CHECK(r.read_int64() == -1);
  r.skip_tagged_fields();
  CHECK(r.read_int64() == pid);
  CHECK(r.read_int32() == 70000);  // an epoch above INT16_MAX survives: int32 on the wire
  CHECK(r.read_int32() == 41);
  CHECK(r.read_int64() == 1700000000000);
  CHECK(r.read_int32() == 3);
  CHECK(r.read_int64() == 1234);
  r.skip_tagged_fields();
  r.skip_tagged_fields();
  CHECK(r.read_int32() == 7);
  CHECK(r.read_int16() == 6);
  CHECK(r.read_compact_nullable_string() == opt_string{"partition 7 is not here"});
  CHECK(r.read_compact_array_length() == 0);
  r.skip_tagged_fields();
  r.skip_tagged_fields();
  CHECK(r.read_compact_string() == "gone");
  REQUIRE(r.read_compact_array_length() == 1);
  CHECK(r.read_int32() == 0);
  CHECK(r.read_int16() == 3);
  CHECK_FALSE(r.read_compact_nullable_string().has_value());
  CHECK(r.read_compact_array_length() == 0);
  r.skip_tagged_fields();
  r.skip_tagged_fields();
  r.skip_tagged_fields();
  CHECK(r.remaining() == 0);
}

// ---- DescribeTransactions -----------------------------------------------------------------

TEST_CASE("DescribeTransactions v0 request", "[protocol][describe_transactions]") {
  bytes buf;
  writer w(buf);
  w.write_compact_array_length(2);
  w.write_compact_string("txn-1");
  w.write_compact_string("txn-2");
  write_unknown_tags(w);

  reader r(buf);
  auto req = describe_transactions_request::decode(r, 0);
  CHECK(r.remaining() == 0);
  CHECK(req.transactional_ids == std::vector<std::string>{"txn-1", "txn-2"});
  require_prefixes_throw(buf, [](reader& pr) { describe_transactions_request::decode(pr, 0); });

  // An empty list is legal and asks for nothing.
  const bytes empty = hex({0x01, 0x00});
  reader er(empty);
  CHECK(describe_transactions_request::decode(er, 0).transactional_ids.empty());
  CHECK(er.remaining() == 0);
}

TEST_CASE("DescribeTransactions v0 response", "[protocol][describe_transactions]") {
  describe_transactions_response::transaction ongoing;
  ongoing.error = error_code::none;
  ongoing.transactional_id = "x";
  ongoing.transaction_state = "Ongoing";
  ongoing.transaction_timeout_ms = 60000;
  ongoing.transaction_start_time_ms = 0x0102030405;
  ongoing.producer_id = 9;
  ongoing.producer_epoch = 1;
  ongoing.topics = {{"t", {0, 1}}};
  describe_transactions_response small;
  small.transaction_states = {ongoing};
  CHECK(encode_response(small, 0) ==
        concat({hex({0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
                     0x02,                    // one transaction
                     0x00, 0x00,              // error_code
                     0x02}),
                text("x"), hex({0x08}), text("Ongoing"),
                hex({0x00, 0x00, 0xea, 0x60,                          // transaction_timeout_ms
                     0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,  // start time
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,  // producer_id
                     0x00, 0x01,                                      // producer_epoch int16
                     0x02, 0x02}),                                    // one topic, "t"
                text("t"),
                hex({0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // []int32, no tags
                     0x00, 0x00, 0x00})}));                                 // topic, transaction, top tags

  describe_transactions_response::transaction missing;
  missing.error = error_code::transactional_id_not_found;
  missing.transactional_id = "nope";
  describe_transactions_response resp;
  resp.throttle_time_ms = 2;
  resp.transaction_states = {ongoing, missing};
  resp.transaction_states[0].topics.push_back({"u", {}});
  bytes out = encode_response(resp, 0);
  reader r(out);
  CHECK(r.read_int32() == 2);
  REQUIRE(r.read_compact_array_length() == 2);
  CHECK(r.read_int16() == 0);
  CHECK(r.read_compact_string() == "x");
  CHECK(r.read_compact_string() == "Ongoing");
  CHECK(r.read_int32() == 60000);
  CHECK(r.read_int64() == 0x0102030405);
  CHECK(r.read_int64() == 9);
  CHECK(r.read_int16() == 1);
  REQUIRE(r.read_compact_array_length() == 2);
  CHECK(r.read_compact_string() == "t");
  REQUIRE(r.read_compact_array_length() == 2);
  CHECK(r.read_int32() == 0);
  CHECK(r.read_int32() == 1);
  r.skip_tagged_fields();
  CHECK(r.read_compact_string() == "u");
  CHECK(r.read_compact_array_length() == 0);
  r.skip_tagged_fields();
  r.skip_tagged_fields();
  CHECK(r.read_int16() == 105);
  CHECK(r.read_compact_string() == "nope");
  CHECK(r.read_compact_string().empty());
  CHECK(r.read_int32() == 0);
  CHECK(r.read_int64() == -1);
  CHECK(r.read_int64() == -1);
  CHECK(r.read_int16() == -1);
  CHECK(r.read_compact_array_length() == 0);
  r.skip_tagged_fields();
  r.skip_tagged_fields();
  CHECK(r.remaining() == 0);
}

// ---- ListTransactions ---------------------------------------------------------------------

TEST_CASE("ListTransactions requests v0-1", "[protocol][list_transactions]") {
  for (auto v : versions_of(api_key::list_transactions)) {
    INFO("version " << v);
    bytes buf;
    writer w(buf);
    w.write_compact_array_length(2);
    w.write_compact_string("Ongoing");
    w.write_compact_string("PrepareCommit");
    w.write_compact_array_length(2);
    w.write_int64(pid);
    w.write_int64(0);
    if (v >= 1) w.write_int64(3600000);
    write_unknown_tags(w);

    reader r(buf);
    auto req = list_transactions_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.state_filters == std::vector<std::string>{"Ongoing", "PrepareCommit"});
    CHECK(req.producer_id_filters == std::vector<std::int64_t>{pid, 0});
    CHECK(req.duration_filter == (v >= 1 ? 3600000 : -1));
    require_prefixes_throw(buf, [v](reader& pr) { list_transactions_request::decode(pr, v); });
  }
}

TEST_CASE("ListTransactions request exact bytes: no filters, as kafka-transactions.sh sends",
          "[protocol][list_transactions]") {
  {
    const bytes buf = hex({0x01, 0x01, 0x00});
    reader r(buf);
    auto req = list_transactions_request::decode(r, 0);
    CHECK(r.remaining() == 0);
    CHECK(req.state_filters.empty());
    CHECK(req.producer_id_filters.empty());
    CHECK(req.duration_filter == -1);
  }
  {
    const bytes buf = hex({0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00});
    reader r(buf);
    auto req = list_transactions_request::decode(r, 1);
    CHECK(r.remaining() == 0);
    CHECK(req.duration_filter == -1);
  }
}

TEST_CASE("ListTransactions responses v0-1", "[protocol][list_transactions]") {
  list_transactions_response small;
  small.unknown_state_filters = {"Bogus"};
  small.transaction_states = {{"x", 9, "Ongoing"}};
  const bytes expected =
      concat({hex({0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
                   0x00, 0x00,              // error_code
                   0x02, 0x06}),            // one unknown state filter
              text("Bogus"), hex({0x02, 0x02}), text("x"), hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x08}),
              text("Ongoing"), hex({0x00, 0x00})});  // transaction, top tags
  // v1 changes only the request.
  CHECK(encode_response(small, 0) == expected);
  CHECK(encode_response(small, 1) == expected);

  list_transactions_response resp;
  resp.throttle_time_ms = 4;
  resp.error = error_code::coordinator_load_in_progress;
  resp.transaction_states = {{"txn-1", pid, "Ongoing"}, {"txn-2", 0, "CompleteCommit"}};
  for (auto v : versions_of(api_key::list_transactions)) {
    INFO("version " << v);
    bytes out = encode_response(resp, v);
    reader r(out);
    CHECK(r.read_int32() == 4);
    CHECK(r.read_int16() == 14);
    CHECK(r.read_compact_array_length() == 0);
    REQUIRE(r.read_compact_array_length() == 2);
    CHECK(r.read_compact_string() == "txn-1");
    CHECK(r.read_int64() == pid);
    CHECK(r.read_compact_string() == "Ongoing");
    r.skip_tagged_fields();
    CHECK(r.read_compact_string() == "txn-2");
    CHECK(r.read_int64() == 0);
    CHECK(r.read_compact_string() == "CompleteCommit");
    r.skip_tagged_fields();
    r.skip_tagged_fields();
    CHECK(r.remaining() == 0);
  }
}
