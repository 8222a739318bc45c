// Transactional offset commits in the group coordinator (TxnOffsetCommit and the transaction's
// end), and the two group records that carry them.
#include <catch2/catch.hpp>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/errc.h"
#include "engine/group_coordinator.h"
#include "engine/group_records.h"

using namespace engine;
using namespace std::chrono_literals;

namespace {

std::error_code E(errc e) { return make_error_code(e); }
const std::error_code ok{};

class fake_store : public group_store {
 public:
  struct entry {
    group_record rec;
    done_fn done;
  };
  void persist(group_record r, done_fn done) override { queue.push_back({std::move(r), std::move(done)}); }
  void complete(const coordinator_time& t, std::error_code ec = {}) {
    REQUIRE(!queue.empty());
    entry e = std::move(queue.front());
    queue.pop_front();
    if (!ec) durable.push_back(e.rec);
    e.done(ec, t);
  }
  void complete_all(const coordinator_time& t) {
    while (!queue.empty()) complete(t);
  }
  std::deque<entry> queue;
  std::vector<group_record> durable;
};

struct harness {
  coordinator_time t{std::chrono::steady_clock::time_point(std::chrono::hours(1000)), 1'700'000'000'000};
  fake_store store;
  int ids = 0;
  group_coordinator gc{group_config{}, store, [this] { return std::to_string(++ids); }};
  harness() {
    gc.start(t, [](const std::string&) { return true; });
  }

  commit_result txn_commit(const std::string& group, int64_t pid,
                           std::vector<std::pair<topic_partition, int64_t>> offs) {
    txn_commit_request req;
    req.group_id = group;
    req.producer_id = pid;
    req.producer_epoch = 0;
    for (auto& [tp, o] : offs) {
      committed_offset c;
      c.offset = o;
      c.metadata = "m" + std::to_string(o);
      req.offsets.emplace_back(tp, c);
    }
    std::vector<commit_result> got;
    gc.txn_commit(t, std::move(req), [&](commit_result r) { got.push_back(std::move(r)); });
    store.complete_all(t);
    REQUIRE(got.size() == 1);
    return got.front();
  }
  std::error_code complete(const std::string& group, int64_t pid, bool commit) {
    std::vector<std::error_code> got;
    gc.complete_txn(group, pid, commit, [&](std::error_code ec, const coordinator_time&) { got.push_back(ec); });
    store.complete_all(t);
    REQUIRE(got.size() == 1);
    return got.front();
  }
  commit_result commit(const std::string& group, const topic_partition& tp, int64_t offset) {
    commit_request req;
    req.group_id = group;
    committed_offset c;
    c.offset = offset;
    req.offsets.emplace_back(tp, c);
    std::vector<commit_result> got;
    gc.commit(t, std::move(req), [&](commit_result r) { got.push_back(std::move(r)); });
    store.complete_all(t);
    REQUIRE(got.size() == 1);
    return got.front();
  }
  fetched_offset fetch(const std::string& group, const topic_partition& tp, bool require_stable = false) const {
    auto f = gc.fetch_offsets(group, std::vector<topic_partition>{tp}, require_stable);
    REQUIRE(f.size() == 1);
    return f.front();
  }
};

const topic_partition t0{"t", 0};
const topic_partition t1{"t", 1};

}  // namespace

TEST_CASE("transactional offsets become the group's only when the transaction commits", "[engine][txn][group]") {
  harness h;
  REQUIRE(h.commit("g", t1, 5) == commit_result{ok});
  REQUIRE(h.txn_commit("g", 42, {{t0, 100}, {t1, 200}}) == commit_result{ok, ok});
  // Pending: invisible, and unstable for consumers that require stable offsets.
  CHECK(h.fetch("g", t0).offset.offset == -1);
  CHECK(h.fetch("g", t0).error == ok);
  CHECK(h.fetch("g", t1).offset.offset == 5);
  CHECK(h.fetch("g", t0, true).error == errc::unstable_offset_commit);
  CHECK(h.fetch("g", t1, true).error == errc::unstable_offset_commit);
  CHECK(h.fetch("g", {"t", 2}, true).error == ok);
  auto all = h.gc.fetch_offsets("g", std::nullopt, true);
  REQUIRE(all.size() == 1);  // only t1 has a committed offset
  CHECK(all[0].error == errc::unstable_offset_commit);

  SECTION("commit") {
    REQUIRE(h.complete("g", 42, true) == ok);
    CHECK(h.fetch("g", t0).offset.offset == 100);
    CHECK(h.fetch("g", t0).offset.metadata == "m100");
    CHECK(h.fetch("g", t1).offset.offset == 200);
    CHECK(h.fetch("g", t0, true).error == ok);
    CHECK(h.fetch("g", t1, true).offset.offset == 200);
  }
  SECTION("abort") {
    REQUIRE(h.complete("g", 42, false) == ok);
    CHECK(h.fetch("g", t0).offset.offset == -1);
    CHECK(h.fetch("g", t1).offset.offset == 5);
    CHECK(h.fetch("g", t1, true).error == ok);
  }
  SECTION("another producer's end settles nothing of this one") {
    REQUIRE(h.complete("g", 7, true) == ok);
    CHECK(h.fetch("g", t0, true).error == errc::unstable_offset_commit);
    CHECK(h.fetch("g", t0).offset.offset == -1);
    REQUIRE(h.complete("g", 42, true) == ok);
    CHECK(h.fetch("g", t0).offset.offset == 100);
  }
  SECTION("the offsets are only pending once durable") {
    txn_commit_request req;
    req.group_id = "g";
    req.producer_id = 43;
    committed_offset c;
    c.offset = 9;
    req.offsets.emplace_back(topic_partition{"u", 0}, c);
    std::vector<commit_result> got;
    h.gc.txn_commit(h.t, std::move(req), [&](commit_result r) { got.push_back(std::move(r)); });
    CHECK(got.empty());
    h.store.complete(h.t, E(errc::storage_error));
    REQUIRE(got.size() == 1);
    CHECK(got[0] == commit_result{E(errc::storage_error)});
    REQUIRE(h.complete("g", 43, true) == ok);
    CHECK(h.fetch("g", {"u", 0}).offset.offset == -1);
  }
}

TEST_CASE("an unknown group's transaction end settles nothing and answers", "[engine][txn][group]") {
  harness h;
  CHECK(h.complete("nobody", 1, true) == ok);
  CHECK(h.store.durable.empty());
}

TEST_CASE("replaying txn offsets and marker records gives the same offsets", "[engine][txn][group]") {
  harness h;
  REQUIRE(h.commit("g", t1, 5) == commit_result{ok});
  REQUIRE(h.txn_commit("g", 1, {{t0, 10}}) == commit_result{ok});
  REQUIRE(h.txn_commit("g", 2, {{t1, 20}}) == commit_result{ok});
  REQUIRE(h.txn_commit("g", 3, {{{"u", 0}, 30}}) == commit_result{ok});
  REQUIRE(h.complete("g", 1, true) == ok);
  REQUIRE(h.complete("g", 2, false) == ok);
  // Producer 3's transaction is still open.

  // Every durable record, or only the restatement retention writes before removing their
  // segments, through its WAL encoding into a new coordinator.
  const bool restated = GENERATE(false, true);
  INFO((restated ? "from the restatement" : "from every durable record"));
  fake_store store2;
  group_coordinator replay(group_config{}, store2, [] { return std::string("x"); });
  for (const auto& rec : restated ? h.gc.restatement() : h.store.durable) {
    auto [type, bytes] = group_records::encode(rec);
    auto back = group_records::decode(type, bytes);
    REQUIRE(back);
    replay.load(*back);
  }
  replay.start(h.t, [](const std::string&) { return true; });
  for (const auto& tp : {t0, t1, topic_partition{"u", 0}})
    for (bool stable : {false, true}) {
      auto a = h.gc.fetch_offsets("g", std::vector<topic_partition>{tp}, stable);
      auto b = replay.fetch_offsets("g", std::vector<topic_partition>{tp}, stable);
      REQUIRE(a.size() == 1);
      REQUIRE(b.size() == 1);
      INFO(tp.topic << "-" << tp.partition << " stable " << stable);
      CHECK(a[0].offset == b[0].offset);
      CHECK(a[0].error == b[0].error);
    }
  CHECK(replay.fetch_offsets("g", std::vector<topic_partition>{t0}, false)[0].offset.offset == 10);
  CHECK(replay.fetch_offsets("g", std::vector<topic_partition>{t1}, false)[0].offset.offset == 5);
  CHECK(replay.fetch_offsets("g", std::vector<topic_partition>{{"u", 0}}, true)[0].error ==
        errc::unstable_offset_commit);

  // The open transaction ends after the restart, as it would have before.
  std::vector<std::error_code> got;
  replay.complete_txn("g", 3, true, [&](std::error_code ec, const coordinator_time&) { got.push_back(ec); });
  store2.complete_all(h.t);
  REQUIRE(got.size() == 1);
  CHECK(replay.fetch_offsets("g", std::vector<topic_partition>{{"u", 0}}, true)[0].offset.offset == 30);
}

TEST_CASE("txn offsets and txn marker records round-trip and damaged ones are refused", "[engine][txn][group]") {
  txn_offsets_record offs;
  offs.group_id = "group-\xc3\xa9";
  offs.producer_id = 0x0102030405060708;
  committed_offset a;
  a.offset = 0x7fff'ffff'ffff'fff0;
  a.leader_epoch = 12;
  a.metadata = std::string(5000, 'm');
  a.commit_timestamp_ms = 1'700'000'000'001;
  committed_offset b;
  b.offset = 0;
  b.leader_epoch = -1;
  b.metadata = std::nullopt;
  b.commit_timestamp_ms = 0;
  offs.offsets = {{{"orders", 3}, a}, {{"x", 0}, b}};
  const std::vector<group_record> records{
      offs,
      txn_offsets_record{"empty", -1, {}},
      txn_marker_record{"g", 77, true},
      txn_marker_record{"g", 0, false},
  };
  for (const auto& rec : records) {
    auto [type, bytes] = group_records::encode(rec);
    CHECK(type == (std::holds_alternative<txn_offsets_record>(rec) ? group_records::type_txn_offsets
                                                                   : group_records::type_txn_marker));
    auto back = group_records::decode(type, bytes);
    REQUIRE(back);
    CHECK(*back == rec);
    for (size_t n = 0; n < bytes.size(); ++n)
      CHECK(group_records::decode(type, std::span<const std::byte>(bytes).first(n)).error() == errc::corrupt_message);
    auto longer = bytes;
    longer.push_back(std::byte{0});
    CHECK(group_records::decode(type, longer).error() == errc::corrupt_message);
    auto v2 = bytes;
    v2[0] = std::byte{2};
    CHECK(group_records::decode(type, v2).error() == errc::corrupt_message);
  }
}
