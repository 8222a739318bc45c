// RecordBatch v2 validation: accepts what real producers send, rejects each kind of damage.
#include <catch2/catch.hpp>

#include "engine/errc.h"
#include "engine/record_batch.h"
#include "tests/engine/batch_builder.h"

using namespace engine;
using namespace engine::test;

namespace {

// The refusal's code, and its words in `why` when given.
std::error_code validate_error(const std::vector<std::byte>& bytes, std::string* why = nullptr) {
  auto r = validate_batches(bytes);
  REQUIRE_FALSE(r);
  if (why) *why = r.error().message();
  return r.error().code();
}

}  // namespace

TEST_CASE("a well-formed batch is accepted and its header read back", "[engine][record_batch]") {
  batch_options o;
  o.base_offset = 0;
  o.base_timestamp = 5000;
  o.producer_id = 77;
  o.producer_epoch = 3;
  o.base_sequence = 12;
  o.leader_epoch = 9;
  auto bytes = make_batch_records({{std::string("k"), "v1", 0}, {std::nullopt, "v2", 7}, {std::nullopt, "", 3}}, o);

  auto r = validate_batches(bytes);
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  const batch_header& h = (*r)[0].header;
  CHECK((*r)[0].offset == 0);
  CHECK((*r)[0].size() == bytes.size());
  CHECK(h.base_offset == 0);
  CHECK(h.batch_length == static_cast<int32_t>(bytes.size() - 12));
  CHECK(h.leader_epoch == 9);
  CHECK(h.magic == 2);
  CHECK(h.attributes == 0);
  CHECK(h.last_offset_delta == 2);
  CHECK(h.base_timestamp == 5000);
  CHECK(h.max_timestamp == 5007);
  CHECK(h.producer_id == 77);
  CHECK(h.producer_epoch == 3);
  CHECK(h.base_sequence == 12);
  CHECK(h.record_count == 3);
  CHECK_FALSE(h.compressed());
  CHECK(h.crc == util::crc32c::value(bytes.data() + 21, bytes.size() - 21));
}

TEST_CASE("concatenated batches are each validated and located", "[engine][record_batch]") {
  auto a = make_batch({"a", "b"});
  auto b = make_batch({"c"});
  auto c = make_batch({"d", "e", "f", "g"});
  std::vector<std::byte> set;
  append_to(set, a);
  append_to(set, b);
  append_to(set, c);

  auto r = validate_batches(set);
  REQUIRE(r);
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].offset == 0);
  CHECK((*r)[1].offset == a.size());
  CHECK((*r)[2].offset == a.size() + b.size());
  CHECK((*r)[2].header.record_count == 4);

  auto split = split_batches(set);
  REQUIRE(split);
  CHECK(split->size() == 3);
}

TEST_CASE("rewriting the base offset keeps the batch valid", "[engine][record_batch]") {
  auto bytes = make_batch({"x", "y"});
  set_base_offset(bytes, 0x0102030405060708);
  auto r = validate_batches(bytes);
  REQUIRE(r);
  CHECK((*r)[0].header.base_offset == 0x0102030405060708);
  CHECK(std::to_integer<int>(bytes[0]) == 0x01);
  CHECK(std::to_integer<int>(bytes[7]) == 0x08);
  CHECK((*r)[0].header.last_offset() == 0x0102030405060709);
  CHECK(decode_all(bytes)[1].offset == 0x0102030405060709);
}

TEST_CASE("a batch without records is refused, as Kafka's log validator refuses it", "[engine][record_batch]") {
  auto bytes = make_raw_batch({}, 0, 0, -1);
  CHECK(validate_error(bytes) == errc::corrupt_message);
}

TEST_CASE("a compressed batch is accepted without looking inside", "[engine][record_batch]") {
  batch_options o;
  o.attributes = 1;  // gzip; the bytes below are opaque to the broker
  std::vector<std::byte> opaque(37, std::byte{0x5a});
  auto bytes = make_raw_batch(opaque, 10, 9, 1234, o);
  auto r = validate_batches(bytes);
  REQUIRE(r);
  CHECK((*r)[0].header.compression() == 1);
  CHECK((*r)[0].header.record_count == 10);
}

TEST_CASE("empty input is refused", "[engine][record_batch]") { CHECK(validate_error({}) == errc::corrupt_message); }

TEST_CASE("a CRC mismatch is refused", "[engine][record_batch]") {
  auto bytes = make_batch({"hello", "world"});
  SECTION("in a record") { bytes[bytes.size() - 3] ^= std::byte{0x01}; }
  SECTION("in a covered header field") { bytes[40] ^= std::byte{0x80}; }  // max timestamp
  SECTION("in the stored crc") { bytes[17] ^= std::byte{0x01}; }
  std::string why;
  CHECK(validate_error(bytes, &why) == errc::corrupt_message);
  CHECK_THAT(why, Catch::Contains("CRC"));
}

TEST_CASE("bytes the CRC does not cover may change", "[engine][record_batch]") {
  auto bytes = make_batch({"hello"});
  bytes[12] = std::byte{0x7f};  // partition leader epoch
  CHECK(validate_batches(bytes));
}

TEST_CASE("magic 0 and 1 are unsupported, other magics corrupt", "[engine][record_batch]") {
  auto bytes = make_batch({"hello"});
  bytes[16] = std::byte{1};
  CHECK(validate_error(bytes) == errc::unsupported_format);
  bytes[16] = std::byte{0};
  CHECK(validate_error(bytes) == errc::unsupported_format);
  bytes[16] = std::byte{3};
  CHECK(validate_error(bytes) == errc::corrupt_message);

  // A real v1 message set is shorter than a v2 header; it is still recognised by its magic.
  std::vector<std::byte> v1;
  put_be(v1, 0, 8);   // offset
  put_be(v1, 22, 4);  // message size
  put_be(v1, 0, 4);   // crc
  v1.push_back(std::byte{1});
  v1.resize(12 + 22);
  CHECK(validate_error(v1) == errc::unsupported_format);
}

TEST_CASE("a truncated batch is refused", "[engine][record_batch]") {
  auto bytes = make_batch({"hello", "world"});
  SECTION("last byte missing") { bytes.pop_back(); }
  SECTION("cut inside the header") { bytes.resize(40); }
  SECTION("cut before the length") { bytes.resize(10); }
  std::string why;
  CHECK(validate_error(bytes, &why) == errc::corrupt_message);
  CHECK_FALSE(why.empty());
}

TEST_CASE("a batch length shorter than a v2 header is refused", "[engine][record_batch]") {
  auto bytes = make_batch({"hello"});
  set_be(bytes, 8, 20, 4);
  CHECK(validate_error(bytes) == errc::corrupt_message);
  set_be(bytes, 8, static_cast<uint32_t>(-5), 4);
  CHECK(validate_error(bytes) == errc::corrupt_message);
}

TEST_CASE("trailing bytes after the last batch are refused", "[engine][record_batch]") {
  auto bytes = make_batch({"hello"});
  SECTION("a few bytes") { bytes.insert(bytes.end(), 5, std::byte{0}); }
  SECTION("a partial second batch") {
    auto more = make_batch({"again"});
    bytes.insert(bytes.end(), more.begin(), more.begin() + 30);
  }
  SECTION("a second batch claiming more than remains") {
    auto more = make_batch({"again"});
    more.pop_back();
    append_to(bytes, more);
  }
  CHECK(validate_error(bytes) == errc::corrupt_message);
}

TEST_CASE("a record count that disagrees with the records is refused", "[engine][record_batch]") {
  auto bytes = make_batch({"a", "b", "c"});
  std::string why;
  SECTION("count != lastOffsetDelta + 1") {
    set_be(bytes, 57, 4, 4);
    fix_crc(bytes);
    CHECK(validate_error(bytes, &why) == errc::corrupt_message);
    CHECK_THAT(why, Catch::Contains("lastOffsetDelta"));
  }
  SECTION("count and delta agree but there are more records") {
    set_be(bytes, 57, 2, 4);
    set_be(bytes, 23, 1, 4);
    fix_crc(bytes);
    CHECK(validate_error(bytes, &why) == errc::corrupt_message);
    CHECK_THAT(why, Catch::Contains("records end at byte"));
  }
  SECTION("count and delta agree but there are fewer records") {
    set_be(bytes, 57, 4, 4);
    set_be(bytes, 23, 3, 4);
    fix_crc(bytes);
    CHECK(validate_error(bytes) == errc::corrupt_message);
  }
  SECTION("negative count") {
    set_be(bytes, 57, static_cast<uint32_t>(-1), 4);
    fix_crc(bytes);
    CHECK(validate_error(bytes) == errc::corrupt_message);
  }
  SECTION("no records and a backwards offset range") {
    // Count 0 used to skip the range check: lastOffsetDelta -5 would have moved the log's next
    // offset back over offsets already handed out.
    auto empty = make_batch({});
    set_be(empty, 23, static_cast<uint32_t>(-5), 4);
    fix_crc(empty);
    CHECK(validate_error(empty, &why) == errc::corrupt_message);
    CHECK_THAT(why, Catch::Contains("at least one record"));
  }
}

TEST_CASE("replay refuses a batch whose offset range runs backwards or past int64", "[engine][record_batch]") {
  auto bytes = make_batch({"a", "b"});
  REQUIRE(split_batches(bytes));
  SECTION("negative base offset") { set_be(bytes, 0, 0x8000000000000000ULL, 8); }
  SECTION("negative lastOffsetDelta") { set_be(bytes, 23, static_cast<uint32_t>(-1291714560), 4); }
  SECTION("last offset past int64") { set_be(bytes, 0, 0x7fffffffffffffffULL, 8); }
  auto r = split_batches(bytes);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == errc::corrupt_message);
}

TEST_CASE("a record length that runs past the batch is refused", "[engine][record_batch]") {
  auto bytes = make_batch({"abc"});
  SECTION("too long") { bytes[61] = std::byte{120}; }  // zigzag 60
  SECTION("negative") { bytes[61] = std::byte{1}; }    // zigzag -1
  SECTION("overlong varint") {
    for (size_t i = 61; i < bytes.size(); ++i) bytes[i] = std::byte{0xff};
  }
  fix_crc(bytes);
  CHECK(validate_error(bytes) == errc::corrupt_message);
}

TEST_CASE("one bad batch among good ones refuses the whole set", "[engine][record_batch]") {
  auto good = make_batch({"a"});
  auto bad = make_batch({"b"});
  bad.back() ^= std::byte{1};
  std::vector<std::byte> set;
  append_to(set, good);
  append_to(set, bad);
  append_to(set, good);
  std::string why;
  CHECK(validate_error(set, &why) == errc::corrupt_message);
  CHECK_THAT(why, Catch::Contains("batch at byte " + std::to_string(good.size())));
}
