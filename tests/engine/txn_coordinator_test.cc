// The transaction coordinator on a simulated clock, with effects the test completes by hand:
// producer ids, the transaction state machine, markers, timeouts, restarts; and its records.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/errc.h"
#include "engine/txn_coordinator.h"
#include "engine/txn_records.h"

using namespace engine;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

namespace {

std::error_code E(errc e) { return make_error_code(e); }
const std::error_code ok{};

struct sim_clock {
  std::chrono::steady_clock::time_point mono{std::chrono::hours(1000)};
  int64_t wall_ms = 1'700'000'000'000;
  coordinator_time now() const { return {mono, wall_ms}; }
  void advance(ms d) {
    mono += d;
    wall_ms += d.count();
  }
};

// Queues persists and marker writes; the test completes them, oldest first.
class fake_effects : public txn_effects {
 public:
  struct persist_entry {
    txn_record rec;
    done_fn done;
  };
  struct marker_entry {
    int64_t producer_id;
    int16_t epoch;
    bool commit;
    std::vector<topic_partition> partitions;
    std::vector<std::string> groups;
    done_fn done;
  };
  void persist(txn_record r, done_fn done) override { persists.push_back({std::move(r), std::move(done)}); }
  void write_markers(int64_t producer_id, int16_t epoch, bool commit, const std::vector<topic_partition>& partitions,
                     const std::vector<std::string>& groups, done_fn done) override {
    markers.push_back({producer_id, epoch, commit, partitions, groups, std::move(done)});
  }

  void complete_persist(const coordinator_time& t, std::error_code ec = {}) {
    REQUIRE(!persists.empty());
    auto e = std::move(persists.front());
    persists.pop_front();
    if (!ec) durable.push_back(e.rec);
    e.done(ec, t);
  }
  void complete_persists(const coordinator_time& t) {
    while (!persists.empty()) complete_persist(t);
  }
  marker_entry take_marker() {
    REQUIRE(!markers.empty());
    auto m = std::move(markers.front());
    markers.pop_front();
    return m;
  }
  void complete_marker(const coordinator_time& t, std::error_code ec = {}) { take_marker().done(ec, t); }
  // Everything queued, persists and markers, until nothing is left.
  void settle(const coordinator_time& t) {
    while (!persists.empty() || !markers.empty()) {
      if (!persists.empty()) complete_persist(t);
      else complete_marker(t);
    }
  }

  std::deque<persist_entry> persists;
  std::deque<marker_entry> markers;
  std::vector<txn_record> durable;
};

template <class T>
struct reply_box {
  std::shared_ptr<std::vector<T>> got = std::make_shared<std::vector<T>>();
  std::function<void(T)> fn() const {
    return [g = got](T v) { g->push_back(std::move(v)); };
  }
  bool answered() const { return !got->empty(); }
  const T& value() const {
    REQUIRE(got->size() == 1);
    return got->front();
  }
};

txn_config test_config() {
  txn_config c;
  c.max_timeout = 900'000ms;
  c.abort_check_interval = 1000ms;
  c.id_expiration = std::chrono::hours(1);
  c.producer_id_block = 3;
  return c;
}

const std::vector<topic_partition> tp01{{"t", 0}, {"t", 1}};

// A coordinator and its world, with helpers for the common request sequences.
struct harness {
  sim_clock clock;
  fake_effects fx;
  txn_coordinator c;
  explicit harness(txn_config cfg = test_config()) : c(cfg, fx) {}
  coordinator_time now() const { return clock.now(); }

  // InitProducerId, its persists completed.
  init_pid_result init(const std::optional<std::string>& id, int32_t timeout_ms = 60'000, int64_t expected_id = -1,
                       int16_t expected_epoch = -1) {
    reply_box<init_pid_result> r;
    c.init_producer_id(now(), id, timeout_ms, expected_id, expected_epoch, r.fn());
    fx.complete_persists(now());
    return r.value();
  }
  std::error_code add(const std::string& id, int64_t pid, int16_t epoch, std::vector<topic_partition> tps = tp01) {
    reply_box<std::error_code> r;
    c.add_partitions(now(), id, pid, epoch, std::move(tps), r.fn());
    fx.complete_persists(now());
    return r.value();
  }
  std::error_code add_group(const std::string& id, int64_t pid, int16_t epoch, const std::string& group) {
    reply_box<std::error_code> r;
    c.add_offsets(now(), id, pid, epoch, group, r.fn());
    fx.complete_persists(now());
    return r.value();
  }
  // EndTxn with only the Prepare state completed: markers are queued, not written.
  std::error_code end(const std::string& id, int64_t pid, int16_t epoch, bool commit) {
    reply_box<std::error_code> r;
    c.end_txn(now(), id, pid, epoch, commit, r.fn());
    if (!r.answered()) fx.complete_persist(now());
    return r.value();
  }
  txn_description describe(const std::string& id) const {
    auto d = c.describe({id});
    REQUIRE(d.size() == 1);
    return d.front();
  }
  txn_state state(const std::string& id) const { return describe(id).state; }
};

const stored_txn* metadata_of(const txn_record& r, const std::string& id) {
  const auto* m = std::get_if<txn_metadata_record>(&r);
  if (!m || m->transactional_id != id || !m->value) return nullptr;
  return &*m->value;
}

}  // namespace

// --- producer ids ---

TEST_CASE("InitProducerId without a transactional id gives a fresh id at epoch 0 every time", "[engine][txn]") {
  harness h;
  reply_box<init_pid_result> first, second;
  h.c.init_producer_id(h.now(), std::nullopt, 0, -1, -1, first.fn());
  h.c.init_producer_id(h.now(), std::nullopt, 0, -1, -1, second.fn());
  // No id before its block is durable; one block for both.
  CHECK_FALSE(first.answered());
  CHECK_FALSE(second.answered());
  REQUIRE(h.fx.persists.size() == 1);
  CHECK(std::get<producer_id_block_record>(h.fx.persists.front().rec).block_end == 3);
  h.fx.complete_persist(h.now());
  REQUIRE(first.answered());
  REQUIRE(second.answered());
  CHECK(first.value().error == ok);
  CHECK(first.value().producer_id == 0);
  CHECK(first.value().producer_epoch == 0);
  CHECK(second.value().producer_id == 1);
  CHECK(second.value().producer_epoch == 0);

  std::set<int64_t> issued{0, 1};
  for (int i = 0; i < 7; ++i) {
    auto r = h.init(std::nullopt);
    CHECK(r.error == ok);
    CHECK(r.producer_epoch == 0);
    CHECK(issued.insert(r.producer_id).second);
  }
  CHECK(*issued.rbegin() == 8);
  CHECK(std::get<producer_id_block_record>(h.fx.durable.back()).block_end == 9);

  SECTION("ids are never issued again after a restart") {
    harness r;
    for (const auto& rec : h.fx.durable) r.c.load(rec);
    r.c.start(r.now());
    for (int i = 0; i < 5; ++i) {
      auto got = r.init(std::nullopt);
      CHECK(got.error == ok);
      CHECK(issued.insert(got.producer_id).second);
    }
  }
  SECTION("a crash after a block was reserved skips the whole block") {
    // Id 9 is handed out from a block that is durable; the broker crashes before any record of
    // it: whatever was in memory, the next start begins past the block.
    auto one = h.init(std::nullopt);
    CHECK(one.producer_id == 9);
    CHECK(std::get<producer_id_block_record>(h.fx.durable.back()).block_end == 12);
    harness r;
    for (const auto& rec : h.fx.durable) r.c.load(rec);
    r.c.start(r.now());
    auto next = r.init(std::nullopt);
    CHECK(next.producer_id == 12);
  }
  SECTION("a block that never became durable hands out nothing") {
    reply_box<init_pid_result> pending;
    h.c.init_producer_id(h.now(), std::nullopt, 0, -1, -1, pending.fn());
    REQUIRE(h.fx.persists.size() == 1);
    h.fx.complete_persist(h.now(), E(errc::storage_error));
    REQUIRE(pending.answered());
    CHECK(pending.value().error == errc::storage_error);
    CHECK(pending.value().producer_id == -1);
    // The next request asks for the block again.
    auto again = h.init(std::nullopt);
    CHECK(again.error == ok);
    CHECK(issued.insert(again.producer_id).second);
  }
}

TEST_CASE("InitProducerId with a transactional id: epoch 0 first, then bumps", "[engine][txn]") {
  harness h;
  reply_box<init_pid_result> r;
  h.c.init_producer_id(h.now(), std::string("tx"), 60'000, -1, -1, r.fn());
  h.fx.complete_persist(h.now());  // the producer id block
  CHECK_FALSE(r.answered());       // the transactional id's metadata is not durable yet
  REQUIRE(h.fx.persists.size() == 1);
  const stored_txn* s = metadata_of(h.fx.persists.front().rec, "tx");
  REQUIRE(s);
  CHECK(s->state == txn_state::empty);
  CHECK(s->producer_epoch == 0);
  CHECK(s->timeout_ms == 60'000);
  h.fx.complete_persist(h.now());
  REQUIRE(r.answered());
  CHECK(r.value().error == ok);
  const int64_t pid = r.value().producer_id;
  CHECK(r.value().producer_epoch == 0);

  auto again = h.init("tx", 30'000);
  CHECK(again.error == ok);
  CHECK(again.producer_id == pid);
  CHECK(again.producer_epoch == 1);
  auto d = h.describe("tx");
  CHECK(d.error == ok);
  CHECK(d.state == txn_state::empty);
  CHECK(d.producer_epoch == 1);
  CHECK(d.timeout_ms == 30'000);
  CHECK(h.init("tx").producer_epoch == 2);
  // Another transactional id gets another producer id.
  auto other = h.init("other");
  CHECK(other.producer_id != pid);
  CHECK(other.producer_epoch == 0);

  SECTION("bad requests are refused without touching anything") {
    CHECK(h.init("tx", 900'001).error == errc::invalid_transaction_timeout);
    CHECK(h.init("tx", 0).error == errc::invalid_transaction_timeout);
    CHECK(h.init("tx", -5).error == errc::invalid_transaction_timeout);
    CHECK(h.init("new", 900'001).error == errc::invalid_transaction_timeout);
    CHECK(h.init(std::string()).error == errc::invalid_request);
    CHECK(h.fx.persists.empty());
    CHECK(h.describe("tx").producer_epoch == 2);
    CHECK(h.describe("new").error == errc::transactional_id_not_found);
    CHECK(h.init("tx", 900'000).producer_epoch == 3);  // the maximum itself is allowed
  }
  SECTION("a re-init while the last one is being stored is told to retry") {
    reply_box<init_pid_result> a, b;
    h.c.init_producer_id(h.now(), std::string("tx"), 60'000, -1, -1, a.fn());
    h.c.init_producer_id(h.now(), std::string("tx"), 60'000, -1, -1, b.fn());
    REQUIRE(b.answered());
    CHECK(b.value().error == errc::concurrent_transactions);
    h.fx.complete_persists(h.now());
    CHECK(a.value().producer_epoch == 3);
  }
  SECTION("a failed store keeps the old epoch") {
    reply_box<init_pid_result> a;
    h.c.init_producer_id(h.now(), std::string("tx"), 60'000, -1, -1, a.fn());
    h.fx.complete_persist(h.now(), E(errc::storage_error));
    CHECK(a.value().error == errc::storage_error);
    CHECK(h.describe("tx").producer_epoch == 2);
    CHECK(h.init("tx").producer_epoch == 3);
  }
  SECTION("expected producer id and epoch (v3+)") {
    CHECK(h.init("tx", 60'000, pid + 100, 2).error == errc::producer_fenced);
    CHECK(h.init("tx", 60'000, pid, 1).error == errc::producer_fenced);
    auto bumped = h.init("tx", 60'000, pid, 2);
    CHECK(bumped.error == ok);
    CHECK(bumped.producer_epoch == 3);
  }
  SECTION("two first inits of one new transactional id: one wins, the other retries") {
    reply_box<init_pid_result> a, b;
    h.c.init_producer_id(h.now(), std::string("fresh"), 60'000, -1, -1, a.fn());
    h.c.init_producer_id(h.now(), std::string("fresh"), 60'000, -1, -1, b.fn());
    h.fx.complete_persists(h.now());
    REQUIRE(a.answered());
    REQUIRE(b.answered());
    CHECK((a.value().error == ok) != (b.value().error == ok));
    const auto& winner = a.value().error == ok ? a.value() : b.value();
    const auto& loser = a.value().error == ok ? b.value() : a.value();
    CHECK(winner.producer_epoch == 0);
    CHECK(loser.error == errc::concurrent_transactions);
    CHECK(h.describe("fresh").producer_id == winner.producer_id);
    CHECK(h.init("fresh").producer_epoch == 1);
  }
  SECTION("a new transactional id whose first record is not stored does not exist") {
    reply_box<init_pid_result> a;
    h.c.init_producer_id(h.now(), std::string("fresh"), 60'000, -1, -1, a.fn());
    while (!h.fx.persists.empty() && !metadata_of(h.fx.persists.front().rec, "fresh")) h.fx.complete_persist(h.now());
    REQUIRE_FALSE(h.fx.persists.empty());
    h.fx.complete_persist(h.now(), E(errc::storage_error));
    CHECK(a.value().error == errc::storage_error);
    CHECK(h.describe("fresh").error == errc::transactional_id_not_found);
    auto retried = h.init("fresh");
    CHECK(retried.error == ok);
    CHECK(retried.producer_epoch == 0);
  }
  SECTION("an exhausted epoch moves to a new producer id") {
    harness x;
    x.c.load(producer_id_block_record{100});
    x.c.load(txn_metadata_record{"tx", stored_txn{7, 32766, 60'000, txn_state::complete_commit, {}, {}, -1, 0}});
    x.c.start(x.now());
    auto got = x.init("tx");
    CHECK(got.error == ok);
    CHECK(got.producer_id >= 100);
    CHECK(got.producer_epoch == 0);
  }
}

TEST_CASE("a re-init while a transaction is ongoing fences the producer and aborts", "[engine][txn]") {
  harness h;
  auto p = h.init("tx");
  REQUIRE(h.add("tx", p.producer_id, 0) == ok);
  REQUIRE(h.add_group("tx", p.producer_id, 0, "g") == ok);
  REQUIRE(h.state("tx") == txn_state::ongoing);

  reply_box<init_pid_result> r;
  h.c.init_producer_id(h.now(), std::string("tx"), 60'000, -1, -1, r.fn());
  REQUIRE(r.answered());
  CHECK(r.value().error == errc::concurrent_transactions);
  REQUIRE(h.fx.persists.size() == 1);
  const stored_txn* s = metadata_of(h.fx.persists.front().rec, "tx");
  REQUIRE(s);
  CHECK(s->state == txn_state::prepare_abort);
  CHECK(s->producer_epoch == 1);
  CHECK(h.fx.markers.empty());  // not before the abort is durable

  // The old producer is fenced from now on.
  reply_box<std::error_code> add_old, end_old;
  h.c.add_partitions(h.now(), "tx", p.producer_id, 0, {{"t", 5}}, add_old.fn());
  CHECK(add_old.value() == errc::producer_fenced);
  h.c.end_txn(h.now(), "tx", p.producer_id, 0, true, end_old.fn());
  CHECK(end_old.value() == errc::producer_fenced);

  h.fx.complete_persist(h.now());
  REQUIRE(h.fx.markers.size() == 1);
  auto mk = h.fx.take_marker();
  CHECK(mk.producer_id == p.producer_id);
  CHECK(mk.epoch == 1);  // the bumped epoch carries the fence into every partition
  CHECK_FALSE(mk.commit);
  CHECK(mk.partitions == tp01);
  CHECK(mk.groups == std::vector<std::string>{"g"});
  CHECK(h.state("tx") == txn_state::prepare_abort);
  CHECK(h.init("tx").error == errc::concurrent_transactions);  // still completing

  mk.done(ok, h.now());
  REQUIRE(h.fx.persists.size() == 1);
  s = metadata_of(h.fx.persists.front().rec, "tx");
  REQUIRE(s);
  CHECK(s->state == txn_state::complete_abort);
  CHECK(s->partitions.empty());
  CHECK(s->groups.empty());
  reply_box<init_pid_result> early;
  h.c.init_producer_id(h.now(), std::string("tx"), 60'000, -1, -1, early.fn());
  CHECK(early.value().error == errc::concurrent_transactions);  // Complete not durable yet
  h.fx.complete_persist(h.now());
  auto retry = h.init("tx");
  CHECK(retry.error == ok);
  CHECK(retry.producer_id == p.producer_id);
  CHECK(retry.producer_epoch == 2);
}

TEST_CASE("AddPartitionsToTxn and AddOffsetsToTxn check the producer and the state", "[engine][txn]") {
  harness h;
  auto p = h.init("tx");
  const int64_t pid = p.producer_id;
  h.init("other");

  CHECK(h.add("nope", pid, 0) == errc::invalid_producer_id_mapping);
  CHECK(h.add("tx", pid + 1, 0) == errc::invalid_producer_id_mapping);
  CHECK(h.add("tx", pid, 1) == errc::producer_fenced);
  CHECK(h.add_group("nope", pid, 0, "g") == errc::invalid_producer_id_mapping);
  CHECK(h.add_group("tx", pid + 1, 0, "g") == errc::invalid_producer_id_mapping);
  CHECK(h.add_group("tx", pid, 1, "g") == errc::producer_fenced);
  CHECK(h.state("tx") == txn_state::empty);

  // The first add starts the transaction, durably, and only then answers.
  h.clock.advance(5s);
  reply_box<std::error_code> first;
  h.c.add_partitions(h.now(), "tx", pid, 0, {{"t", 0}, {"t", 0}, {"t", 1}}, first.fn());
  CHECK_FALSE(first.answered());
  reply_box<std::error_code> during;
  h.c.add_partitions(h.now(), "tx", pid, 0, {{"t", 2}}, during.fn());
  CHECK(during.value() == errc::concurrent_transactions);
  reply_box<std::error_code> during_offsets;
  h.c.add_offsets(h.now(), "tx", pid, 0, "g", during_offsets.fn());
  CHECK(during_offsets.value() == errc::concurrent_transactions);
  reply_box<std::error_code> during_end;
  h.c.end_txn(h.now(), "tx", pid, 0, true, during_end.fn());
  CHECK(during_end.value() == errc::concurrent_transactions);
  h.fx.complete_persist(h.now());
  CHECK(first.value() == ok);
  auto d = h.describe("tx");
  CHECK(d.state == txn_state::ongoing);
  CHECK(d.partitions == tp01);  // duplicates dropped
  CHECK(d.start_ms == h.now().wall_ms);

  // Partitions already in the transaction: answered at once, nothing stored.
  reply_box<std::error_code> known;
  h.c.add_partitions(h.now(), "tx", pid, 0, {{"t", 1}}, known.fn());
  CHECK(known.value() == ok);
  CHECK(h.fx.persists.empty());
  h.clock.advance(1s);
  CHECK(h.add("tx", pid, 0, {{"u", 0}}) == ok);
  CHECK(h.describe("tx").partitions.size() == 3);
  CHECK(h.describe("tx").start_ms == h.now().wall_ms - 1000);  // the transaction's start stays
  CHECK(h.add_group("tx", pid, 0, "g") == ok);
  reply_box<std::error_code> known_group;
  h.c.add_offsets(h.now(), "tx", pid, 0, "g", known_group.fn());
  CHECK(known_group.value() == ok);
  CHECK(h.fx.persists.empty());

  // During PrepareCommit: retry later.
  reply_box<std::error_code> end;
  h.c.end_txn(h.now(), "tx", pid, 0, true, end.fn());
  h.fx.complete_persist(h.now());
  REQUIRE(end.value() == ok);
  REQUIRE(h.state("tx") == txn_state::prepare_commit);
  CHECK(h.add("tx", pid, 0, {{"v", 0}}) == errc::concurrent_transactions);
  CHECK(h.add_group("tx", pid, 0, "g2") == errc::concurrent_transactions);
  CHECK(h.add("tx", pid, 1) == errc::producer_fenced);
  h.fx.settle(h.now());
  CHECK(h.state("tx") == txn_state::complete_commit);

  // After completion a new add starts the next transaction.
  h.clock.advance(1s);
  CHECK(h.add("tx", pid, 0, {{"w", 0}}) == ok);
  d = h.describe("tx");
  CHECK(d.state == txn_state::ongoing);
  CHECK(d.partitions == std::vector<topic_partition>{{"w", 0}});
  CHECK(d.start_ms == h.now().wall_ms);

  SECTION("AddOffsetsToTxn alone starts a transaction too") {
    CHECK(h.add_group("other", h.describe("other").producer_id, 0, "g") == ok);
    CHECK(h.state("other") == txn_state::ongoing);
    CHECK(h.describe("other").partitions.empty());
  }
  SECTION("a failed store leaves the transaction as it was") {
    reply_box<std::error_code> r;
    h.c.add_partitions(h.now(), "tx", pid, 0, {{"x", 0}}, r.fn());
    h.fx.complete_persist(h.now(), E(errc::storage_error));
    CHECK(r.value() == errc::storage_error);
    CHECK(h.describe("tx").partitions == std::vector<topic_partition>{{"w", 0}});
  }
}

TEST_CASE("EndTxn: answered once PrepareCommit is durable, then markers, then Complete", "[engine][txn]") {
  harness h;
  auto p = h.init("tx");
  const int64_t pid = p.producer_id;
  CHECK(h.end("tx", pid, 0, true) == errc::invalid_txn_state);  // nothing to end in Empty
  REQUIRE(h.add("tx", pid, 0, {{"a", 0}, {"b", 3}}) == ok);
  REQUIRE(h.add_group("tx", pid, 0, "g1") == ok);
  REQUIRE(h.add_group("tx", pid, 0, "g2") == ok);
  REQUIRE(h.add("tx", pid, 0, {{"a", 1}}) == ok);
  CHECK(h.end("nope", pid, 0, true) == errc::invalid_producer_id_mapping);
  CHECK(h.end("tx", pid + 1, 0, true) == errc::invalid_producer_id_mapping);
  CHECK(h.end("tx", pid, 1, true) == errc::producer_fenced);
  const size_t durable_before = h.fx.durable.size();

  reply_box<std::error_code> end;
  h.c.end_txn(h.now(), "tx", pid, 0, true, end.fn());
  CHECK_FALSE(end.answered());
  CHECK(h.fx.markers.empty());
  REQUIRE(h.fx.persists.size() == 1);
  const stored_txn* s = metadata_of(h.fx.persists.front().rec, "tx");
  REQUIRE(s);
  CHECK(s->state == txn_state::prepare_commit);
  // A retry meanwhile: the state change is pending.
  reply_box<std::error_code> early;
  h.c.end_txn(h.now(), "tx", pid, 0, true, early.fn());
  CHECK(early.value() == errc::concurrent_transactions);

  h.fx.complete_persist(h.now());
  CHECK(end.value() == ok);
  REQUIRE(h.fx.markers.size() == 1);
  const auto& mk = h.fx.markers.front();
  CHECK(mk.producer_id == pid);
  CHECK(mk.epoch == 0);
  CHECK(mk.commit);
  CHECK(mk.partitions == std::vector<topic_partition>{{"a", 0}, {"b", 3}, {"a", 1}});
  CHECK(mk.groups == std::vector<std::string>{"g1", "g2"});
  CHECK(h.fx.persists.empty());  // Complete waits for the markers

  // While the markers are written: the same outcome is retried later, the other is wrong.
  CHECK(h.end("tx", pid, 0, true) == errc::concurrent_transactions);
  CHECK(h.end("tx", pid, 0, false) == errc::invalid_txn_state);
  CHECK(h.state("tx") == txn_state::prepare_commit);

  h.clock.advance(2s);
  h.fx.complete_marker(h.now());
  REQUIRE(h.fx.persists.size() == 1);
  s = metadata_of(h.fx.persists.front().rec, "tx");
  REQUIRE(s);
  CHECK(s->state == txn_state::complete_commit);
  CHECK(s->partitions.empty());
  CHECK(s->groups.empty());
  CHECK(s->last_update_ms == h.now().wall_ms);
  h.fx.complete_persist(h.now());
  CHECK(h.state("tx") == txn_state::complete_commit);
  // Durable, in order: PrepareCommit, CompleteCommit.
  REQUIRE(h.fx.durable.size() == durable_before + 2);
  CHECK(metadata_of(h.fx.durable[durable_before], "tx")->state == txn_state::prepare_commit);
  CHECK(metadata_of(h.fx.durable[durable_before + 1], "tx")->state == txn_state::complete_commit);

  // A retry after completion (its answer was lost): success for the same outcome only.
  CHECK(h.end("tx", pid, 0, true) == ok);
  CHECK(h.end("tx", pid, 0, false) == errc::invalid_txn_state);
  CHECK(h.fx.persists.empty());
  CHECK(h.fx.markers.empty());

  SECTION("the same for an abort") {
    REQUIRE(h.add("tx", pid, 0, {{"c", 0}}) == ok);
    CHECK(h.end("tx", pid, 0, false) == ok);
    auto m2 = h.fx.take_marker();
    CHECK_FALSE(m2.commit);
    CHECK(m2.partitions == std::vector<topic_partition>{{"c", 0}});
    CHECK(m2.groups.empty());
    CHECK(h.end("tx", pid, 0, false) == errc::concurrent_transactions);
    CHECK(h.end("tx", pid, 0, true) == errc::invalid_txn_state);
    m2.done(ok, h.now());
    h.fx.complete_persists(h.now());
    CHECK(h.state("tx") == txn_state::complete_abort);
    CHECK(h.end("tx", pid, 0, false) == ok);
    CHECK(h.end("tx", pid, 0, true) == errc::invalid_txn_state);
  }
  SECTION("a PrepareCommit that is not stored leaves the transaction ongoing") {
    REQUIRE(h.add("tx", pid, 0, {{"c", 0}}) == ok);
    reply_box<std::error_code> r;
    h.c.end_txn(h.now(), "tx", pid, 0, true, r.fn());
    h.fx.complete_persist(h.now(), E(errc::storage_error));
    CHECK(r.value() == errc::storage_error);
    CHECK(h.fx.markers.empty());
    CHECK(h.state("tx") == txn_state::ongoing);
    CHECK(h.end("tx", pid, 0, true) == ok);
    CHECK(h.fx.markers.size() == 1);
  }
  SECTION("markers that fail leave it completing until a restart") {
    REQUIRE(h.add("tx", pid, 0, {{"c", 0}}) == ok);
    REQUIRE(h.end("tx", pid, 0, true) == ok);
    h.fx.complete_marker(h.now(), E(errc::storage_error));
    CHECK(h.fx.persists.empty());
    CHECK(h.state("tx") == txn_state::prepare_commit);
    CHECK(h.init("tx").error == errc::concurrent_transactions);
  }
}

TEST_CASE("a transaction past its timeout is aborted and its producer fenced", "[engine][txn]") {
  harness h;
  h.c.start(h.now());
  REQUIRE(h.c.next_deadline());
  CHECK(*h.c.next_deadline() == h.now().mono + 1000ms);
  auto p = h.init("tx", 5000);
  const int64_t pid = p.producer_id;
  auto q = h.init("idle", 5000);  // Empty: never times out
  REQUIRE(h.add("tx", pid, 0) == ok);

  h.clock.advance(5000ms);
  h.c.expire(h.now());
  CHECK(h.fx.persists.empty());  // exactly the timeout is not past it
  CHECK(*h.c.next_deadline() == h.now().mono + 1000ms);
  h.clock.advance(1ms);
  h.c.expire(h.now());  // before the next check: nothing is looked at
  CHECK(h.fx.persists.empty());
  h.clock.advance(999ms);
  h.c.expire(h.now());
  REQUIRE(h.fx.persists.size() == 1);
  const stored_txn* s = metadata_of(h.fx.persists.front().rec, "tx");
  REQUIRE(s);
  CHECK(s->state == txn_state::prepare_abort);
  CHECK(s->producer_epoch == 1);
  reply_box<std::error_code> zombie;
  h.c.add_partitions(h.now(), "tx", pid, 0, {{"t", 9}}, zombie.fn());
  CHECK(zombie.value() == errc::producer_fenced);
  h.fx.complete_persist(h.now());
  auto mk = h.fx.take_marker();
  CHECK_FALSE(mk.commit);
  CHECK(mk.epoch == 1);
  CHECK(mk.partitions == tp01);
  mk.done(ok, h.now());
  h.fx.complete_persists(h.now());
  CHECK(h.state("tx") == txn_state::complete_abort);
  CHECK(h.state("idle") == txn_state::empty);
  CHECK(h.end("tx", pid, 0, true) == errc::producer_fenced);
  // The producer starts again with InitProducerId.
  auto again = h.init("tx", 5000);
  CHECK(again.producer_epoch == 2);
  (void)q;
}

TEST_CASE("a restart resumes the markers of transactions that were completing", "[engine][txn]") {
  harness h;
  auto a = h.init("commit-me");
  auto b = h.init("abort-me");
  auto c = h.init("open");
  auto d = h.init("done");
  REQUIRE(h.add("commit-me", a.producer_id, 0, {{"t", 0}}) == ok);
  REQUIRE(h.add_group("commit-me", a.producer_id, 0, "g") == ok);
  REQUIRE(h.add("abort-me", b.producer_id, 0, {{"t", 1}}) == ok);
  REQUIRE(h.add("open", c.producer_id, 0, {{"t", 2}}) == ok);
  REQUIRE(h.add("done", d.producer_id, 0, {{"t", 3}}) == ok);
  REQUIRE(h.end("done", d.producer_id, 0, true) == ok);
  h.fx.complete_marker(h.now());
  h.fx.complete_persists(h.now());
  REQUIRE(h.end("commit-me", a.producer_id, 0, true) == ok);
  REQUIRE(h.end("abort-me", b.producer_id, 0, false) == ok);
  REQUIRE(h.fx.markers.size() == 2);  // requested, never completed: the broker stops here

  // Every durable record, or only the restatement retention writes before removing the
  // segments that hold them: the same coordinator after the restart.
  const bool restated = GENERATE(false, true);
  INFO((restated ? "from the restatement" : "from every durable record"));
  harness r;
  for (const auto& rec : restated ? h.c.restatement() : h.fx.durable) r.c.load(rec);
  CHECK(r.fx.markers.empty());  // load() alone does nothing
  r.c.start(r.now());
  REQUIRE(r.fx.markers.size() == 2);
  auto m1 = r.fx.take_marker();
  auto m2 = r.fx.take_marker();
  if (m1.producer_id != a.producer_id) std::swap(m1, m2);
  CHECK(m1.producer_id == a.producer_id);
  CHECK(m1.commit);
  CHECK(m1.partitions == std::vector<topic_partition>{{"t", 0}});
  CHECK(m1.groups == std::vector<std::string>{"g"});
  CHECK(m2.producer_id == b.producer_id);
  CHECK_FALSE(m2.commit);
  CHECK(m2.partitions == std::vector<topic_partition>{{"t", 1}});
  CHECK(r.state("commit-me") == txn_state::prepare_commit);
  CHECK(r.state("open") == txn_state::ongoing);
  CHECK(r.state("done") == txn_state::complete_commit);
  m1.done(ok, r.now());
  m2.done(ok, r.now());
  r.fx.complete_persists(r.now());
  CHECK(r.state("commit-me") == txn_state::complete_commit);
  CHECK(r.state("abort-me") == txn_state::complete_abort);
  // EndTxn retried against the restarted coordinator.
  CHECK(r.end("commit-me", a.producer_id, 0, true) == ok);
  // The open one is still open, with its timeout counting from its start.
  CHECK(r.describe("open").partitions == std::vector<topic_partition>{{"t", 2}});
  r.clock.advance(61s);
  r.c.expire(r.now());
  REQUIRE(r.fx.persists.size() == 1);
  CHECK(metadata_of(r.fx.persists.front().rec, "open")->state == txn_state::prepare_abort);
  // Producer ids continue past the loaded blocks.
  r.fx.settle(r.now());
  auto fresh = r.init(std::nullopt);
  for (int64_t old : {a.producer_id, b.producer_id, c.producer_id, d.producer_id}) CHECK(fresh.producer_id != old);
}

TEST_CASE("DescribeTransactions and ListTransactions", "[engine][txn]") {
  harness h;
  auto a = h.init("a", 10'000);
  auto b = h.init("b", 20'000);
  h.init("c");
  REQUIRE(h.add("a", a.producer_id, 0) == ok);
  h.clock.advance(3s);
  REQUIRE(h.add("b", b.producer_id, 0, {{"x", 0}}) == ok);
  h.clock.advance(2s);

  auto d = h.c.describe({"a", "zzz", "c"});
  REQUIRE(d.size() == 3);
  CHECK(d[0].transactional_id == "a");
  CHECK(d[0].error == ok);
  CHECK(d[0].state == txn_state::ongoing);
  CHECK(d[0].timeout_ms == 10'000);
  CHECK(d[0].producer_id == a.producer_id);
  CHECK(d[0].producer_epoch == 0);
  CHECK(d[0].partitions == tp01);
  CHECK(d[0].start_ms == h.now().wall_ms - 5000);
  CHECK(d[1].transactional_id == "zzz");
  CHECK(d[1].error == errc::transactional_id_not_found);
  CHECK(d[2].state == txn_state::empty);
  CHECK(d[2].start_ms == -1);

  auto ids = [](const std::vector<txn_listing>& l) {
    std::vector<std::string> out;
    for (const auto& t : l) out.push_back(t.transactional_id);
    std::sort(out.begin(), out.end());
    return out;
  };
  using names = std::vector<std::string>;
  CHECK(ids(h.c.list({}, {}, std::nullopt, h.now())) == names{"a", "b", "c"});
  CHECK(ids(h.c.list({txn_state::ongoing}, {}, std::nullopt, h.now())) == names{"a", "b"});
  CHECK(ids(h.c.list({txn_state::empty, txn_state::complete_commit}, {}, std::nullopt, h.now())) == names{"c"});
  CHECK(ids(h.c.list({}, {b.producer_id}, std::nullopt, h.now())) == names{"b"});
  CHECK(ids(h.c.list({txn_state::empty}, {b.producer_id}, std::nullopt, h.now())).empty());
  CHECK(ids(h.c.list({}, {}, 4000ms, h.now())) == names{"a"});
  CHECK(ids(h.c.list({}, {}, 1000ms, h.now())) == names{"a", "b"});
  CHECK(ids(h.c.list({}, {}, 5000ms, h.now())).empty());  // "longer than": 5 s is not
  auto l = h.c.list({}, {a.producer_id}, std::nullopt, h.now());
  REQUIRE(l.size() == 1);
  CHECK(l[0].producer_id == a.producer_id);
  CHECK(l[0].state == txn_state::ongoing);

  auto counts = h.c.count_by_state();
  CHECK(counts[txn_state::ongoing] == 2);
  CHECK(counts[txn_state::empty] == 1);

  CHECK(to_string(txn_state::prepare_commit) == "PrepareCommit");
  CHECK(to_string(txn_state::complete_abort) == "CompleteAbort");
  CHECK(parse_txn_state("ongoing") == txn_state::ongoing);
  CHECK(parse_txn_state("PREPAREABORT") == txn_state::prepare_abort);
  CHECK_FALSE(parse_txn_state("Running"));
}

TEST_CASE("idle transactional ids expire; open transactions do not", "[engine][txn]") {
  auto cfg = test_config();
  cfg.max_timeout = std::chrono::hours(3);
  harness h(cfg);
  h.c.start(h.now());
  auto idle = h.init("idle");
  auto busy = h.init("busy", 2 * 3'600'000);  // open for longer than the expiration, not timed out
  REQUIRE(h.add("busy", busy.producer_id, 0) == ok);
  h.clock.advance(std::chrono::hours(1));
  h.c.expire(h.now());
  CHECK(h.fx.persists.empty());  // exactly the expiration is not past it
  CHECK(h.describe("idle").error == ok);
  h.clock.advance(1s);
  h.c.expire(h.now());
  CHECK(h.describe("idle").error == errc::transactional_id_not_found);
  CHECK(h.state("busy") == txn_state::ongoing);
  REQUIRE(h.fx.persists.size() == 1);
  const auto* tomb = std::get_if<txn_metadata_record>(&h.fx.persists.front().rec);
  REQUIRE(tomb);
  CHECK(tomb->transactional_id == "idle");
  CHECK_FALSE(tomb->value);
  h.fx.settle(h.now());

  // The tombstone survives a restart, and the id starts afresh with a new producer id.
  harness r;
  for (const auto& rec : h.fx.durable) r.c.load(rec);
  r.c.start(r.now());
  CHECK(r.describe("idle").error == errc::transactional_id_not_found);
  CHECK(r.describe("busy").error == ok);
  auto again = r.init("idle");
  CHECK(again.error == ok);
  CHECK(again.producer_epoch == 0);
  CHECK(again.producer_id != idle.producer_id);
  CHECK(again.producer_id != busy.producer_id);
}

// --- records ---

TEST_CASE("transaction records round-trip and damaged ones are refused", "[engine][txn]") {
  stored_txn full;
  full.producer_id = 0x0102030405060708;
  full.producer_epoch = 32000;
  full.timeout_ms = 900'000;
  full.state = txn_state::prepare_commit;
  full.partitions = {{"orders", 0}, {"orders", 7}, {std::string(300, 'p'), 2'000'000'000}};
  full.groups = {"g1", "group-\xc3\xa9"};
  full.start_ms = 1'700'000'000'001;
  full.last_update_ms = 1'700'000'000'002;
  const std::vector<txn_record> records{
      producer_id_block_record{0},
      producer_id_block_record{0x7fff'ffff'ffff'0000},
      txn_metadata_record{"tx-1", full},
      txn_metadata_record{"tx-2", stored_txn{}},
      txn_metadata_record{"gone", std::nullopt},
  };
  for (auto st : {txn_state::empty, txn_state::ongoing, txn_state::prepare_abort, txn_state::complete_commit,
                  txn_state::complete_abort}) {
    stored_txn t = full;
    t.state = st;
    auto [type, bytes] = txn_records::encode(txn_metadata_record{"s", t});
    auto back = txn_records::decode(type, bytes);
    REQUIRE(back);
    CHECK(std::get<txn_metadata_record>(*back).value->state == st);
  }
  for (const auto& rec : records) {
    auto [type, bytes] = txn_records::encode(rec);
    CHECK(type == (std::holds_alternative<producer_id_block_record>(rec) ? txn_records::type_producer_ids
                                                                         : txn_records::type_txn_metadata));
    auto back = txn_records::decode(type, bytes);
    REQUIRE(back);
    CHECK(*back == rec);

    // Every truncation, a trailing byte, another version, and the other type are refused.
    for (size_t n = 0; n < bytes.size(); ++n)
      CHECK(txn_records::decode(type, std::span<const std::byte>(bytes).first(n)).error() == errc::corrupt_message);
    auto longer = bytes;
    longer.push_back(std::byte{0});
    CHECK(txn_records::decode(type, longer).error() == errc::corrupt_message);
    auto v2 = bytes;
    v2[0] = std::byte{2};
    CHECK(txn_records::decode(type, v2).error() == errc::corrupt_message);
    CHECK(txn_records::decode(99, bytes).error() == errc::corrupt_message);
  }
  // A state this version does not know.
  auto [type, bytes] = txn_records::encode(txn_metadata_record{"s", full});
  const size_t state_at = 1 + 2 + 1 + 1 + 8 + 2 + 4;  // version, str16 "s", present, pid, epoch, timeout
  REQUIRE(std::to_integer<int>(bytes[state_at]) == static_cast<int>(txn_state::prepare_commit));
  bytes[state_at] = std::byte{6};
  CHECK(txn_records::decode(type, bytes).error() == errc::corrupt_message);
}
