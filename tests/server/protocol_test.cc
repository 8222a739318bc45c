// Kafka wire codec tests. Requests are built here the way a client builds them (field by field
// with `writer`) and decoded by the broker's decoders; responses are encoded by the broker and
// either compared byte for byte or walked here field by field the way a client reads them.

#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "server/protocol/api_keys.h"
#include "server/protocol/api_versions.h"
#include "server/protocol/create_topics.h"
#include "server/protocol/delete_topics.h"
#include "server/protocol/describe_configs.h"
#include "server/protocol/error_codes.h"
#include "server/protocol/fetch.h"
#include "server/protocol/find_coordinator.h"
#include "server/protocol/header.h"
#include "server/protocol/list_offsets.h"
#include "server/protocol/metadata.h"
#include "server/protocol/produce.h"
#include "server/protocol/wire.h"
#include "tests/server/wire_test_util.h"

using namespace server::protocol;
using namespace server::protocol::test;

namespace {

bytes pattern(std::size_t n, int seed) {
  bytes out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::byte>((seed + i * 7) & 0xff));
  return out;
}

std::string as_string(byte_view v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size()); }

uuid make_uuid(int seed) {
  uuid u{};
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = static_cast<std::uint8_t>(seed + i);
  return u;
}

}  // namespace

// ---- primitives ---------------------------------------------------------------------------

TEST_CASE("fixed-width integers are big-endian and round trip", "[protocol][wire]") {
  bytes buf;
  writer w(buf);
  w.write_int8(-2);
  w.write_int16(0x0102);
  w.write_int32(-2);
  w.write_int64(0x0102030405060708);
  w.write_uint32(0xfffffffe);
  w.write_bool(true);
  w.write_bool(false);
  REQUIRE(buf == hex({0xfe, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04,
                      0x05, 0x06, 0x07, 0x08, 0xff, 0xff, 0xff, 0xfe, 0x01, 0x00}));
  reader r(buf);
  CHECK(r.read_int8() == -2);
  CHECK(r.read_int16() == 0x0102);
  CHECK(r.read_int32() == -2);
  CHECK(r.read_int64() == 0x0102030405060708);
  CHECK(r.read_uint32() == 0xfffffffe);
  CHECK(r.read_bool());
  CHECK_FALSE(r.read_bool());
  CHECK(r.remaining() == 0);
  CHECK(r.position() == buf.size());
}

TEST_CASE("varint edge values and zigzag negatives", "[protocol][wire]") {
  struct sample {
    std::int32_t value;
    bytes encoded;
  };
  const std::vector<sample> samples = {
      {0, hex({0x00})},
      {-1, hex({0x01})},
      {1, hex({0x02})},
      {63, hex({0x7e})},
      {-64, hex({0x7f})},
      {64, hex({0x80, 0x01})},
      {-65, hex({0x81, 0x01})},
      {300, hex({0xd8, 0x04})},
      {std::numeric_limits<std::int32_t>::max(), hex({0xfe, 0xff, 0xff, 0xff, 0x0f})},
      {std::numeric_limits<std::int32_t>::min(), hex({0xff, 0xff, 0xff, 0xff, 0x0f})},
  };
  for (const auto& s : samples) {
    bytes buf;
    writer w(buf);
    w.write_varint(s.value);
    CHECK(buf == s.encoded);
    reader r(buf);
    CHECK(r.read_varint() == s.value);
    CHECK(r.remaining() == 0);
  }
}

TEST_CASE("varlong edge values", "[protocol][wire]") {
  const std::vector<std::int64_t> values = {0,
                                            -1,
                                            1,
                                            std::numeric_limits<std::int32_t>::max() + 1LL,
                                            std::numeric_limits<std::int64_t>::max(),
                                            std::numeric_limits<std::int64_t>::min()};
  for (auto v : values) {
    bytes buf;
    writer w(buf);
    w.write_varlong(v);
    reader r(buf);
    CHECK(r.read_varlong() == v);
    CHECK(r.remaining() == 0);
  }
  bytes max_enc;
  writer w(max_enc);
  w.write_varlong(std::numeric_limits<std::int64_t>::max());
  CHECK(max_enc == hex({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST_CASE("unsigned varint encodings", "[protocol][wire]") {
  struct sample {
    std::uint32_t value;
    bytes encoded;
  };
  const std::vector<sample> samples = {
      {0, hex({0x00})},
      {127, hex({0x7f})},
      {128, hex({0x80, 0x01})},
      {300, hex({0xac, 0x02})},
      {std::numeric_limits<std::uint32_t>::max(), hex({0xff, 0xff, 0xff, 0xff, 0x0f})},
  };
  for (const auto& s : samples) {
    bytes buf;
    writer w(buf);
    w.write_unsigned_varint(s.value);
    CHECK(buf == s.encoded);
    reader r(buf);
    CHECK(r.read_unsigned_varint() == s.value);
  }
}

TEST_CASE("malformed varints are refused", "[protocol][wire]") {
  SECTION("six bytes") {
    bytes b = hex({0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
    reader r(b);
    CHECK_THROWS_AS(r.read_unsigned_varint(), protocol_error);
  }
  SECTION("fifth byte overflows 32 bits") {
    bytes b = hex({0xff, 0xff, 0xff, 0xff, 0x1f});
    reader r(b);
    CHECK_THROWS_AS(r.read_varint(), protocol_error);
  }
  SECTION("continuation bit at end of input") {
    bytes b = hex({0x80});
    reader r(b);
    CHECK_THROWS_AS(r.read_unsigned_varint(), protocol_error);
  }
  SECTION("varlong eleven bytes") {
    bytes b = hex({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
    reader r(b);
    CHECK_THROWS_AS(r.read_varlong(), protocol_error);
  }
  SECTION("varlong tenth byte overflows 64 bits") {
    bytes b = hex({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
    reader r(b);
    CHECK_THROWS_AS(r.read_varlong(), protocol_error);
  }
}

TEST_CASE("classic and compact strings round trip", "[protocol][wire]") {
  bytes buf;
  writer w(buf);
  w.write_string("abc");
  w.write_nullable_string(std::nullopt);
  w.write_nullable_string(std::string_view(""));
  w.write_compact_string("hello");
  w.write_compact_nullable_string(std::nullopt);
  w.write_compact_string("");
  REQUIRE(buf == concat({hex({0x00, 0x03}), text("abc"), hex({0xff, 0xff}), hex({0x00, 0x00}), hex({0x06}),
                         text("hello"), hex({0x00}), hex({0x01})}));
  reader r(buf);
  CHECK(r.read_string() == "abc");
  CHECK(r.read_nullable_string() == std::nullopt);
  CHECK(r.read_nullable_string() == std::optional<std::string>(""));
  CHECK(r.read_compact_string() == "hello");
  CHECK(r.read_compact_nullable_string() == std::nullopt);
  CHECK(r.read_compact_string().empty());
  CHECK(r.remaining() == 0);
}

TEST_CASE("bytes are views into the input buffer", "[protocol][wire]") {
  bytes buf;
  writer w(buf);
  w.write_bytes(text("xyz"));
  w.write_compact_bytes(text("pq"));
  w.write_nullable_bytes(std::nullopt);
  w.write_compact_nullable_bytes(std::nullopt);
  reader r(buf);
  byte_view a = r.read_bytes();
  CHECK(a.data() == buf.data() + 4);
  CHECK(as_string(a) == "xyz");
  CHECK(r.offset_of(a) == 4);
  byte_view b = r.read_compact_bytes();
  CHECK(b.data() == buf.data() + 8);
  CHECK(as_string(b) == "pq");
  CHECK_FALSE(r.read_nullable_bytes().has_value());
  CHECK_FALSE(r.read_compact_nullable_bytes().has_value());
  CHECK(r.remaining() == 0);
}

TEST_CASE("short or malformed input throws protocol_error", "[protocol][wire]") {
  SECTION("int32 from three bytes") {
    bytes b = hex({0x00, 0x00, 0x01});
    reader r(b);
    CHECK_THROWS_AS(r.read_int32(), protocol_error);
    CHECK_THROWS_WITH(r.read_int32(), Catch::Contains("int32"));
  }
  SECTION("string longer than the input") {
    bytes b = concat({hex({0x00, 0x05}), text("abc")});
    reader r(b);
    CHECK_THROWS_WITH(r.read_string(), Catch::Contains("string"));
  }
  SECTION("null where a string is required") {
    bytes b = hex({0xff, 0xff});
    reader r(b);
    CHECK_THROWS_AS(r.read_string(), protocol_error);
  }
  SECTION("nullable string with length -2") {
    bytes b = hex({0xff, 0xfe});
    reader r(b);
    CHECK_THROWS_AS(r.read_nullable_string(), protocol_error);
  }
  SECTION("nullable bytes with length -5") {
    bytes b = hex({0xff, 0xff, 0xff, 0xfb});
    reader r(b);
    CHECK_THROWS_AS(r.read_nullable_bytes(), protocol_error);
  }
  SECTION("compact null where a string is required") {
    bytes b = hex({0x00});
    reader r(b);
    CHECK_THROWS_AS(r.read_compact_string(), protocol_error);
  }
  SECTION("compact bytes longer than the input") {
    bytes b = hex({0x05, 0x01});
    reader r(b);
    CHECK_THROWS_AS(r.read_compact_bytes(), protocol_error);
  }
  SECTION("array count larger than the input") {
    bytes b = hex({0x7f, 0xff, 0xff, 0xff, 0x00});
    reader r(b);
    CHECK_THROWS_AS(r.read_array_length(), protocol_error);
  }
  SECTION("null array where one is required") {
    bytes b = hex({0xff, 0xff, 0xff, 0xff});
    reader r(b);
    CHECK_THROWS_AS(r.read_array_length(), protocol_error);
  }
  SECTION("nullable array count -1 is null, -2 malformed") {
    bytes b = hex({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe});
    reader r(b);
    CHECK_FALSE(r.read_nullable_array_length().has_value());
    CHECK_THROWS_AS(r.read_nullable_array_length(), protocol_error);
  }
  SECTION("compact array count larger than the input") {
    bytes b = hex({0xff, 0xff, 0x03});
    reader r(b);
    CHECK_THROWS_AS(r.read_compact_array_length(), protocol_error);
  }
  SECTION("uuid from fifteen bytes") {
    bytes b(15);
    reader r(b);
    CHECK_THROWS_AS(r.read_uuid(), protocol_error);
  }
}

TEST_CASE("arrays classic and compact", "[protocol][wire]") {
  bytes buf;
  writer w(buf);
  w.write_array_length(2);
  w.write_nullable_array_length(std::nullopt);
  w.write_compact_array_length(2);
  w.write_compact_nullable_array_length(std::nullopt);
  w.write_raw(hex({0, 0, 0, 0}));  // room for the counts to be plausible
  REQUIRE(buf == hex({0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x03, 0x00, 0, 0, 0, 0}));
  reader r(buf);
  CHECK(r.read_array_length() == 2);
  CHECK_FALSE(r.read_nullable_array_length().has_value());
  CHECK(r.read_compact_array_length() == 2);
  CHECK_FALSE(r.read_compact_nullable_array_length().has_value());
}

TEST_CASE("tagged field sections are skipped", "[protocol][wire]") {
  bytes buf;
  writer w(buf);
  w.write_unsigned_varint(2);
  w.write_unsigned_varint(0);
  w.write_unsigned_varint(3);
  w.write_raw(text("abc"));
  w.write_unsigned_varint(200);  // a two-byte tag
  w.write_unsigned_varint(0);
  w.write_int8(42);
  reader r(buf);
  r.skip_tagged_fields();
  CHECK(r.read_int8() == 42);

  bytes bad = hex({0x01, 0x00, 0x09, 0x01});  // field claims 9 bytes, 1 left
  reader rb(bad);
  CHECK_THROWS_AS(rb.skip_tagged_fields(), protocol_error);

  bytes empty;
  writer we(empty);
  we.write_empty_tagged_fields();
  CHECK(empty == hex({0x00}));
}

TEST_CASE("uuid and reserved int32 patching", "[protocol][wire]") {
  bytes buf;
  writer w(buf);
  std::size_t at = w.reserve_int32();
  w.write_uuid(make_uuid(1));
  w.patch_int32(at, static_cast<std::int32_t>(w.size() - at - 4));
  reader r(buf);
  CHECK(r.read_int32() == 16);
  CHECK(r.read_uuid() == make_uuid(1));
}

TEST_CASE("writer refuses values the wire cannot hold", "[protocol][wire]") {
  bytes buf;
  writer w(buf);
  std::string big(40000, 'x');
  CHECK_THROWS_AS(w.write_string(big), std::length_error);
}

// ---- headers and tables -------------------------------------------------------------------

TEST_CASE("api table and flexible versions", "[protocol][header]") {
  CHECK(is_flexible(static_cast<std::int16_t>(api_key::api_versions), 3));
  CHECK_FALSE(is_flexible(static_cast<std::int16_t>(api_key::api_versions), 2));
  // Above the advertised max still flexible, so the header can be read to refuse the version.
  CHECK(is_flexible(static_cast<std::int16_t>(api_key::api_versions), 4));
  CHECK(is_flexible(api_key::metadata, 9));
  CHECK_FALSE(is_flexible(api_key::metadata, 8));
  CHECK(is_flexible(api_key::produce, 9));
  CHECK_FALSE(is_flexible(api_key::produce, 8));
  CHECK(is_flexible(api_key::fetch, 12));
  CHECK_FALSE(is_flexible(api_key::fetch, 11));
  CHECK(is_flexible(api_key::list_offsets, 6));
  CHECK(is_flexible(api_key::create_topics, 5));
  CHECK(is_flexible(api_key::delete_topics, 4));
  CHECK(is_flexible(api_key::describe_configs, 4));
  CHECK(is_flexible(api_key::find_coordinator, 3));
  CHECK_FALSE(is_flexible(std::int16_t{99}, 10));
  CHECK(find_api(99) == nullptr);
  CHECK(is_supported(0, 9));
  CHECK_FALSE(is_supported(0, 2));
  CHECK_FALSE(is_supported(0, 10));
  static_assert(api(api_key::metadata).max_version == 12);
}

TEST_CASE("request header v1 and v2 decode", "[protocol][header]") {
  SECTION("v1: Metadata v4, null client id") {
    bytes buf;
    writer w(buf);
    w.write_int16(3);
    w.write_int16(4);
    w.write_int32(77);
    w.write_nullable_string(std::nullopt);
    w.write_int8(5);  // first body byte
    reader r(buf);
    auto h = request_header::decode(r);
    CHECK(h.api_key == 3);
    CHECK(h.api_version == 4);
    CHECK(h.correlation_id == 77);
    CHECK_FALSE(h.client_id.has_value());
    CHECK(r.read_int8() == 5);
  }
  SECTION("v2: Fetch v12 with a tagged field, client id classic string") {
    bytes buf;
    writer w(buf);
    w.write_int16(1);
    w.write_int16(12);
    w.write_int32(-5);
    w.write_nullable_string(std::string_view("consumer-1"));
    write_unknown_tags(w);
    w.write_int8(9);
    reader r(buf);
    auto h = request_header::decode(r);
    CHECK(h.correlation_id == -5);
    CHECK(h.client_id == std::optional<std::string>("consumer-1"));
    CHECK(r.read_int8() == 9);
  }
}

TEST_CASE("response header: tagged section only for flexible non-ApiVersions", "[protocol][header]") {
  auto enc = [](std::int16_t key, std::int16_t version) {
    bytes buf;
    writer w(buf);
    encode_response_header(w, 0x01020304, key, version);
    return buf;
  };
  CHECK(enc(18, 3) == hex({1, 2, 3, 4}));
  CHECK(enc(18, 0) == hex({1, 2, 3, 4}));
  CHECK(enc(3, 8) == hex({1, 2, 3, 4}));
  CHECK(enc(3, 9) == hex({1, 2, 3, 4, 0}));
  CHECK(enc(0, 9) == hex({1, 2, 3, 4, 0}));
  CHECK(response_header_version(18, 3) == 0);
  CHECK(response_header_version(1, 12) == 1);
}

TEST_CASE("error code names", "[protocol]") {
  CHECK(error_code_name(error_code::none) == "NONE");
  CHECK(error_code_name(error_code::unknown_topic_or_partition) == "UNKNOWN_TOPIC_OR_PARTITION");
  CHECK(error_code_name(error_code::kafka_storage_error) == "KAFKA_STORAGE_ERROR");
  CHECK(static_cast<std::int16_t>(error_code::unknown_topic_id) == 100);
  CHECK(static_cast<std::int16_t>(error_code::unsupported_version) == 35);
  CHECK(error_code_name(static_cast<error_code>(9999)) == "UNKNOWN_ERROR_CODE");
}

// ---- ApiVersions --------------------------------------------------------------------------

TEST_CASE("ApiVersions v3 request as librdkafka 2.0.2 sends it", "[protocol][api_versions]") {
  // Size prefix, header v2 (key 18, version 3, correlation id 1, client id "rdkafka" as a
  // classic string, empty tags), body (compact "librdkafka", compact "2.0.2", empty tags).
  bytes frame = hex({0x00, 0x00, 0x00, 0x24, 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07,
                     'r',  'd',  'k',  'a',  'f',  'k',  'a',  0x00, 0x0b, 'l',  'i',  'b',  'r',  'd',
                     'k',  'a',  'f',  'k',  'a',  0x06, '2',  '.',  '0',  '.',  '2',  0x00});
  reader size_reader(frame);
  REQUIRE(static_cast<std::size_t>(size_reader.read_int32()) == frame.size() - 4);
  reader r(byte_view(frame).subspan(4));
  auto h = request_header::decode(r);
  CHECK(h.api_key == 18);
  CHECK(h.api_version == 3);
  CHECK(h.correlation_id == 1);
  CHECK(h.client_id == std::optional<std::string>("rdkafka"));
  auto req = api_versions_request::decode(r, h.api_version);
  CHECK(req.client_software_name == "librdkafka");
  CHECK(req.client_software_version == "2.0.2");
  CHECK(r.remaining() == 0);
}

TEST_CASE("ApiVersions requests v0-3", "[protocol][api_versions]") {
  for (auto v : versions_of(api_key::api_versions)) {
    bytes buf;
    writer w(buf);
    if (v >= 3) {
      w.write_compact_string("kafka-python");
      w.write_compact_string("2.0.2");
      write_unknown_tags(w);
    }
    reader r(buf);
    auto req = api_versions_request::decode(r, v);
    CHECK(r.remaining() == 0);
    if (v >= 3) CHECK(req.client_software_name == "kafka-python");
    if (v >= 3) {
      require_prefixes_throw(buf, [v](reader& pr) { api_versions_request::decode(pr, v); });
    }
  }
  bytes none;
  reader r(none);
  CHECK_THROWS_AS(api_versions_request::decode(r, 4), protocol_error);
}

TEST_CASE("ApiVersions responses exact bytes", "[protocol][api_versions]") {
  api_versions_response resp;
  resp.api_keys = {{18, 0, 3}, {3, 0, 12}};
  resp.throttle_time_ms = 0;

  SECTION("v0") {
    CHECK(encode_response(resp, 0) == hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  //
                                           0x00, 0x12, 0x00, 0x00, 0x00, 0x03,  //
                                           0x00, 0x03, 0x00, 0x00, 0x00, 0x0c}));
  }
  SECTION("v3") {
    resp.throttle_time_ms = 5;
    CHECK(encode_response(resp, 3) == hex({0x00, 0x00, 0x03,                          //
                                           0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00,  //
                                           0x00, 0x03, 0x00, 0x00, 0x00, 0x0c, 0x00,  //
                                           0x00, 0x00, 0x00, 0x05, 0x00}));
  }
  SECTION("UNSUPPORTED_VERSION answer is v0-shaped") {
    api_versions_response refuse;
    refuse.error = error_code::unsupported_version;
    refuse.api_keys = {{18, 0, 3}};
    CHECK(encode_response(refuse, 0) == hex({0x00, 0x23, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03}));
  }
}

TEST_CASE("ApiVersions advertises the api table", "[protocol][api_versions]") {
  auto keys = api_versions_response::from_supported_apis();
  REQUIRE(keys.size() == supported_apis.size());
  bool saw_fetch = false;
  for (const auto& k : keys) {
    if (k.api_key == 1) {
      saw_fetch = true;
      CHECK(k.min_version == 4);
      CHECK(k.max_version == 17);
    }
  }
  CHECK(saw_fetch);
}

// ---- Metadata -----------------------------------------------------------------------------

namespace {

bytes encode_metadata_request(std::int16_t v, const std::optional<std::vector<std::string>>& topics) {
  const bool flex = v >= 9;
  bytes buf;
  writer w(buf);
  if (topics) {
    w.write_array_length(topics->size(), flex);
    for (const auto& name : *topics) {
      if (v >= 10) w.write_uuid(make_uuid(3));
      if (v >= 10) {
        w.write_nullable_string(std::string_view(name), flex);
      } else {
        w.write_string(name, flex);
      }
      if (flex) w.write_empty_tagged_fields();
    }
  } else {
    w.write_nullable_array_length(std::nullopt, flex);
  }
  if (v >= 4) w.write_bool(false);
  if (v >= 8 && v <= 10) w.write_bool(true);
  if (v >= 8) w.write_bool(true);
  if (flex) write_unknown_tags(w);
  return buf;
}

}  // namespace

TEST_CASE("Metadata requests v0-12", "[protocol][metadata]") {
  for (auto v : versions_of(api_key::metadata)) {
    INFO("version " << v);
    bytes buf = encode_metadata_request(v, std::vector<std::string>{"a", "bb"});
    reader r(buf);
    auto req = metadata_request::decode(r, v);
    CHECK(r.remaining() == 0);
    REQUIRE(req.topics.has_value());
    REQUIRE(req.topics->size() == 2);
    CHECK((*req.topics)[1].name == std::optional<std::string>("bb"));
    CHECK((*req.topics)[1].topic_id == (v >= 10 ? make_uuid(3) : zero_uuid));
    CHECK(req.allow_auto_topic_creation == (v < 4));
    CHECK(req.include_cluster_authorized_operations == (v >= 8 && v <= 10));
    CHECK(req.include_topic_authorized_operations == (v >= 8));
    require_prefixes_throw(buf, [v](reader& pr) { metadata_request::decode(pr, v); });

    if (v >= 1) {
      bytes all = encode_metadata_request(v, std::nullopt);
      reader ra(all);
      CHECK_FALSE(metadata_request::decode(ra, v).topics.has_value());
      bytes none = encode_metadata_request(v, std::vector<std::string>{});
      reader rn(none);
      auto req_none = metadata_request::decode(rn, v);
      REQUIRE(req_none.topics.has_value());
      CHECK(req_none.topics->empty());
    }
  }
  SECTION("v0 empty array means all topics") {
    bytes buf = encode_metadata_request(0, std::vector<std::string>{});
    reader r(buf);
    CHECK_FALSE(metadata_request::decode(r, 0).topics.has_value());
  }
  SECTION("v0 null array is malformed") {
    bytes buf = hex({0xff, 0xff, 0xff, 0xff});
    reader r(buf);
    CHECK_THROWS_AS(metadata_request::decode(r, 0), protocol_error);
  }
  SECTION("v12 topic by id alone") {
    bytes buf;
    writer w(buf);
    w.write_compact_array_length(1);
    w.write_uuid(make_uuid(9));
    w.write_compact_nullable_string(std::nullopt);
    w.write_empty_tagged_fields();
    w.write_bool(true);
    w.write_bool(false);
    w.write_empty_tagged_fields();
    reader r(buf);
    auto req = metadata_request::decode(r, 12);
    CHECK_FALSE((*req.topics)[0].name.has_value());
    CHECK((*req.topics)[0].topic_id == make_uuid(9));
  }
}

namespace {

metadata_response sample_metadata_response() {
  metadata_response resp;
  resp.throttle_time_ms = 3;
  resp.brokers = {{1, "localhost", 9092, std::nullopt}};
  resp.cluster_id = "kairo-cluster";
  resp.controller_id = 1;
  metadata_response::topic t;
  t.name = "events";
  t.topic_id = make_uuid(5);
  metadata_response::partition p;
  p.partition_index = 0;
  p.leader_id = 1;
  p.leader_epoch = 0;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  t.partitions = {p};
  resp.topics = {t};
  return resp;
}

// Walks a Metadata response the way a client reads it and checks the sample's values.
void walk_metadata_response(const bytes& buf, std::int16_t v) {
  const bool flex = v >= 9;
  reader r(buf);
  if (v >= 3) CHECK(r.read_int32() == 3);
  REQUIRE(r.read_array_length(flex) == 1);
  CHECK(r.read_int32() == 1);
  CHECK(r.read_string(flex) == "localhost");
  CHECK(r.read_int32() == 9092);
  if (v >= 1) CHECK_FALSE(r.read_nullable_string(flex).has_value());
  if (flex) r.skip_tagged_fields();
  if (v >= 2) CHECK(r.read_nullable_string(flex) == std::optional<std::string>("kairo-cluster"));
  if (v >= 1) CHECK(r.read_int32() == 1);
  REQUIRE(r.read_array_length(flex) == 1);
  CHECK(r.read_int16() == 0);
  CHECK(r.read_nullable_string(flex) == std::optional<std::string>("events"));
  if (v >= 10) CHECK(r.read_uuid() == make_uuid(5));
  if (v >= 1) CHECK_FALSE(r.read_bool());
  REQUIRE(r.read_array_length(flex) == 1);
  CHECK(r.read_int16() == 0);
  CHECK(r.read_int32() == 0);
  CHECK(r.read_int32() == 1);
  if (v >= 7) CHECK(r.read_int32() == 0);
  REQUIRE(r.read_array_length(flex) == 1);
  CHECK(r.read_int32() == 1);
  REQUIRE(r.read_array_length(flex) == 1);
  CHECK(r.read_int32() == 1);
  if (v >= 5) CHECK(r.read_array_length(flex) == 0);
  if (flex) r.skip_tagged_fields();
  if (v >= 8) CHECK(r.read_int32() == authorized_operations_unknown);
  if (flex) r.skip_tagged_fields();
  if (v >= 8 && v <= 10) CHECK(r.read_int32() == authorized_operations_unknown);
  if (flex) r.skip_tagged_fields();
  CHECK(r.remaining() == 0);
}

}  // namespace

TEST_CASE("Metadata responses v0-12", "[protocol][metadata]") {
  auto resp = sample_metadata_response();
  for (auto v : versions_of(api_key::metadata)) {
    INFO("version " << v);
    walk_metadata_response(encode_response(resp, v), v);
  }
  SECTION("null topic name is sent as null only from v12") {
    metadata_response unnamed;
    metadata_response::topic t;
    t.error = error_code::unknown_topic_id;
    unnamed.topics = {t};
    bytes b12 = encode_response(unnamed, 12);
    bytes b11 = encode_response(unnamed, 11);
    // throttle(4) brokers(1) cluster_id(1) controller(4) topics(1) error(2) then the name.
    CHECK(b12[13] == std::byte{0x00});
    CHECK(b11[13] == std::byte{0x01});
  }
}

// ---- Produce ------------------------------------------------------------------------------

namespace {

bytes encode_produce_request(std::int16_t v, const bytes& batch0, const bytes& batch1) {
  const bool flex = v >= 9;
  bytes buf;
  writer w(buf);
  w.write_nullable_string(std::string_view("txn-1"), flex);
  w.write_int16(-1);
  w.write_int32(1500);
  w.write_array_length(1, flex);
  w.write_string("orders", flex);
  w.write_array_length(2, flex);
  w.write_int32(0);
  w.write_nullable_bytes(byte_view(batch0), flex);
  if (flex) w.write_empty_tagged_fields();
  w.write_int32(3);
  w.write_nullable_bytes(byte_view(batch1), flex);
  if (flex) write_unknown_tags(w);
  if (flex) w.write_empty_tagged_fields();
  if (flex) w.write_empty_tagged_fields();
  return buf;
}

}  // namespace

TEST_CASE("Produce requests v3-9 keep records as views", "[protocol][produce]") {
  const bytes batch0 = pattern(61, 1);
  const bytes batch1 = pattern(200, 9);
  for (auto v : versions_of(api_key::produce)) {
    INFO("version " << v);
    bytes buf = encode_produce_request(v, batch0, batch1);
    reader r(buf);
    auto req = produce_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.transactional_id == std::optional<std::string>("txn-1"));
    CHECK(req.acks == -1);
    CHECK(req.timeout_ms == 1500);
    REQUIRE(req.topics.size() == 1);
    CHECK(req.topics[0].name == "orders");
    REQUIRE(req.topics[0].partitions.size() == 2);
    const auto& p0 = req.topics[0].partitions[0];
    const auto& p1 = req.topics[0].partitions[1];
    CHECK(p0.index == 0);
    CHECK(p1.index == 3);
    // Views into `buf`, at the offset the engine would patch.
    CHECK(p0.records.data() == buf.data() + p0.records_offset);
    CHECK(p1.records.data() == buf.data() + p1.records_offset);
    CHECK(std::equal(p0.records.begin(), p0.records.end(), batch0.begin(), batch0.end()));
    CHECK(std::equal(p1.records.begin(), p1.records.end(), batch1.begin(), batch1.end()));
    // The engine rewrites in place; the view sees it.
    buf[p1.records_offset] = std::byte{0x7a};
    CHECK(p1.records[0] == std::byte{0x7a});
    require_prefixes_throw(encode_produce_request(v, batch0, batch1),
                           [v](reader& pr) { produce_request::decode(pr, v); });
  }
  SECTION("versions below 3 are refused") {
    bytes buf = encode_produce_request(3, batch0, batch1);
    reader r(buf);
    CHECK_THROWS_AS(produce_request::decode(r, 2), protocol_error);
  }
  SECTION("null records decode as an empty view") {
    bytes buf;
    writer w(buf);
    w.write_nullable_string(std::nullopt);
    w.write_int16(1);
    w.write_int32(10);
    w.write_array_length(1);
    w.write_string("t");
    w.write_array_length(1);
    w.write_int32(0);
    w.write_nullable_bytes(std::nullopt);
    reader r(buf);
    auto req = produce_request::decode(r, 7);
    CHECK(req.topics[0].partitions[0].records.empty());
    CHECK(req.topics[0].partitions[0].records_offset == buf.size());
  }
}

TEST_CASE("Produce v9 response exact bytes", "[protocol][produce]") {
  produce_response resp;
  produce_response::partition p;
  p.index = 2;
  p.base_offset = 42;
  p.log_append_time_ms = -1;
  p.log_start_offset = 0;
  resp.topics = {{"t", {p}}};
  resp.throttle_time_ms = 0;
  bytes expected = hex({
      0x02,                                            // topics: 1
      0x02, 't',                                       // name
      0x02,                                            // partitions: 1
      0x00, 0x00, 0x00, 0x02,                          // index
      0x00, 0x00,                                      // error_code
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,  // base_offset
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // log_append_time_ms
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // log_start_offset
      0x01,                                            // record_errors: 0
      0x00,                                            // error_message: null
      0x00,                                            // partition tags
      0x00,                                            // topic tags
      0x00, 0x00, 0x00, 0x00,                          // throttle_time_ms
      0x00,                                            // response tags
  });
  CHECK(encode_response(resp, 9) == expected);
}

TEST_CASE("Produce v3 response and v8 record errors", "[protocol][produce]") {
  produce_response resp;
  produce_response::partition p;
  p.index = 1;
  p.error = error_code::corrupt_message;
  p.record_errors = {{4, "bad crc"}};
  p.error_message = "batch dropped";
  resp.topics = {{"t", {p}}};
  resp.throttle_time_ms = 9;

  bytes v3 = encode_response(resp, 3);
  reader r3(v3);
  CHECK(r3.read_array_length() == 1);
  CHECK(r3.read_string() == "t");
  CHECK(r3.read_array_length() == 1);
  CHECK(r3.read_int32() == 1);
  CHECK(r3.read_int16() == 2);
  CHECK(r3.read_int64() == -1);
  CHECK(r3.read_int64() == -1);  // log_append_time_ms
  CHECK(r3.read_int32() == 9);
  CHECK(r3.remaining() == 0);

  bytes v8 = encode_response(resp, 8);
  reader r8(v8);
  r8.read_array_length();
  r8.read_string();
  r8.read_array_length();
  r8.read_int32();
  r8.read_int16();
  r8.read_int64();
  r8.read_int64();
  CHECK(r8.read_int64() == -1);  // log_start_offset
  REQUIRE(r8.read_array_length() == 1);
  CHECK(r8.read_int32() == 4);
  CHECK(r8.read_nullable_string() == std::optional<std::string>("bad crc"));
  CHECK(r8.read_nullable_string() == std::optional<std::string>("batch dropped"));
  CHECK(r8.read_int32() == 9);
  CHECK(r8.remaining() == 0);
}

// ---- Fetch --------------------------------------------------------------------------------

namespace {

bytes encode_fetch_request(std::int16_t v) {
  const bool flex = v >= 12;
  bytes buf;
  writer w(buf);
  if (v <= 14) w.write_int32(-1);
  w.write_int32(500);
  w.write_int32(1);
  if (v >= 3) w.write_int32(52428800);
  if (v >= 4) w.write_int8(1);
  if (v >= 7) w.write_int32(17);
  if (v >= 7) w.write_int32(4);
  w.write_array_length(1, flex);
  if (v >= 13) w.write_uuid(make_uuid(1));
  else w.write_string("orders", flex);
  w.write_array_length(2, flex);
  for (std::int32_t part = 0; part < 2; ++part) {
    w.write_int32(part);
    if (v >= 9) w.write_int32(6);
    w.write_int64(1000 + part);
    if (v >= 12) w.write_int32(5);
    if (v >= 5) w.write_int64(-1);
    w.write_int32(1048576);
    if (flex) w.write_empty_tagged_fields();
  }
  if (flex) w.write_empty_tagged_fields();
  if (v >= 7) {
    w.write_array_length(1, flex);
    if (v >= 13) w.write_uuid(make_uuid(2));
    else w.write_string("old", flex);
    w.write_array_length(2, flex);
    w.write_int32(7);
    w.write_int32(8);
    if (flex) w.write_empty_tagged_fields();
  }
  if (v >= 11) w.write_string("rack-a", flex);
  if (flex) {
    // cluster_id as tag 0, the way a v12 consumer may send it.
    bytes tag;
    writer tw(tag);
    tw.write_compact_nullable_string(std::string_view("abc"));
    w.write_unsigned_varint(1);
    w.write_unsigned_varint(0);
    w.write_unsigned_varint(static_cast<std::uint32_t>(tag.size()));
    w.write_raw(tag);
  }
  return buf;
}

}  // namespace

TEST_CASE("Fetch requests v4-17", "[protocol][fetch]") {
  for (auto v : versions_of(api_key::fetch)) {
    INFO("version " << v);
    bytes buf = encode_fetch_request(v);
    reader r(buf);
    auto req = fetch_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.replica_id == -1);
    CHECK(req.max_wait_ms == 500);
    CHECK(req.min_bytes == 1);
    CHECK(req.max_bytes == 52428800);
    CHECK(req.isolation_level == 1);
    CHECK(req.session_id == (v >= 7 ? 17 : 0));
    CHECK(req.session_epoch == (v >= 7 ? 4 : -1));
    REQUIRE(req.topics.size() == 1);
    CHECK(req.topics[0].name == (v >= 13 ? "" : "orders"));
    CHECK(req.topics[0].topic_id == (v >= 13 ? make_uuid(1) : zero_uuid));
    REQUIRE(req.topics[0].partitions.size() == 2);
    const auto& p = req.topics[0].partitions[1];
    CHECK(p.partition == 1);
    CHECK(p.current_leader_epoch == (v >= 9 ? 6 : -1));
    CHECK(p.fetch_offset == 1001);
    CHECK(p.last_fetched_epoch == (v >= 12 ? 5 : -1));
    CHECK(p.partition_max_bytes == 1048576);
    if (v >= 7) {
      REQUIRE(req.forgotten_topics_data.size() == 1);
      CHECK(req.forgotten_topics_data[0].name == (v >= 13 ? "" : "old"));
      CHECK(req.forgotten_topics_data[0].topic_id == (v >= 13 ? make_uuid(2) : zero_uuid));
      CHECK(req.forgotten_topics_data[0].partitions == std::vector<std::int32_t>{7, 8});
    }
    CHECK(req.rack_id == (v >= 11 ? "rack-a" : ""));
    require_prefixes_throw(buf, [v](reader& pr) { fetch_request::decode(pr, v); });
  }
}

namespace {

void walk_fetch_response(const bytes& buf, std::int16_t v, const bytes& records) {
  const bool flex = v >= 12;
  reader r(buf);
  CHECK(r.read_int32() == 0);
  if (v >= 7) CHECK(r.read_int16() == 0);
  if (v >= 7) CHECK(r.read_int32() == 33);
  REQUIRE(r.read_array_length(flex) == 1);
  if (v >= 13) CHECK(r.read_uuid() == make_uuid(9));
  else CHECK(r.read_string(flex) == "orders");
  REQUIRE(r.read_array_length(flex) == 2);
  // Partition 0: data from two stored batches, sent as one records field.
  CHECK(r.read_int32() == 0);
  CHECK(r.read_int16() == 0);
  CHECK(r.read_int64() == 100);
  CHECK(r.read_int64() == 100);
  if (v >= 5) CHECK(r.read_int64() == 0);
  CHECK_FALSE(r.read_nullable_array_length(flex).has_value());
  if (v >= 11) CHECK(r.read_int32() == -1);
  auto got = r.read_nullable_bytes(flex);
  REQUIRE(got.has_value());
  CHECK(std::equal(got->begin(), got->end(), records.begin(), records.end()));
  if (flex) r.skip_tagged_fields();
  // Partition 1: an error, empty records, an aborted transaction.
  CHECK(r.read_int32() == 1);
  CHECK(r.read_int16() == static_cast<std::int16_t>(error_code::offset_out_of_range));
  CHECK(r.read_int64() == -1);
  CHECK(r.read_int64() == -1);
  if (v >= 5) CHECK(r.read_int64() == -1);
  REQUIRE(r.read_nullable_array_length(flex) == std::optional<std::size_t>(1));
  CHECK(r.read_int64() == 12);
  CHECK(r.read_int64() == 34);
  if (flex) r.skip_tagged_fields();
  if (v >= 11) CHECK(r.read_int32() == -1);
  auto empty = r.read_nullable_bytes(flex);
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  if (flex) r.skip_tagged_fields();
  if (flex) r.skip_tagged_fields();
  if (flex) r.skip_tagged_fields();
  CHECK(r.remaining() == 0);
}

}  // namespace

TEST_CASE("Fetch responses concatenate record views", "[protocol][fetch]") {
  const bytes batch_a = pattern(70, 3);
  const bytes batch_b = pattern(140, 5);
  fetch_response resp;
  resp.session_id = 33;
  fetch_response::partition p0;
  p0.partition_index = 0;
  p0.high_watermark = 100;
  p0.last_stable_offset = 100;
  p0.log_start_offset = 0;
  p0.records = {byte_view(batch_a), byte_view(batch_b)};
  fetch_response::partition p1;
  p1.partition_index = 1;
  p1.error = error_code::offset_out_of_range;
  p1.aborted_transactions = std::vector<fetch_response::aborted_transaction>{{12, 34}};
  resp.responses = {{"orders", make_uuid(9), {p0, p1}}};
  const bytes joined = concat({batch_a, batch_b});
  for (std::int16_t v : {4, 5, 7, 11, 12, 13, 15, 17}) {
    INFO("version " << v);
    walk_fetch_response(encode_response(resp, v), v, joined);
  }
}

// ---- ListOffsets --------------------------------------------------------------------------

namespace {

bytes encode_list_offsets_request(std::int16_t v) {
  const bool flex = v >= 6;
  bytes buf;
  writer w(buf);
  w.write_int32(-1);
  if (v >= 2) w.write_int8(1);
  w.write_array_length(1, flex);
  w.write_string("orders", flex);
  w.write_array_length(1, flex);
  w.write_int32(2);
  if (v >= 4) w.write_int32(8);
  w.write_int64(list_offsets_earliest);
  if (v == 0) w.write_int32(1);
  if (flex) w.write_empty_tagged_fields();
  if (flex) w.write_empty_tagged_fields();
  if (flex) write_unknown_tags(w);
  return buf;
}

}  // namespace

TEST_CASE("ListOffsets requests v0-7", "[protocol][list_offsets]") {
  for (auto v : versions_of(api_key::list_offsets)) {
    INFO("version " << v);
    bytes buf = encode_list_offsets_request(v);
    reader r(buf);
    auto req = list_offsets_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.replica_id == -1);
    CHECK(req.isolation_level == (v >= 2 ? 1 : 0));
    REQUIRE(req.topics.size() == 1);
    REQUIRE(req.topics[0].partitions.size() == 1);
    const auto& p = req.topics[0].partitions[0];
    CHECK(p.partition_index == 2);
    CHECK(p.current_leader_epoch == (v >= 4 ? 8 : -1));
    CHECK(p.timestamp == list_offsets_earliest);
    CHECK(p.max_num_offsets == 1);
    require_prefixes_throw(buf, [v](reader& pr) { list_offsets_request::decode(pr, v); });
  }
}

TEST_CASE("ListOffsets responses v0 and v7", "[protocol][list_offsets]") {
  list_offsets_response resp;
  list_offsets_response::partition p;
  p.partition_index = 2;
  p.old_style_offsets = {55};
  p.timestamp = -1;
  p.offset = 55;
  p.leader_epoch = 0;
  resp.topics = {{"orders", {p}}};
  resp.throttle_time_ms = 1;

  bytes v0 = encode_response(resp, 0);
  reader r0(v0);
  CHECK(r0.read_array_length() == 1);
  CHECK(r0.read_string() == "orders");
  CHECK(r0.read_array_length() == 1);
  CHECK(r0.read_int32() == 2);
  CHECK(r0.read_int16() == 0);
  REQUIRE(r0.read_array_length() == 1);
  CHECK(r0.read_int64() == 55);
  CHECK(r0.remaining() == 0);

  bytes v7 = encode_response(resp, 7);
  reader r7(v7);
  CHECK(r7.read_int32() == 1);
  CHECK(r7.read_compact_array_length() == 1);
  CHECK(r7.read_compact_string() == "orders");
  CHECK(r7.read_compact_array_length() == 1);
  CHECK(r7.read_int32() == 2);
  CHECK(r7.read_int16() == 0);
  CHECK(r7.read_int64() == -1);
  CHECK(r7.read_int64() == 55);
  CHECK(r7.read_int32() == 0);
  r7.skip_tagged_fields();
  r7.skip_tagged_fields();
  r7.skip_tagged_fields();
  CHECK(r7.remaining() == 0);
}

// ---- CreateTopics -------------------------------------------------------------------------

namespace {

bytes encode_create_topics_request(std::int16_t v) {
  const bool flex = v >= 5;
  bytes buf;
  writer w(buf);
  w.write_array_length(1, flex);
  w.write_string("new-topic", flex);
  w.write_int32(3);
  w.write_int16(1);
  w.write_array_length(1, flex);
  w.write_int32(0);
  w.write_array_length(2, flex);
  w.write_int32(1);
  w.write_int32(2);
  if (flex) w.write_empty_tagged_fields();
  w.write_array_length(2, flex);
  w.write_string("cleanup.policy", flex);
  w.write_nullable_string(std::string_view("compact"), flex);
  if (flex) w.write_empty_tagged_fields();
  w.write_string("retention.ms", flex);
  w.write_nullable_string(std::nullopt, flex);
  if (flex) w.write_empty_tagged_fields();
  if (flex) w.write_empty_tagged_fields();
  w.write_int32(5000);
  if (v >= 1) w.write_bool(true);
  if (flex) w.write_empty_tagged_fields();
  return buf;
}

}  // namespace

TEST_CASE("CreateTopics requests v0-7", "[protocol][create_topics]") {
  for (auto v : versions_of(api_key::create_topics)) {
    INFO("version " << v);
    bytes buf = encode_create_topics_request(v);
    reader r(buf);
    auto req = create_topics_request::decode(r, v);
    CHECK(r.remaining() == 0);
    REQUIRE(req.topics.size() == 1);
    const auto& t = req.topics[0];
    CHECK(t.name == "new-topic");
    CHECK(t.num_partitions == 3);
    CHECK(t.replication_factor == 1);
    REQUIRE(t.assignments.size() == 1);
    CHECK(t.assignments[0].broker_ids == std::vector<std::int32_t>{1, 2});
    REQUIRE(t.configs.size() == 2);
    CHECK(t.configs[0].name == "cleanup.policy");
    CHECK(t.configs[0].value == std::optional<std::string>("compact"));
    CHECK_FALSE(t.configs[1].value.has_value());
    CHECK(req.timeout_ms == 5000);
    CHECK(req.validate_only == (v >= 1));
    require_prefixes_throw(buf, [v](reader& pr) { create_topics_request::decode(pr, v); });
  }
}

TEST_CASE("CreateTopics responses v0 and v7", "[protocol][create_topics]") {
  create_topics_response resp;
  create_topics_response::topic t;
  t.name = "new-topic";
  t.topic_id = make_uuid(40);
  t.error = error_code::topic_already_exists;
  t.error_message = "Topic 'new-topic' already exists.";
  t.num_partitions = 3;
  t.replication_factor = 1;
  t.configs =
      std::vector<create_topics_response::config>{{"cleanup.policy", "delete", false, config_source_default, false}};
  resp.topics = {t};
  resp.throttle_time_ms = 0;

  bytes v0 = encode_response(resp, 0);
  reader r0(v0);
  CHECK(r0.read_array_length() == 1);
  CHECK(r0.read_string() == "new-topic");
  CHECK(r0.read_int16() == 36);
  CHECK(r0.remaining() == 0);

  bytes v7 = encode_response(resp, 7);
  reader r7(v7);
  CHECK(r7.read_int32() == 0);
  CHECK(r7.read_compact_array_length() == 1);
  CHECK(r7.read_compact_string() == "new-topic");
  CHECK(r7.read_uuid() == make_uuid(40));
  CHECK(r7.read_int16() == 36);
  CHECK(r7.read_compact_nullable_string() == t.error_message);
  CHECK(r7.read_int32() == 3);
  CHECK(r7.read_int16() == 1);
  REQUIRE(r7.read_compact_nullable_array_length() == std::optional<std::size_t>(1));
  CHECK(r7.read_compact_string() == "cleanup.policy");
  CHECK(r7.read_compact_nullable_string() == std::optional<std::string>("delete"));
  CHECK_FALSE(r7.read_bool());
  CHECK(r7.read_int8() == config_source_default);
  CHECK_FALSE(r7.read_bool());
  r7.skip_tagged_fields();
  r7.skip_tagged_fields();
  r7.skip_tagged_fields();
  CHECK(r7.remaining() == 0);

  t.configs.reset();
  resp.topics = {t};
  bytes v5 = encode_response(resp, 5);
  // ... num_partitions, replication_factor, then null configs (0), topic tags, response tags.
  CHECK(v5[v5.size() - 3] == std::byte{0x00});
}

// ---- DeleteTopics -------------------------------------------------------------------------

TEST_CASE("DeleteTopics requests v0-6", "[protocol][delete_topics]") {
  for (auto v : versions_of(api_key::delete_topics)) {
    INFO("version " << v);
    const bool flex = v >= 4;
    bytes buf;
    writer w(buf);
    w.write_array_length(2, flex);
    if (v >= 6) {
      w.write_compact_nullable_string(std::string_view("a"));
      w.write_uuid(zero_uuid);
      w.write_empty_tagged_fields();
      w.write_compact_nullable_string(std::nullopt);
      w.write_uuid(make_uuid(60));
      w.write_empty_tagged_fields();
    } else {
      w.write_string("a", flex);
      w.write_string("b", flex);
    }
    w.write_int32(3000);
    if (flex) write_unknown_tags(w);
    reader r(buf);
    auto req = delete_topics_request::decode(r, v);
    CHECK(r.remaining() == 0);
    REQUIRE(req.topics.size() == 2);
    CHECK(req.topics[0].name == std::optional<std::string>("a"));
    CHECK(req.topics[0].topic_id == zero_uuid);
    if (v >= 6) {
      CHECK_FALSE(req.topics[1].name.has_value());
      CHECK(req.topics[1].topic_id == make_uuid(60));
    } else {
      CHECK(req.topics[1].name == std::optional<std::string>("b"));
    }
    CHECK(req.timeout_ms == 3000);
    require_prefixes_throw(buf, [v](reader& pr) { delete_topics_request::decode(pr, v); });
  }
}

TEST_CASE("DeleteTopics responses v0 and v6", "[protocol][delete_topics]") {
  delete_topics_response resp;
  resp.responses = {{"a", make_uuid(61), error_code::none, std::nullopt},
                    {std::nullopt, make_uuid(62), error_code::unknown_topic_id, "no such id"}};
  resp.throttle_time_ms = 2;

  bytes v0 = encode_response(resp, 0);
  reader r0(v0);
  CHECK(r0.read_array_length() == 2);
  CHECK(r0.read_string() == "a");
  CHECK(r0.read_int16() == 0);
  CHECK(r0.read_string().empty());
  CHECK(r0.read_int16() == 100);
  CHECK(r0.remaining() == 0);

  bytes v6 = encode_response(resp, 6);
  reader r6(v6);
  CHECK(r6.read_int32() == 2);
  CHECK(r6.read_compact_array_length() == 2);
  CHECK(r6.read_compact_nullable_string() == std::optional<std::string>("a"));
  CHECK(r6.read_uuid() == make_uuid(61));
  CHECK(r6.read_int16() == 0);
  CHECK_FALSE(r6.read_compact_nullable_string().has_value());
  r6.skip_tagged_fields();
  CHECK_FALSE(r6.read_compact_nullable_string().has_value());
  CHECK(r6.read_uuid() == make_uuid(62));
  CHECK(r6.read_int16() == 100);
  CHECK(r6.read_compact_nullable_string() == std::optional<std::string>("no such id"));
  r6.skip_tagged_fields();
  r6.skip_tagged_fields();
  CHECK(r6.remaining() == 0);
}

// ---- DescribeConfigs ----------------------------------------------------------------------

TEST_CASE("DescribeConfigs requests v0-4", "[protocol][describe_configs]") {
  for (auto v : versions_of(api_key::describe_configs)) {
    INFO("version " << v);
    const bool flex = v >= 4;
    bytes buf;
    writer w(buf);
    w.write_array_length(2, flex);
    w.write_int8(config_resource_topic);
    w.write_string("orders", flex);
    w.write_nullable_array_length(std::nullopt, flex);
    if (flex) w.write_empty_tagged_fields();
    w.write_int8(config_resource_broker);
    w.write_string("0", flex);
    w.write_nullable_array_length(1, flex);
    w.write_string("log.retention.ms", flex);
    if (flex) w.write_empty_tagged_fields();
    if (v >= 1) w.write_bool(true);
    if (v >= 3) w.write_bool(true);
    if (flex) w.write_empty_tagged_fields();
    reader r(buf);
    auto req = describe_configs_request::decode(r, v);
    CHECK(r.remaining() == 0);
    REQUIRE(req.resources.size() == 2);
    CHECK(req.resources[0].resource_type == config_resource_topic);
    CHECK(req.resources[0].resource_name == "orders");
    CHECK_FALSE(req.resources[0].configuration_keys.has_value());
    REQUIRE(req.resources[1].configuration_keys.has_value());
    CHECK(*req.resources[1].configuration_keys == std::vector<std::string>{"log.retention.ms"});
    CHECK(req.include_synonyms == (v >= 1));
    CHECK(req.include_documentation == (v >= 3));
    require_prefixes_throw(buf, [v](reader& pr) { describe_configs_request::decode(pr, v); });
  }
}

TEST_CASE("DescribeConfigs responses v0 and v4", "[protocol][describe_configs]") {
  describe_configs_response resp;
  describe_configs_response::config c;
  c.name = "retention.ms";
  c.value = "604800000";
  c.is_default = true;
  c.config_source = config_source_default;
  c.synonyms = {{"log.retention.ms", "604800000", config_source_default}};
  c.config_type = 5;
  c.documentation = std::nullopt;
  resp.results = {{error_code::none, std::nullopt, config_resource_topic, "orders", {c}}};

  bytes v0 = encode_response(resp, 0);
  reader r0(v0);
  CHECK(r0.read_int32() == 0);
  CHECK(r0.read_array_length() == 1);
  CHECK(r0.read_int16() == 0);
  CHECK_FALSE(r0.read_nullable_string().has_value());
  CHECK(r0.read_int8() == config_resource_topic);
  CHECK(r0.read_string() == "orders");
  CHECK(r0.read_array_length() == 1);
  CHECK(r0.read_string() == "retention.ms");
  CHECK(r0.read_nullable_string() == std::optional<std::string>("604800000"));
  CHECK_FALSE(r0.read_bool());
  CHECK(r0.read_bool());  // is_default
  CHECK_FALSE(r0.read_bool());
  CHECK(r0.remaining() == 0);

  bytes v4 = encode_response(resp, 4);
  reader r4(v4);
  CHECK(r4.read_int32() == 0);
  CHECK(r4.read_compact_array_length() == 1);
  CHECK(r4.read_int16() == 0);
  CHECK_FALSE(r4.read_compact_nullable_string().has_value());
  CHECK(r4.read_int8() == config_resource_topic);
  CHECK(r4.read_compact_string() == "orders");
  CHECK(r4.read_compact_array_length() == 1);
  CHECK(r4.read_compact_string() == "retention.ms");
  CHECK(r4.read_compact_nullable_string() == std::optional<std::string>("604800000"));
  CHECK_FALSE(r4.read_bool());
  CHECK(r4.read_int8() == config_source_default);
  CHECK_FALSE(r4.read_bool());
  REQUIRE(r4.read_compact_array_length() == 1);
  CHECK(r4.read_compact_string() == "log.retention.ms");
  CHECK(r4.read_compact_nullable_string() == std::optional<std::string>("604800000"));
  CHECK(r4.read_int8() == config_source_default);
  r4.skip_tagged_fields();
  CHECK(r4.read_int8() == 5);
  CHECK_FALSE(r4.read_compact_nullable_string().has_value());
  r4.skip_tagged_fields();
  r4.skip_tagged_fields();
  r4.skip_tagged_fields();
  CHECK(r4.remaining() == 0);
}

// ---- FindCoordinator ----------------------------------------------------------------------

TEST_CASE("FindCoordinator requests v0-4", "[protocol][find_coordinator]") {
  for (auto v : versions_of(api_key::find_coordinator)) {
    INFO("version " << v);
    const bool flex = v >= 3;
    bytes buf;
    writer w(buf);
    if (v <= 3) w.write_string("group-1", flex);
    if (v >= 1) w.write_int8(coordinator_type_group);
    if (v >= 4) {
      w.write_compact_array_length(2);
      w.write_compact_string("group-1");
      w.write_compact_string("group-2");
    }
    if (flex) w.write_empty_tagged_fields();
    reader r(buf);
    auto req = find_coordinator_request::decode(r, v);
    CHECK(r.remaining() == 0);
    CHECK(req.key_type == coordinator_type_group);
    REQUIRE(req.keys.size() == (v >= 4 ? 2u : 1u));
    CHECK(req.keys[0] == "group-1");
    require_prefixes_throw(buf, [v](reader& pr) { find_coordinator_request::decode(pr, v); });
  }
}

TEST_CASE("FindCoordinator responses v0 and v4", "[protocol][find_coordinator]") {
  find_coordinator_response resp;
  resp.coordinators = {{"group-1", 1, "localhost", 9092, error_code::none, std::nullopt}};

  bytes v0 = encode_response(resp, 0);
  CHECK(v0 == concat({hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x09}), text("localhost"),
                      hex({0x00, 0x00, 0x23, 0x84})}));

  bytes v4 = encode_response(resp, 4);
  reader r4(v4);
  CHECK(r4.read_int32() == 0);
  REQUIRE(r4.read_compact_array_length() == 1);
  CHECK(r4.read_compact_string() == "group-1");
  CHECK(r4.read_int32() == 1);
  CHECK(r4.read_compact_string() == "localhost");
  CHECK(r4.read_int32() == 9092);
  CHECK(r4.read_int16() == 0);
  CHECK_FALSE(r4.read_compact_nullable_string().has_value());
  r4.skip_tagged_fields();
  r4.skip_tagged_fields();
  CHECK(r4.remaining() == 0);

  find_coordinator_response two;
  two.coordinators.resize(2);
  bytes out;
  writer w(out);
  CHECK_THROWS_AS(two.encode(w, 3), std::invalid_argument);
}

TEST_CASE("compact strings longer than 32767 bytes are refused, as Kafka's readers do", "[protocol][wire]") {
  for (std::size_t n : {std::size_t{32767}, std::size_t{32768}}) {
    bytes buf;
    writer w(buf);
    w.write_unsigned_varint(static_cast<std::uint32_t>(n + 1));
    buf.resize(buf.size() + n, std::byte{'a'});
    reader r(buf);
    reader rn(buf);
    if (n <= 32767) {
      CHECK(r.read_compact_string().size() == n);
      CHECK(rn.read_compact_nullable_string()->size() == n);
    } else {
      CHECK_THROWS_AS(r.read_compact_string(), protocol_error);
      CHECK_THROWS_AS(rn.read_compact_nullable_string(), protocol_error);
    }
  }
}
