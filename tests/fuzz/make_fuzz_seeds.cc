// Writes the seed corpora of the on-disk-format fuzz targets with the broker's own writers:
//   wal_recovery_fuzz  WAL directories written by wal::write_ahead_log (several segments, torn
//                      tails, a damaged sealed segment), and for engine mode the records the
//                      engine writes: record batches per partition, transaction markers, group
//                      and transaction coordinator records
//   catalog_fuzz       slot files written by engine::encode_catalog, one and two slots
// and, with --check, verifies that the wire-format seeds of tests/fuzz/make_seeds.py are what
// they claim: every protocol_fuzz seed decodes whole, every repaired record_batch_fuzz seed but
// "unrepaired" validates.
//
// Usage: make_fuzz_seeds <corpus-dir>            (writes wal_recovery_fuzz/, catalog_fuzz/)
//        make_fuzz_seeds --check <corpus-dir>
// Deterministic: the same bytes every run.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "engine/control_batch.h"
#include "engine/group_records.h"
#include "engine/record_batch.h"
#include "engine/topic_catalog.h"
#include "engine/txn_records.h"
#include "engine/wal_streams.h"
#include "server/protocol/api_keys.h"
#include "server/protocol/header.h"
#include "server/protocol/wire.h"
#include "tests/engine/batch_builder.h"
#include "tests/fuzz/fuzz_fixtures.h"
#include "tests/fuzz/request_decode.h"
#include "tests/support/mem_file_system.h"
#include "util/endian.h"
#include "wal/format.h"
#include "wal/write_ahead_log.h"

namespace {

namespace fs = std::filesystem;
using bytes = std::vector<std::byte>;

void write_file(const fs::path& p, const bytes& b) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes b(c.size());
  if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
  return b;
}

bytes str(const std::string& s) {
  bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

struct record {
  uint32_t stream;
  uint8_t type;
  bytes payload;
};

// The WAL directory the real log writes for `records`, as one input: flags, then the segment
// files in name (= log) order.
bytes write_wal(const std::vector<record>& records, uint64_t segment_bytes, uint8_t flags) {
  auto mem = std::make_shared<wal::mem_file_system>();
  wal::options opts;
  opts.dir = kairo_fuzz::wal_dir;
  opts.segment_bytes = segment_bytes;
  opts.preallocate = false;  // seeds hold records, not a preallocated segment's zeros
  {
    auto w = wal::write_ahead_log::open(opts, mem);
    if (!w) throw std::runtime_error("cannot open the seed WAL");
    for (const auto& r : records) {
      auto owner = std::make_shared<bytes>(r.payload);
      std::promise<bool> done;
      if (!(*w)->append(r.stream, r.type, wal::payload{owner, *owner},
                        [&](const wal::result<wal::appended>& a) { done.set_value(a.has_value()); }))
        throw std::runtime_error("seed WAL refused an append");
      if (!done.get_future().get()) throw std::runtime_error("seed WAL append failed");
    }
  }
  bytes out{std::byte{flags}};
  auto names = mem->list(kairo_fuzz::wal_dir);
  std::map<std::string, bytes> files;
  for (auto& n : *names) files[n] = mem->contents(kairo_fuzz::wal_dir + "/" + n);
  for (auto& [n, c] : files) out.insert(out.end(), c.begin(), c.end());
  return out;
}

std::vector<record> plain_records() {
  std::vector<record> r;
  for (int i = 0; i < 12; ++i)
    r.push_back({static_cast<uint32_t>(i % 3), 1, str(std::string(static_cast<size_t>(5 + i * 7), char('a' + i)))});
  r.push_back({engine::group_stream, engine::wal_type_group_metadata, {}});
  return r;
}

// The records a broker with kairo_fuzz::fixture_catalog() writes: batches with consecutive
// offsets per partition (plain, idempotent, transactional, then its commit or abort marker), and
// the coordinators' records.
std::vector<record> engine_records() {
  using engine::test::batch_options;
  using engine::test::make_batch;
  using engine::test::make_batch_records;
  std::vector<record> out;
  std::map<uint32_t, int64_t> next;  // stream -> next offset
  auto add_batch = [&](uint32_t stream, bytes b) {
    const auto h = engine::read_header(b);
    engine::set_base_offset(b, next[stream]);
    next[stream] += h.last_offset_delta + 1;
    out.push_back({stream, engine::wal_type_record_batch, std::move(b)});
  };
  add_batch(0, make_batch({"first", "second", "third"}));
  add_batch(1, make_batch_records({{std::string("key"), "value", 0}, {std::nullopt, "late", 5}}));
  batch_options idem;
  idem.producer_id = 4000;
  idem.producer_epoch = 0;
  idem.base_sequence = 0;
  add_batch(0, make_batch({"idempotent-1", "idempotent-2"}, idem));
  batch_options txn = idem;
  txn.producer_id = 4001;
  txn.producer_epoch = 2;
  txn.attributes = engine::batch_layout::transactional_flag;
  add_batch(2, make_batch({"in-txn"}, txn));
  add_batch(3, make_batch({"in-txn-aborted"}, txn));
  add_batch(2, engine::make_control_batch(4001, 2, true, 0, 1'700'000'000'500));
  add_batch(3, engine::make_control_batch(4001, 2, false, 0, 1'700'000'000'500));
  txn.base_sequence = 1;
  add_batch(2, make_batch({"open-txn"}, txn));  // left open: replay must know it
  add_batch(9, make_batch({"deleted-topic"}));  // a stream beyond the catalog's counter

  auto group = [&](const engine::group_record& r) {
    auto [type, payload] = engine::group_records::encode(r);
    out.push_back({engine::group_stream, type, std::move(payload)});
  };
  engine::stored_member m{"member-1", std::nullopt, "client-1",          "/127.0.0.1",
                          30000,      10000,        str("subscription"), str("assignment")};
  group(engine::group_metadata_record{
      "group-a", engine::stored_group{"consumer", 3, "range", "member-1", 1'700'000'000'000, {m}}});
  group(engine::offsets_record{
      "group-a",
      {{{"orders", 0}, engine::committed_offset{2, -1, "meta", 1'700'000'000'100, {}}},
       {{"orders", 1}, engine::committed_offset{1, 0, std::nullopt, 1'700'000'000'100, 1'800'000'000'000}},
       {{"events", 0}, std::nullopt}}});
  group(engine::txn_offsets_record{"group-a", 4001, {{{"orders", 2}, engine::committed_offset{1, -1, {}, 5, {}}}}});
  group(engine::txn_marker_record{"group-a", 4001, true});
  group(engine::group_metadata_record{"group-gone", std::nullopt});

  auto txn_rec = [&](const engine::txn_record& r) {
    auto [type, payload] = engine::txn_records::encode(r);
    out.push_back({engine::txn_stream, type, std::move(payload)});
  };
  txn_rec(engine::producer_id_block_record{5000});
  engine::stored_txn st;
  st.producer_id = 4001;
  st.producer_epoch = 2;
  st.timeout_ms = 60000;
  st.state = engine::txn_state::ongoing;
  st.partitions = {{"orders", 2}, {"events", 0}};
  st.groups = {"group-a"};
  st.start_ms = 1'700'000'000'000;
  st.last_update_ms = 1'700'000'000'200;
  txn_rec(engine::txn_metadata_record{"txn-1", st});
  st.state = engine::txn_state::prepare_commit;
  txn_rec(engine::txn_metadata_record{"txn-2", st});
  txn_rec(engine::txn_metadata_record{"txn-expired", std::nullopt});
  return out;
}

void wal_seeds(const fs::path& dir) {
  const auto plain = plain_records();
  write_file(dir / "empty_dir", bytes{std::byte{0}});
  write_file(dir / "one_segment_append_reopen", write_wal(plain, 256u << 20, 0x08));
  const auto multi = write_wal(plain, 200, 0x00);  // a roll every few records
  write_file(dir / "several_segments", multi);
  auto repaired = multi;
  repaired[0] = std::byte{0x06};
  write_file(dir / "several_segments_repaired", repaired);
  // A torn tail: the newest segment ends inside a record (recovery truncates it).
  auto torn = multi;
  torn.resize(torn.size() - 9);
  torn[0] = std::byte{0x08};  // and the log must take appends after the cut
  write_file(dir / "torn_tail", torn);
  // A damaged sealed segment (recovery refuses): a flipped payload byte in the first file.
  auto damaged = multi;
  damaged[1 + wal::format::segment_header_size + wal::format::record_header_size + 2] ^= std::byte{0x40};
  write_file(dir / "damaged_sealed", damaged);
  // The newest segment created but its header never written out.
  auto headerless = write_wal(plain, 200, 0x00);
  const bytes magic(reinterpret_cast<const std::byte*>(wal::format::segment_magic),
                    reinterpret_cast<const std::byte*>(wal::format::segment_magic) + 8);
  headerless.insert(headerless.end(), magic.begin(), magic.end());
  headerless.insert(headerless.end(), 4, std::byte{1});
  write_file(dir / "headerless_newest", headerless);

  // Preallocated segments (0x10): records, then the zeros the log never wrote; the same after a
  // hole, with a stale copy of a record past it (recovery must end at the hole).
  auto zero_tail = write_wal(plain, 256u << 20, 0x18);
  zero_tail.insert(zero_tail.end(), 1000, std::byte{0});
  write_file(dir / "prealloc_zero_tail", zero_tail);
  auto stale = zero_tail;
  stale.insert(stale.end(), zero_tail.end() - 1000 - 60, zero_tail.end() - 1000);
  write_file(dir / "prealloc_stale_after_hole", stale);
  auto prealloc_multi = multi;
  prealloc_multi[0] = std::byte{0x16};
  write_file(dir / "prealloc_several_segments", prealloc_multi);

  const auto eng = engine_records();
  write_file(dir / "engine_replay", write_wal(eng, 256u << 20, 0x01));
  write_file(dir / "engine_replay_segments", write_wal(eng, 700, 0x07));
}

void catalog_seeds(const fs::path& dir) {
  auto c = kairo_fuzz::fixture_catalog();
  const auto one = engine::encode_catalog(c);
  auto with_flags = [](uint8_t f, std::initializer_list<const bytes*> slots) {
    bytes out{std::byte{f}};
    for (auto* s : slots) out.insert(out.end(), s->begin(), s->end());
    return out;
  };
  write_file(dir / "fixture", with_flags(0x00, {&one}));
  write_file(dir / "fixture_repaired_engine", with_flags(0x05, {&one}));
  auto newer = c;
  newer.generation = 2;
  newer.next_stream = 7;
  newer.topics.push_back({"payments",
                          {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9},
                          {4, 5, 6},
                          {{"retention.ms", "604800000"}, {"max.message.bytes", std::string(300, '9')}}});
  const auto two = engine::encode_catalog(newer);
  write_file(dir / "two_slots", with_flags(0x02, {&one, &two}));
  write_file(dir / "two_slots_engine", with_flags(0x07, {&two, &one}));
  auto torn = two;
  torn.resize(two.size() / 2);
  write_file(dir / "two_slots_one_torn", with_flags(0x02, {&one, &torn}));
  write_file(dir / "empty_catalog", with_flags(0x04, {}));
  const auto nothing = engine::encode_catalog(engine::topic_catalog{});
  write_file(dir / "zero_topics", with_flags(0x01, {&nothing}));
  auto live = newer;
  live.broker_configs = {{"log.retention.ms", "86400000"}, {"log.retention.bytes", "1073741824"}};
  live.cluster_configs = {{"log.retention.ms", "172800000"}};
  const auto with_live = engine::encode_catalog(live);
  write_file(dir / "broker_configs_engine", with_flags(0x05, {&with_live}));
  // A version 1 slot (before broker configs were kept): no trailing sets; 0x01 fixes the CRC.
  auto v1 = engine::encode_catalog(c);
  v1.resize(v1.size() - 8);
  util::le::put_u32(v1.data() + 8, engine::catalog_format::version_without_broker_configs);
  write_file(dir / "version_1_engine", with_flags(0x05, {&v1}));
}

int check(const fs::path& corpus) {
  namespace P = server::protocol;
  int bad = 0;
  for (auto& e : fs::directory_iterator(corpus / "protocol_fuzz")) {
    const auto b = read_file(e.path());
    P::reader r(b);
    try {
      const auto h = P::request_header::decode(r);
      kairo_fuzz::decode_body(r, h);
      if (r.remaining() != 0) {
        std::cerr << e.path().filename().string() << ": " << r.remaining() << " bytes left after the body\n";
        ++bad;
      }
    } catch (const P::protocol_error& ex) {
      std::cerr << e.path().filename().string() << ": " << ex.what() << "\n";
      ++bad;
    }
  }
  for (auto& e : fs::directory_iterator(corpus / "record_batch_fuzz")) {
    if (e.path().filename() == "unrepaired") continue;
    const auto b = read_file(e.path());
    if (auto v = engine::validate_batches(std::span(b).subspan(1)); !v) {
      std::cerr << e.path().filename().string() << ": " << v.error().message() << "\n";
      ++bad;
    }
  }
  std::cerr << (bad ? "seed check failed\n" : "seed check ok\n");
  return bad ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  if (argc == 3 && std::string(argv[1]) == "--check") return check(argv[2]);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir> | --check <corpus-dir>\n", argv[0]);
    return 2;
  }
  const fs::path corpus = argv[1];
  wal_seeds(corpus / "wal_recovery_fuzz");
  catalog_seeds(corpus / "catalog_fuzz");
  return 0;
}
