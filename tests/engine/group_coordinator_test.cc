// The group coordinator on a simulated clock: clients' request sequences, every answer checked,
// timers fired at their deadlines, durability through a store the test completes by hand.
#include <catch2/catch.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/consumer_protocol.h"
#include "engine/errc.h"
#include "engine/group_coordinator.h"
#include "engine/group_records.h"
#include "engine/logger.h"

using namespace engine;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

namespace {

using bytes = engine::blob;

std::error_code E(errc e) { return make_error_code(e); }
const std::error_code ok{};

bytes to_bytes(const std::string& s) {
  bytes b(s.size());
  for (size_t i = 0; i < s.size(); ++i) b[i] = std::byte(static_cast<unsigned char>(s[i]));
  return b;
}

void put16(bytes& b, uint16_t v) {
  b.push_back(std::byte(v >> 8));
  b.push_back(std::byte(v & 0xff));
}
void put32(bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::byte((v >> s) & 0xff));
}

// Consumer protocol subscription metadata as clients send it: version int16, topics (int32 count,
// int16-length names), user data (int32 length, -1 = null).
bytes subscription(const std::vector<std::string>& topics, int16_t version = 1) {
  bytes b;
  put16(b, static_cast<uint16_t>(version));
  put32(b, static_cast<uint32_t>(topics.size()));
  for (const auto& t : topics) {
    put16(b, static_cast<uint16_t>(t.size()));
    for (char c : t) b.push_back(std::byte(static_cast<unsigned char>(c)));
  }
  put32(b, 0xffffffffu);
  return b;
}

// A steady time point and wall-clock milliseconds that always advance together.
struct sim_clock {
  std::chrono::steady_clock::time_point mono{std::chrono::hours(1000)};
  int64_t wall_ms = 1'700'000'000'000;
  coordinator_time now() const { return {mono, wall_ms}; }
  void set(std::chrono::steady_clock::time_point t) {
    REQUIRE(t >= mono);
    wall_ms += std::chrono::duration_cast<ms>(t - mono).count();
    mono = t;
  }
};

// Queues what the coordinator persists; the test completes records, oldest first, ok or failed.
class fake_store : public group_store {
 public:
  struct entry {
    group_record rec;
    done_fn done;
  };
  void persist(group_record r, done_fn done) override { queue.push_back({std::move(r), std::move(done)}); }
  // Completes the oldest queued record. Completions may persist more; those queue behind.
  void complete(std::error_code ec, const coordinator_time& t) {
    REQUIRE(!queue.empty());
    entry e = std::move(queue.front());
    queue.pop_front();
    if (!ec) durable.push_back(e.rec);
    e.done(ec, t);
  }
  void complete_all(const coordinator_time& t) {
    while (!queue.empty()) complete({}, t);
  }
  std::deque<entry> queue;
  std::vector<group_record> durable;  // what completed ok, in log order
};

template <class T>
struct answer {
  std::vector<T> got;
  bool answered() const { return !got.empty(); }
  const T& operator*() const {
    REQUIRE(got.size() == 1);
    return got.front();
  }
  const T* operator->() const { return &**this; }
};
// A reply callback's outcome: s->answered(), and *s is the one answer.
template <class T>
class slot {
 public:
  slot() : a_(std::make_shared<answer<T>>()) {}
  answer<T>* operator->() const { return a_.get(); }
  const T& operator*() const { return **a_; }
  std::shared_ptr<answer<T>> a_;
};

template <class T>
std::function<void(T)> recorder(const slot<T>& sl) {
  return [s = sl.a_](T r) {
    CHECK(s->got.empty());  // every reply is answered exactly once
    s->got.push_back(std::move(r));
  };
}

group_config test_config() {
  group_config c;
  c.initial_rebalance_delay = 3000ms;
  c.min_session_timeout = 6000ms;
  c.max_session_timeout = 1'800'000ms;
  c.offsets_retention = std::chrono::hours(1);
  c.offsets_retention_check_interval = std::chrono::minutes(10);
  c.max_metadata_bytes = 4096;
  return c;
}

join_request jr(const std::string& group, const std::string& member = "", const std::string& client = "client",
                const std::vector<std::string>& topics = {"t"}) {
  join_request r;
  r.group_id = group;
  r.member_id = member;
  r.protocol_type = "consumer";
  r.protocols = {{"range", subscription(topics)}};
  r.session_timeout = 10s;
  r.rebalance_timeout = 30s;
  r.client_id = client;
  r.client_host = "/10.0.0.1";
  r.require_known_member_id = true;
  return r;
}

sync_request sr(const std::string& group, const std::string& member, int32_t generation,
                std::vector<std::pair<std::string, bytes>> assignments = {}) {
  sync_request r;
  r.group_id = group;
  r.member_id = member;
  r.generation = generation;
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  r.assignments = std::move(assignments);
  return r;
}

committed_offset off(int64_t o, int32_t epoch = -1, std::optional<std::string> md = std::nullopt) {
  committed_offset c;
  c.offset = o;
  c.leader_epoch = epoch;
  c.metadata = std::move(md);
  return c;
}

commit_request cr(const std::string& group, const std::string& member, int32_t generation,
                  std::vector<std::pair<topic_partition, committed_offset>> offsets) {
  commit_request r;
  r.group_id = group;
  r.member_id = member;
  r.generation = generation;
  r.offsets = std::move(offsets);
  return r;
}

// The coordinator logs every rebalance at info; these tests make thousands.
struct quiet_log {
  spdlog::level::level_enum was = engine::log().level();
  quiet_log() { engine::log().set_level(spdlog::level::err); }
  ~quiet_log() { engine::log().set_level(was); }
  quiet_log(const quiet_log&) = delete;
  quiet_log& operator=(const quiet_log&) = delete;
};

struct harness {
  quiet_log quiet;
  group_config cfg;
  fake_store store;
  sim_clock clock;
  const std::chrono::steady_clock::time_point origin = clock.mono;
  int ids = 0;
  std::unique_ptr<group_coordinator> gc;

  explicit harness(group_config c = test_config(), bool start_now = true) : cfg(c) {
    gc = std::make_unique<group_coordinator>(cfg, store, [this] { return std::to_string(++ids); });
    if (start_now) start();
  }
  void start(std::function<bool(const std::string&)> exists = [](const std::string&) { return true; }) {
    gc->start(now(), exists);
  }
  coordinator_time now() const { return clock.now(); }

  // Sleeps like the server's timer loop: wakes at every deadline up to `d` from now.
  void advance(ms d) {
    const auto target = clock.mono + d;
    while (auto next = gc->next_deadline()) {
      if (*next > target) break;
      if (*next > clock.mono) clock.set(*next);
      gc->expire(now());
    }
    clock.set(target);
    gc->expire(now());
  }
  ms elapsed() const { return std::chrono::duration_cast<ms>(clock.mono - origin); }
  void advance_to(ms t) { advance(t - elapsed()); }
  // Advances to the next deadline (REQUIRES one).
  void step() {
    auto next = gc->next_deadline();
    REQUIRE(next);
    advance(std::chrono::duration_cast<ms>(*next - clock.mono));
  }
  void complete(std::error_code ec = {}) { store.complete(ec, now()); }
  void flush() { store.complete_all(now()); }

  slot<join_result> join(join_request r) {
    slot<join_result> s;
    gc->join(now(), std::move(r), recorder(s));
    return s;
  }
  slot<sync_result> sync(sync_request r) {
    slot<sync_result> s;
    gc->sync(now(), std::move(r), recorder(s));
    return s;
  }
  std::error_code heartbeat(const std::string& group, const std::string& member, int32_t generation,
                            std::optional<std::string> instance = std::nullopt) {
    return gc->heartbeat(now(), {group, generation, member, std::move(instance)});
  }
  slot<commit_result> commit(commit_request r) {
    slot<commit_result> s;
    gc->commit(now(), std::move(r), recorder(s));
    return s;
  }
  fetched_offset fetch(const std::string& group, const topic_partition& tp, bool require_stable = false) {
    auto r = gc->fetch_offsets(group, std::vector<topic_partition>{tp}, require_stable);
    REQUIRE(r.size() == 1);
    return r[0];
  }
  group_state state(const std::string& group) const { return gc->describe(group).state; }
  size_t members(const std::string& group) const { return gc->describe(group).members.size(); }

  // A v4+ dynamic join: MEMBER_ID_REQUIRED, then the rejoin with that id (usually parked).
  std::pair<std::string, slot<join_result>> join_v4(join_request r) {
    auto first = join(r);
    REQUIRE(first->answered());
    REQUIRE((*first).error == E(errc::member_id_required));
    REQUIRE(!(*first).member_id.empty());
    r.member_id = (*first).member_id;
    return {r.member_id, join(std::move(r))};
  }
  // Fires timers until every slot is answered.
  template <class T>
  void settle(const std::vector<slot<T>>& slots) {
    for (int i = 0; i < 50; ++i) {
      bool all = true;
      for (const auto& s : slots) all = all && s->answered();
      if (all) return;
      step();
    }
    FAIL("the join phase did not end");
  }
};

struct member_join {
  std::string id;
  join_result result;
};

// n dynamic v4 members ("c0", "c1", ...) join at the same instant; the join phase is waited out.
std::vector<member_join> join_together(harness& h, const std::string& group, int n,
                                       const std::vector<std::string>& topics = {"t"}) {
  std::vector<join_request> reqs;
  for (int i = 0; i < n; ++i) {
    auto r = jr(group, "", "c" + std::to_string(i), topics);
    auto first = h.join(r);
    REQUIRE((*first).error == E(errc::member_id_required));
    r.member_id = (*first).member_id;
    reqs.push_back(r);
  }
  std::vector<slot<join_result>> slots;
  for (auto& r : reqs) slots.push_back(h.join(r));
  h.settle(slots);
  std::vector<member_join> out;
  for (size_t i = 0; i < reqs.size(); ++i) {
    REQUIRE((*slots[i]).error == ok);
    out.push_back({reqs[i].member_id, *slots[i]});
  }
  return out;
}

bytes assignment_of(const std::string& member) { return to_bytes("assign:" + member); }

// Followers sync first (parked), then the leader with an assignment for everyone; the store
// completes and everyone has their assignment.
void sync_all(harness& h, const std::string& group, const std::vector<member_join>& joined) {
  std::vector<slot<sync_result>> slots;
  const std::string leader = joined.front().result.leader;
  const int32_t gen = joined.front().result.generation;
  for (const auto& m : joined)
    if (m.id != leader) slots.push_back(h.sync(sr(group, m.id, gen)));
  std::vector<std::pair<std::string, bytes>> a;
  for (const auto& m : joined) a.emplace_back(m.id, assignment_of(m.id));
  slots.push_back(h.sync(sr(group, leader, gen, a)));
  for (const auto& s : slots) REQUIRE_FALSE(s->answered());
  h.flush();
  for (const auto& s : slots) {
    REQUIRE(s->answered());
    REQUIRE((*s).error == ok);
  }
  REQUIRE(h.state(group) == group_state::stable);
}

struct formed {
  std::vector<std::string> ids;  // in join order; ids[0] leads
  std::string leader;
  int32_t generation = 0;
};

formed form_group(harness& h, const std::string& group, int n, const std::vector<std::string>& topics = {"t"}) {
  auto joined = join_together(h, group, n, topics);
  sync_all(h, group, joined);
  formed f;
  for (const auto& m : joined) f.ids.push_back(m.id);
  f.leader = joined.front().result.leader;
  f.generation = joined.front().result.generation;
  return f;
}

}  // namespace

// --- JoinGroup ---

TEST_CASE("JoinGroup v4: MEMBER_ID_REQUIRED with a generated id, then the join phase", "[engine][group]") {
  harness h;
  auto first = h.join(jr("g"));
  REQUIRE(first->answered());
  CHECK((*first).error == E(errc::member_id_required));
  CHECK((*first).member_id == "client-1");  // client id + "-" + the generated part
  CHECK((*first).generation == -1);
  CHECK(h.state("g") == group_state::empty);  // a pending member is not a member yet
  CHECK(h.members("g") == 0);

  auto s = h.join(jr("g", "client-1"));
  CHECK_FALSE(s->answered());
  CHECK(h.state("g") == group_state::preparing_rebalance);
  h.advance(2999ms);
  CHECK_FALSE(s->answered());
  h.advance(1ms);
  REQUIRE(s->answered());
  const auto& r = *s;
  CHECK(r.error == ok);
  CHECK(r.generation == 1);
  CHECK(r.member_id == "client-1");
  CHECK(r.leader == "client-1");
  CHECK(r.protocol_type == std::optional<std::string>("consumer"));
  CHECK(r.protocol_name == std::optional<std::string>("range"));
  CHECK_FALSE(r.skip_assignment);
  REQUIRE(r.members.size() == 1);
  CHECK(r.members[0].member_id == "client-1");
  CHECK(r.members[0].metadata == subscription({"t"}));
  CHECK(h.state("g") == group_state::completing_rebalance);
}

TEST_CASE("a pending member holds up the join phase until it rejoins or its session ends", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 1);
  auto late = h.join(jr("g", "", "late"));
  REQUIRE((*late).error == E(errc::member_id_required));
  CHECK(h.state("g") == group_state::stable);  // MEMBER_ID_REQUIRED does not rebalance by itself

  auto a = h.join(jr("g", f.leader, "c0"));  // the leader's rejoin starts a rebalance
  CHECK(h.state("g") == group_state::preparing_rebalance);
  CHECK_FALSE(a->answered());

  SECTION("it never rejoins: it expires after its session timeout (10 s)") {
    h.advance(9999ms);
    CHECK_FALSE(a->answered());
    h.advance(1ms);
    REQUIRE(a->answered());
    CHECK((*a).error == ok);
    CHECK((*a).generation == 2);
    CHECK((*a).members.size() == 1);
    // Its id means nothing now.
    auto again = h.join(jr("g", (*late).member_id, "late"));
    REQUIRE(again->answered());
    CHECK((*again).error == E(errc::unknown_member_id));
  }
  SECTION("it rejoins: the join phase ends at once") {
    h.advance(5000ms);
    CHECK_FALSE(a->answered());
    auto b = h.join(jr("g", (*late).member_id, "late"));
    REQUIRE(a->answered());
    REQUIRE(b->answered());
    CHECK((*a).generation == 2);
    CHECK((*b).generation == 2);
    CHECK((*a).leader == f.leader);
    CHECK((*a).members.size() == 2);
    CHECK((*b).members.empty());
  }
}

TEST_CASE("JoinGroup v0-3 (require_known_member_id=false) joins directly", "[engine][group]") {
  harness h;
  auto r = jr("g");
  r.require_known_member_id = false;
  auto s = h.join(r);
  CHECK_FALSE(s->answered());
  CHECK(h.members("g") == 1);
  h.advance(3000ms);
  REQUIRE(s->answered());
  CHECK((*s).error == ok);
  CHECK((*s).member_id == "client-1");
  CHECK((*s).generation == 1);
  CHECK((*s).leader == "client-1");
}

TEST_CASE("JoinGroup refusals", "[engine][group]") {
  harness h;
  SECTION("INVALID_SESSION_TIMEOUT below the minimum and above the maximum") {
    auto r = jr("g");
    r.session_timeout = 5999ms;
    auto low = h.join(r);
    REQUIRE(low->answered());
    CHECK((*low).error == E(errc::invalid_session_timeout));
    r.session_timeout = 1'800'001ms;
    auto high = h.join(r);
    REQUIRE(high->answered());
    CHECK((*high).error == E(errc::invalid_session_timeout));
    CHECK(h.gc->list({}).empty());
    r.session_timeout = 6000ms;  // the bounds themselves are fine
    CHECK((*h.join(r)).error == E(errc::member_id_required));
  }
  SECTION("INVALID_GROUP_ID for an empty group id") {
    auto s = h.join(jr(""));
    REQUIRE(s->answered());
    CHECK((*s).error == E(errc::invalid_group_id));
  }
  SECTION("UNKNOWN_MEMBER_ID for a member id in an unknown group") {
    auto s = h.join(jr("nope", "client-77"));
    REQUIRE(s->answered());
    CHECK((*s).error == E(errc::unknown_member_id));
    CHECK((*s).member_id == "client-77");
    CHECK(h.gc->list({}).empty());
  }
  SECTION("INCONSISTENT_GROUP_PROTOCOL for another protocol type") {
    auto f = form_group(h, "g", 1);
    auto r = jr("g", "", "other");
    r.protocol_type = "connect";
    auto s = h.join(r);
    REQUIRE(s->answered());
    CHECK((*s).error == E(errc::inconsistent_group_protocol));
    r.member_id = f.leader;  // an existing member too
    auto t = h.join(r);
    REQUIRE(t->answered());
    CHECK((*t).error == E(errc::inconsistent_group_protocol));
    CHECK(h.state("g") == group_state::stable);
  }
  SECTION("INCONSISTENT_GROUP_PROTOCOL when no protocol is common to every member") {
    form_group(h, "g", 1);
    auto r = jr("g", "", "other");
    r.protocols = {{"roundrobin", subscription({"t"})}};
    auto s = h.join(r);
    REQUIRE(s->answered());
    CHECK((*s).error == E(errc::inconsistent_group_protocol));
    CHECK(h.state("g") == group_state::stable);
  }
  SECTION("a new group needs a protocol type and protocols, and is not kept when refused") {
    auto r = jr("g");
    r.protocol_type = "";
    CHECK((*h.join(r)).error == E(errc::inconsistent_group_protocol));
    r = jr("g");
    r.protocols.clear();
    CHECK((*h.join(r)).error == E(errc::inconsistent_group_protocol));
    CHECK(h.gc->list({}).empty());
    CHECK(h.state("g") == group_state::dead);
  }
  SECTION("GROUP_MAX_SIZE_REACHED") {
    group_config c = test_config();
    c.max_group_size = 2;
    harness small(c);
    form_group(small, "g", 2);
    auto s = small.join(jr("g", "", "third"));
    REQUIRE(s->answered());
    CHECK((*s).error == E(errc::group_max_size_reached));
    CHECK(small.members("g") == 2);
  }
}

TEST_CASE("the protocol is chosen by vote among those every member supports", "[engine][group]") {
  harness h;
  auto join3 = [&](std::vector<std::vector<std::string>> prefs) {
    std::vector<slot<join_result>> slots;
    for (size_t i = 0; i < prefs.size(); ++i) {
      auto r = jr("g", "", "m" + std::to_string(i));
      r.require_known_member_id = false;
      r.protocols.clear();
      for (const auto& p : prefs[i]) r.protocols.push_back({p, to_bytes(p + "@m" + std::to_string(i))});
      slots.push_back(h.join(r));
    }
    h.settle(slots);
    return slots;
  };
  SECTION("range: two first choices against one") {
    // "x" is not supported by everyone, so m0 votes for its next choice.
    auto s = join3({{"x", "range", "roundrobin"}, {"range", "roundrobin"}, {"roundrobin", "range"}});
    for (const auto& a : s) {
      CHECK((*a).error == ok);
      CHECK((*a).protocol_name == std::optional<std::string>("range"));
    }
    const auto& leader = *s[0];
    REQUIRE(leader.members.size() == 3);
    for (const auto& m : leader.members) {
      const std::string who = m.member_id.substr(0, 2);
      CHECK(m.metadata == to_bytes("range@" + who));  // the chosen protocol's metadata
    }
  }
  SECTION("roundrobin") {
    auto s = join3({{"roundrobin", "range"}, {"roundrobin", "range"}, {"range", "roundrobin"}});
    for (const auto& a : s) CHECK((*a).protocol_name == std::optional<std::string>("roundrobin"));
  }
}

TEST_CASE("the initial rebalance delay is re-armed while members arrive, within the rebalance timeout",
          "[engine][group]") {
  harness h;
  std::vector<slot<join_result>> slots;
  auto arrive = [&](int i) {
    auto r = jr("g", "", "m" + std::to_string(i));
    r.require_known_member_id = false;
    r.rebalance_timeout = 10s;
    slots.push_back(h.join(r));
  };
  auto none_answered = [&] {
    for (const auto& s : slots)
      if (s->answered()) return false;
    return true;
  };
  arrive(0);
  SECTION("each arrival buys another delay") {
    h.advance(2000ms);
    arrive(1);
    h.advance(999ms);  // t=2999
    CHECK(none_answered());
    h.advance(1ms);  // t=3000: someone arrived, wait again
    CHECK(none_answered());
    h.advance(2000ms);  // t=5000
    arrive(2);
    h.advance(999ms);
    CHECK(none_answered());
    h.advance(1ms);  // t=6000: again
    CHECK(none_answered());
    h.advance(2999ms);  // t=8999
    CHECK(none_answered());
    h.advance(1ms);  // t=9000: nobody came: one generation for all three
    for (const auto& s : slots) {
      REQUIRE(s->answered());
      CHECK((*s).generation == 1);
      CHECK((*s).leader == "m0-1");
    }
  }
  SECTION("but no longer than the rebalance timeout") {
    for (int t : {2000, 5000, 8000, 9500}) {
      h.advance_to(ms(t));
      arrive(static_cast<int>(slots.size()));
    }
    h.advance(499ms);  // t=9999
    CHECK(none_answered());
    h.advance(1ms);  // t=10000: the rebalance timeout caps the delay
    REQUIRE(slots.size() == 5);
    for (const auto& s : slots) {
      REQUIRE(s->answered());
      CHECK((*s).generation == 1);
    }
  }
}

TEST_CASE("members starting together get one generation; only the leader's answer lists members", "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 3);
  const std::string leader = joined[0].result.leader;
  CHECK(leader == joined[0].id);
  for (const auto& m : joined) {
    CHECK(m.result.generation == 1);
    CHECK(m.result.leader == leader);
    CHECK(m.result.member_id == m.id);
    if (m.id == leader) {
      REQUIRE(m.result.members.size() == 3);
      for (const auto& jm : m.result.members) CHECK(jm.metadata == subscription({"t"}));
    } else {
      CHECK(m.result.members.empty());
    }
  }
  CHECK(h.gc->stats().rebalances == 1);
}

TEST_CASE("a new member rebalances a Stable group", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 2);
  const std::string a = f.ids[0], b = f.ids[1];
  auto rc = jr("g", "", "newcomer");
  rc.rebalance_timeout = 45s;  // the largest rebalance timeout bounds the join phase
  auto [c, cs] = h.join_v4(rc);
  CHECK(h.state("g") == group_state::preparing_rebalance);
  CHECK_FALSE(cs->answered());
  auto as = h.join(jr("g", a, "c0"));
  CHECK_FALSE(as->answered());

  SECTION("answered when every known member rejoined") {
    auto bs = h.join(jr("g", b, "c1"));
    for (const auto& s : {as, bs, cs}) {
      REQUIRE(s->answered());
      CHECK((*s).error == ok);
      CHECK((*s).generation == 2);
      CHECK((*s).leader == a);
    }
    CHECK((*as).members.size() == 3);
    CHECK((*bs).members.empty());
    CHECK((*cs).members.empty());
  }
  SECTION("or at the largest rebalance timeout, without the dynamic members that did not rejoin") {
    // b stays alive by heartbeating (which tells it to rejoin) but never rejoins.
    for (int i = 0; i < 8; ++i) {
      CHECK(h.heartbeat("g", b, 1) == E(errc::rebalance_in_progress));
      h.advance(5000ms);  // up to t=40000
    }
    CHECK(h.heartbeat("g", b, 1) == E(errc::rebalance_in_progress));
    h.advance(4999ms);
    CHECK_FALSE(as->answered());
    h.advance(1ms);  // t=45000
    REQUIRE(as->answered());
    REQUIRE(cs->answered());
    CHECK((*as).generation == 2);
    CHECK((*cs).generation == 2);
    CHECK((*as).members.size() == 2);
    CHECK(h.members("g") == 2);
    CHECK(h.heartbeat("g", b, 1) == E(errc::unknown_member_id));
  }
}

TEST_CASE("a member re-sending JoinGroup while one is parked gets the older one answered", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 2);
  auto first = h.join(jr("g", f.ids[0], "c0"));
  CHECK_FALSE(first->answered());
  auto second = h.join(jr("g", f.ids[0], "c0"));
  REQUIRE(first->answered());
  CHECK((*first).error == E(errc::rebalance_in_progress));
  CHECK_FALSE(second->answered());
  auto b = h.join(jr("g", f.ids[1], "c1"));
  REQUIRE(second->answered());
  CHECK((*second).generation == 2);
  CHECK((*b).generation == 2);
}

TEST_CASE("a member rejoining with the same metadata during CompletingRebalance gets the same answer",
          "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 2);
  auto again = h.join(jr("g", joined[1].id, "c1"));
  REQUIRE(again->answered());
  CHECK((*again).error == ok);
  CHECK((*again).generation == 1);
  CHECK((*again).members.empty());
  auto leader = h.join(jr("g", joined[0].id, "c0"));
  REQUIRE(leader->answered());
  CHECK((*leader).members.size() == 2);
  CHECK(h.state("g") == group_state::completing_rebalance);
  // A follower in Stable with unchanged metadata: the current generation, no rebalance.
  sync_all(h, "g", joined);
  auto follower = h.join(jr("g", joined[1].id, "c1"));
  REQUIRE(follower->answered());
  CHECK((*follower).generation == 1);
  CHECK(h.state("g") == group_state::stable);
  // Changed metadata rebalances.
  auto changed = h.join(jr("g", joined[1].id, "c1", {"t", "u"}));
  CHECK_FALSE(changed->answered());
  CHECK(h.state("g") == group_state::preparing_rebalance);
}

// --- SyncGroup ---

TEST_CASE("SyncGroup: followers wait for the leader's assignment, which is stored before anyone sees it",
          "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 3);
  const std::string a = joined[0].id, b = joined[1].id, c = joined[2].id;
  REQUIRE(joined[0].result.leader == a);
  auto bs = h.sync(sr("g", b, 1));
  CHECK_FALSE(bs->answered());
  CHECK(h.store.queue.empty());
  // The leader leaves c out and names a stranger, which is ignored.
  auto as = h.sync(sr("g", a, 1, {{a, to_bytes("A")}, {b, to_bytes("B")}, {"stranger", to_bytes("S")}}));
  CHECK_FALSE(as->answered());
  CHECK_FALSE(bs->answered());
  REQUIRE(h.store.queue.size() == 1);
  {
    const auto* rec = std::get_if<group_metadata_record>(&h.store.queue.front().rec);
    REQUIRE(rec);
    CHECK(rec->group_id == "g");
    REQUIRE(rec->value);
    CHECK(rec->value->generation == 1);
    CHECK(rec->value->protocol_type == "consumer");
    CHECK(rec->value->protocol_name == std::optional<std::string>("range"));
    CHECK(rec->value->leader == std::optional<std::string>(a));
    REQUIRE(rec->value->members.size() == 3);
    for (const auto& m : rec->value->members) {
      CHECK(m.subscription == subscription({"t"}));
      CHECK(m.session_timeout_ms == 10000);
      CHECK(m.rebalance_timeout_ms == 30000);
      CHECK(m.client_host == "/10.0.0.1");
      if (m.member_id == a) CHECK(m.assignment == to_bytes("A"));
      if (m.member_id == b) CHECK(m.assignment == to_bytes("B"));
      if (m.member_id == c) CHECK(m.assignment.empty());
    }
  }
  CHECK(h.state("g") == group_state::completing_rebalance);
  h.complete();
  REQUIRE(as->answered());
  REQUIRE(bs->answered());
  CHECK((*as).error == ok);
  CHECK((*as).assignment == to_bytes("A"));
  CHECK((*as).protocol_type == std::optional<std::string>("consumer"));
  CHECK((*as).protocol_name == std::optional<std::string>("range"));
  CHECK((*bs).assignment == to_bytes("B"));
  CHECK(h.state("g") == group_state::stable);
  // c syncs late (Stable): the empty assignment the leader left it.
  auto cs = h.sync(sr("g", c, 1));
  REQUIRE(cs->answered());
  CHECK((*cs).error == ok);
  CHECK((*cs).assignment.empty());
  // Stable answers the stored assignment again.
  auto again = h.sync(sr("g", b, 1));
  REQUIRE(again->answered());
  CHECK((*again).assignment == to_bytes("B"));
  auto d = h.gc->describe("g");
  CHECK(d.state == group_state::stable);
  for (const auto& m : d.members)
    if (m.member_id == a) CHECK(m.assignment == to_bytes("A"));
}

TEST_CASE("SyncGroup refusals", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 2);
  const std::string a = f.ids[0], b = f.ids[1];
  auto one = [&](sync_request r) {
    auto s = h.sync(std::move(r));
    REQUIRE(s->answered());
    return (*s).error;
  };
  CHECK(one(sr("", a, 1)) == E(errc::invalid_group_id));
  CHECK(one(sr("nope", a, 1)) == E(errc::unknown_member_id));
  CHECK(one(sr("g", "who-9", 1)) == E(errc::unknown_member_id));
  CHECK(one(sr("g", b, 2)) == E(errc::illegal_generation));
  CHECK(one(sr("g", b, 0)) == E(errc::illegal_generation));
  auto wrong_name = sr("g", b, 1);
  wrong_name.protocol_name = "roundrobin";
  CHECK(one(wrong_name) == E(errc::inconsistent_group_protocol));
  auto wrong_type = sr("g", b, 1);
  wrong_type.protocol_type = "connect";
  CHECK(one(wrong_type) == E(errc::inconsistent_group_protocol));
  auto unnamed = sr("g", b, 1);  // v0-4 send neither
  unnamed.protocol_type.reset();
  unnamed.protocol_name.reset();
  CHECK(one(unnamed) == ok);
  // During PreparingRebalance.
  auto rejoin = h.join(jr("g", a, "c0"));
  CHECK(h.state("g") == group_state::preparing_rebalance);
  CHECK(one(sr("g", b, 1)) == E(errc::rebalance_in_progress));
}

TEST_CASE("SyncGroup: a member re-sending SyncGroup gets the older one answered", "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 2);
  auto first = h.sync(sr("g", joined[1].id, 1));
  auto second = h.sync(sr("g", joined[1].id, 1));
  REQUIRE(first->answered());
  CHECK((*first).error == E(errc::rebalance_in_progress));
  CHECK_FALSE(second->answered());
  auto lead = h.sync(sr("g", joined[0].id, 1, {{joined[1].id, to_bytes("B")}}));
  h.flush();
  REQUIRE(second->answered());
  CHECK((*second).assignment == to_bytes("B"));
  REQUIRE(lead->answered());
  CHECK((*lead).assignment.empty());
}

TEST_CASE("SyncGroup: a store failure answers the syncs with the error and starts a rebalance", "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 2);
  auto bs = h.sync(sr("g", joined[1].id, 1));
  auto as = h.sync(sr("g", joined[0].id, 1, {{joined[0].id, to_bytes("A")}, {joined[1].id, to_bytes("B")}}));
  h.complete(E(errc::storage_error));
  REQUIRE(as->answered());
  REQUIRE(bs->answered());
  CHECK((*as).error == E(errc::storage_error));
  CHECK((*bs).error == E(errc::storage_error));
  CHECK((*as).assignment.empty());
  CHECK(h.state("g") == group_state::preparing_rebalance);
  CHECK(h.heartbeat("g", joined[1].id, 1) == E(errc::rebalance_in_progress));
  // They rejoin and the next generation goes through.
  auto ra = h.join(jr("g", joined[0].id, "c0"));
  auto rb = h.join(jr("g", joined[1].id, "c1"));
  REQUIRE(ra->answered());
  REQUIRE(rb->answered());
  CHECK((*ra).generation == 2);
  CHECK(h.store.durable.empty());
}

TEST_CASE("SyncGroup: members that never sync within the rebalance timeout are removed", "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 2);  // sync deadline: 30 s from now
  const std::string a = joined[0].id, b = joined[1].id;
  auto as = h.sync(sr("g", a, 1, {{a, to_bytes("A")}, {b, to_bytes("B")}}));
  h.flush();
  REQUIRE(as->answered());
  CHECK(h.state("g") == group_state::stable);
  // b heartbeats (so its session does not end) but never sends SyncGroup.
  for (int i = 0; i < 5; ++i) {
    CHECK(h.heartbeat("g", a, 1) == ok);
    CHECK(h.heartbeat("g", b, 1) == ok);
    h.advance(5000ms);  // t=25000
  }
  CHECK(h.heartbeat("g", a, 1) == ok);
  CHECK(h.heartbeat("g", b, 1) == ok);
  h.advance(4999ms);
  CHECK(h.members("g") == 2);
  CHECK(h.state("g") == group_state::stable);
  h.advance(1ms);  // t=30000
  CHECK(h.members("g") == 1);
  CHECK(h.heartbeat("g", b, 1) == E(errc::unknown_member_id));
  // a was alone, so its rejoin finishes the rebalance; it started from Stable: no initial delay.
  CHECK(h.state("g") == group_state::preparing_rebalance);
  CHECK(h.heartbeat("g", a, 1) == E(errc::rebalance_in_progress));
  auto ra = h.join(jr("g", a, "c0"));
  REQUIRE(ra->answered());
  CHECK((*ra).generation == 2);
}

TEST_CASE("SyncGroup: the leader never syncing removes it and answers nobody wrongly", "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 2);
  auto bs = h.sync(sr("g", joined[1].id, 1));
  // The leader heartbeats (its session does not end) but sends no SyncGroup.
  for (int i = 0; i < 6; ++i) {
    CHECK(h.heartbeat("g", joined[0].id, 1) == ok);
    h.advance(i < 5 ? 5000ms : 4999ms);  // t=29999
  }
  CHECK_FALSE(bs->answered());
  h.advance(1ms);
  // The leader is removed; b's parked sync is answered so that it rejoins.
  REQUIRE(bs->answered());
  CHECK((*bs).error == E(errc::rebalance_in_progress));
  CHECK(h.members("g") == 1);
  CHECK(h.heartbeat("g", joined[0].id, 1) == E(errc::unknown_member_id));
}

// --- Heartbeat ---

TEST_CASE("Heartbeat answers", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 2);
  CHECK(h.heartbeat("g", f.ids[1], 1) == ok);
  CHECK(h.heartbeat("g", f.ids[1], 2) == E(errc::illegal_generation));
  CHECK(h.heartbeat("g", f.ids[1], 0) == E(errc::illegal_generation));
  CHECK(h.heartbeat("g", "who-9", 1) == E(errc::unknown_member_id));
  CHECK(h.heartbeat("nope", f.ids[1], 1) == E(errc::unknown_member_id));
  CHECK(h.heartbeat("", f.ids[1], 1) == E(errc::invalid_group_id));
  // CompletingRebalance: heartbeats are fine.
  harness h2;
  auto joined = join_together(h2, "g", 1);
  CHECK(h2.heartbeat("g", joined[0].id, 1) == ok);
}

TEST_CASE("Heartbeat during PreparingRebalance says REBALANCE_IN_PROGRESS and keeps the member alive",
          "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 2);
  const std::string a = f.ids[0], b = f.ids[1];
  auto as = h.join(jr("g", a, "c0"));
  for (int i = 0; i < 5; ++i) {
    CHECK(h.heartbeat("g", b, 1) == E(errc::rebalance_in_progress));
    h.advance(5800ms);  // each time within b's 10 s session; 29 s in total
  }
  CHECK(h.members("g") == 2);
  CHECK_FALSE(as->answered());
  auto bs = h.join(jr("g", b, "c1"));
  REQUIRE(as->answered());
  REQUIRE(bs->answered());
  CHECK((*as).generation == 2);
  CHECK((*as).members.size() == 2);
}

TEST_CASE("a member that stops heartbeating is removed after its session timeout", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 2);
  const std::string a = f.ids[0], b = f.ids[1];
  h.advance(1000ms);
  CHECK(h.heartbeat("g", a, 1) == ok);
  CHECK(h.heartbeat("g", b, 1) == ok);  // b's last sign of life
  h.advance(5000ms);
  CHECK(h.heartbeat("g", a, 1) == ok);
  h.advance(4999ms);
  CHECK(h.members("g") == 2);
  CHECK(h.state("g") == group_state::stable);
  h.advance(1ms);
  CHECK(h.members("g") == 1);
  CHECK(h.state("g") == group_state::preparing_rebalance);
  CHECK(h.heartbeat("g", b, 1) == E(errc::unknown_member_id));
  CHECK(h.heartbeat("g", a, 1) == E(errc::rebalance_in_progress));
  auto as = h.join(jr("g", a, "c0"));
  REQUIRE(as->answered());
  CHECK((*as).generation == 2);
  CHECK((*as).members.size() == 1);
}

TEST_CASE("a member whose JoinGroup or SyncGroup is parked never expires", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 2);
  const std::string a = f.ids[0], b = f.ids[1];
  SECTION("a parked JoinGroup") {
    auto rc = jr("g", a, "c0");
    rc.rebalance_timeout = 600s;  // a long join phase
    auto as = h.join(rc);
    // b keeps heartbeating; a sends nothing for far longer than its 10 s session.
    for (int i = 0; i < 100; ++i) {
      CHECK(h.heartbeat("g", b, 1) == E(errc::rebalance_in_progress));
      h.advance(5000ms);
    }
    CHECK(h.members("g") == 2);
    CHECK_FALSE(as->answered());
    auto bs = h.join(jr("g", b, "c1"));
    REQUIRE(as->answered());
    CHECK((*as).generation == 2);
    CHECK((*as).members.size() == 2);
  }
  SECTION("a parked SyncGroup, while the store takes its time") {
    auto rb = h.join(jr("g", b, "c1", {"t", "u"}));  // changed metadata
    auto ra = h.join(jr("g", a, "c0"));
    REQUIRE(ra->answered());
    REQUIRE((*ra).generation == 2);
    auto bs = h.sync(sr("g", b, 2));
    auto as = h.sync(sr("g", a, 2, {{a, to_bytes("A2")}, {b, to_bytes("B2")}}));
    h.advance(std::chrono::minutes(10));
    CHECK(h.members("g") == 2);
    CHECK_FALSE(as->answered());
    h.flush();
    REQUIRE(as->answered());
    REQUIRE(bs->answered());
    CHECK((*bs).assignment == to_bytes("B2"));
    // Their sessions start again with the answer.
    h.advance(9999ms);
    CHECK(h.heartbeat("g", a, 2) == ok);
    CHECK(h.heartbeat("g", b, 2) == ok);
  }
}

// --- LeaveGroup ---

TEST_CASE("LeaveGroup", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 3);
  const std::string a = f.ids[0], b = f.ids[1], c = f.ids[2];
  SECTION("a batch: each member answered, unknown ones with UNKNOWN_MEMBER_ID; the group rebalances") {
    auto r = h.gc->leave(h.now(), "g", {{b, std::nullopt, "bye"}, {"who-9", std::nullopt, ""}});
    CHECK(r.error == ok);
    REQUIRE(r.members.size() == 2);
    CHECK(r.members[0] == ok);
    CHECK(r.members[1] == E(errc::unknown_member_id));
    CHECK(h.members("g") == 2);
    CHECK(h.state("g") == group_state::preparing_rebalance);
    CHECK(h.heartbeat("g", b, 1) == E(errc::unknown_member_id));
  }
  SECTION("unknown group and empty group id") {
    auto r = h.gc->leave(h.now(), "nope", {{a, std::nullopt, ""}, {b, std::nullopt, ""}});
    CHECK(r.error == ok);
    CHECK(r.members == std::vector<std::error_code>{E(errc::unknown_member_id), E(errc::unknown_member_id)});
    CHECK(h.gc->leave(h.now(), "", {{a, std::nullopt, ""}}).error == E(errc::invalid_group_id));
  }
  SECTION("a parked JoinGroup of a leaving member is answered") {
    auto as = h.join(jr("g", a, "c0"));
    CHECK_FALSE(as->answered());
    auto r = h.gc->leave(h.now(), "g", {{a, std::nullopt, ""}});
    CHECK(r.members == std::vector<std::error_code>{ok});
    REQUIRE(as->answered());
    CHECK((*as).error == E(errc::unknown_member_id));
    auto bs = h.join(jr("g", b, "c1"));
    auto cs = h.join(jr("g", c, "c2"));
    REQUIRE(bs->answered());
    REQUIRE(cs->answered());
    CHECK((*bs).generation == 2);
    CHECK((*bs).leader == b);  // a new leader
    CHECK((*bs).members.size() == 2);
  }
  SECTION("the last member leaving makes the group Empty, durably") {
    h.flush();
    auto r = h.gc->leave(h.now(), "g", {{b, std::nullopt, ""}, {c, std::nullopt, ""}, {a, std::nullopt, ""}});
    CHECK(r.members == std::vector<std::error_code>{ok, ok, ok});
    CHECK(h.state("g") == group_state::empty);
    REQUIRE(h.store.queue.size() == 1);
    const auto* rec = std::get_if<group_metadata_record>(&h.store.queue.front().rec);
    REQUIRE(rec);
    REQUIRE(rec->value);
    CHECK(rec->value->members.empty());
    CHECK(rec->value->generation == 2);
    CHECK(rec->value->protocol_type == "consumer");
    CHECK_FALSE(rec->value->protocol_name);
    h.flush();
    CHECK(h.gc->list({}).size() == 1);
  }
  SECTION("a pending member may leave") {
    auto p = h.join(jr("g", "", "late"));
    REQUIRE((*p).error == E(errc::member_id_required));
    auto r = h.gc->leave(h.now(), "g", {{(*p).member_id, std::nullopt, ""}});
    CHECK(r.members == std::vector<std::error_code>{ok});
    auto again = h.join(jr("g", (*p).member_id, "late"));
    REQUIRE(again->answered());
    CHECK((*again).error == E(errc::unknown_member_id));
    CHECK(h.state("g") == group_state::stable);
  }
}

// --- static membership ---

namespace {

join_request static_jr(const std::string& group, const std::string& instance, const std::string& member = "",
                       const std::string& client = "client") {
  auto r = jr(group, member, client);
  r.group_instance_id = instance;
  return r;
}

sync_request static_sr(const std::string& group, const std::string& instance, const std::string& member,
                       int32_t generation, std::vector<std::pair<std::string, bytes>> a = {}) {
  auto r = sr(group, member, generation, std::move(a));
  r.group_instance_id = instance;
  return r;
}

// Static members "ia" (the leader) and "ib" join together (no MEMBER_ID_REQUIRED for them).
std::pair<std::string, std::string> static_joined(harness& h, const std::string& group) {
  auto sa = h.join(static_jr(group, "ia", "", "ca"));
  auto sb = h.join(static_jr(group, "ib", "", "cb"));
  CHECK_FALSE(sa->answered());
  h.settle(std::vector<slot<join_result>>{sa, sb});
  REQUIRE((*sa).error == ok);
  REQUIRE((*sa).leader == (*sa).member_id);
  REQUIRE((*sa).members.size() == 2);
  for (const auto& m : (*sa).members) CHECK(m.group_instance_id);
  return {(*sa).member_id, (*sb).member_id};
}

std::pair<std::string, std::string> static_group(harness& h, const std::string& group) {
  auto [a, b] = static_joined(h, group);
  auto sb = h.sync(static_sr(group, "ib", b, 1));
  auto sa = h.sync(static_sr(group, "ia", a, 1, {{a, to_bytes("A")}, {b, to_bytes("B")}}));
  h.flush();
  REQUIRE((*sa).error == ok);
  REQUIRE((*sb).assignment == to_bytes("B"));
  return {a, b};
}

}  // namespace

TEST_CASE("static member rejoining while Stable: new member id, no rebalance, the old id is fenced",
          "[engine][group]") {
  harness h;
  auto [a, b] = static_group(h, "g");
  CHECK(a == "ia-1");
  CHECK(b == "ib-2");
  const auto rebalances = h.gc->stats().rebalances;
  auto nb = h.join(static_jr("g", "ib", "", "cb"));  // the instance restarted
  CHECK_FALSE(nb->answered());                       // the new member id is stored first
  CHECK(h.state("g") == group_state::stable);
  REQUIRE(h.store.queue.size() == 1);
  {
    const auto* rec = std::get_if<group_metadata_record>(&h.store.queue.front().rec);
    REQUIRE(rec);
    REQUIRE(rec->value);
    CHECK(rec->value->generation == 1);
    REQUIRE(rec->value->members.size() == 2);
    bool found = false;
    for (const auto& m : rec->value->members) {
      CHECK(m.member_id != b);
      if (m.group_instance_id == std::optional<std::string>("ib")) {
        found = true;
        CHECK(m.member_id == "ib-3");
        CHECK(m.assignment == to_bytes("B"));  // it keeps its assignment
      }
    }
    CHECK(found);
  }
  h.complete();
  REQUIRE(nb->answered());
  CHECK((*nb).error == ok);
  CHECK((*nb).member_id == "ib-3");
  CHECK((*nb).generation == 1);
  CHECK((*nb).leader == a);
  CHECK_FALSE((*nb).skip_assignment);
  CHECK((*nb).members.empty());
  CHECK(h.state("g") == group_state::stable);
  CHECK(h.gc->stats().rebalances == rebalances);

  // The old member id is fenced wherever it shows up with the instance id.
  CHECK(h.heartbeat("g", b, 1, "ib") == E(errc::fenced_instance_id));
  auto old_sync = h.sync(static_sr("g", "ib", b, 1));
  REQUIRE(old_sync->answered());
  CHECK((*old_sync).error == E(errc::fenced_instance_id));
  auto old_commit_req = cr("g", b, 1, {{{"t", 0}, off(5)}});
  old_commit_req.group_instance_id = "ib";
  auto old_commit = h.commit(old_commit_req);
  REQUIRE(old_commit->answered());
  CHECK(*old_commit == commit_result{E(errc::fenced_instance_id)});
  CHECK(h.heartbeat("g", b, 1) == E(errc::unknown_member_id));
  // The new one works and has the assignment.
  CHECK(h.heartbeat("g", "ib-3", 1, "ib") == ok);
  auto new_sync = h.sync(static_sr("g", "ib", "ib-3", 1));
  REQUIRE(new_sync->answered());
  CHECK((*new_sync).assignment == to_bytes("B"));
  CHECK(h.heartbeat("g", a, 1, "ia") == ok);
}

TEST_CASE("a replaced static leader: skip_assignment for v9, the old leader id before", "[engine][group]") {
  harness h;
  auto [a, b] = static_group(h, "g");
  SECTION("v9+") {
    auto r = static_jr("g", "ia", "", "ca");
    r.supports_skip_assignment = true;
    auto na = h.join(r);
    CHECK_FALSE(na->answered());
    h.complete();
    REQUIRE(na->answered());
    CHECK((*na).error == ok);
    CHECK((*na).member_id == "ia-3");
    CHECK((*na).leader == "ia-3");
    CHECK((*na).skip_assignment);
    CHECK((*na).generation == 1);
    REQUIRE((*na).members.size() == 2);
    std::set<std::string> ids;
    for (const auto& m : (*na).members) {
      ids.insert(m.member_id);
      CHECK(m.metadata == subscription({"t"}));
    }
    CHECK(ids == std::set<std::string>{"ia-3", b});
    // Its SyncGroup (in Stable) gets the stored assignment.
    auto s = h.sync(static_sr("g", "ia", "ia-3", 1));
    REQUIRE(s->answered());
    CHECK((*s).assignment == to_bytes("A"));
  }
  SECTION("before v9") {
    auto na = h.join(static_jr("g", "ia", "", "ca"));
    h.complete();
    REQUIRE(na->answered());
    CHECK((*na).error == ok);
    CHECK((*na).member_id == "ia-3");
    CHECK((*na).leader == a);  // the old leader id: the new member does not think it leads
    CHECK_FALSE((*na).skip_assignment);
    CHECK((*na).members.empty());
  }
  SECTION("a non-leader on v9 is told it does not lead") {
    auto r = static_jr("g", "ib", "", "cb");
    r.supports_skip_assignment = true;
    auto nb = h.join(r);
    h.complete();
    REQUIRE(nb->answered());
    CHECK_FALSE((*nb).skip_assignment);
    CHECK((*nb).leader == a);
    CHECK((*nb).members.empty());
  }
  SECTION("a store failure answers the error") {
    auto na = h.join(static_jr("g", "ia", "", "ca"));
    h.complete(E(errc::storage_error));
    REQUIRE(na->answered());
    CHECK((*na).error == E(errc::storage_error));
    CHECK(h.state("g") == group_state::stable);
  }
}

TEST_CASE("a static member that changes the group's protocol rebalances", "[engine][group]") {
  harness h;
  auto r = static_jr("g", "ia", "", "ca");
  r.protocols = {{"range", subscription({"t"})}, {"roundrobin", subscription({"t"})}};
  auto sa = h.join(r);
  h.settle(std::vector<slot<join_result>>{sa});
  auto a = (*sa).member_id;
  auto s = h.sync(static_sr("g", "ia", a, 1, {{a, to_bytes("A")}}));
  h.flush();
  REQUIRE(h.state("g") == group_state::stable);
  r.protocols = {{"roundrobin", subscription({"t"})}, {"range", subscription({"t"})}};
  auto na = h.join(r);
  REQUIRE(na->answered());  // the only member, and it rejoined: the join phase ends at once
  CHECK((*na).error == ok);
  CHECK((*na).generation == 2);
  CHECK((*na).protocol_name == std::optional<std::string>("roundrobin"));
  CHECK((*na).member_id != a);
}

TEST_CASE("a static member rejoining during CompletingRebalance fences its parked sync and rebalances",
          "[engine][group]") {
  harness h;
  auto [a, b] = static_joined(h, "g");
  auto old_sync = h.sync(static_sr("g", "ib", b, 1));
  CHECK_FALSE(old_sync->answered());
  auto nb = h.join(static_jr("g", "ib", "", "cb"));
  REQUIRE(old_sync->answered());
  CHECK((*old_sync).error == E(errc::fenced_instance_id));
  CHECK(h.state("g") == group_state::preparing_rebalance);
  CHECK_FALSE(nb->answered());
  auto na = h.join(static_jr("g", "ia", a, "ca"));
  REQUIRE(na->answered());
  REQUIRE(nb->answered());
  CHECK((*nb).generation == 2);
  CHECK((*nb).member_id == "ib-3");
  CHECK((*na).members.size() == 2);
}

TEST_CASE("static members that do not rejoin are not dropped at the join deadline", "[engine][group]") {
  harness h;
  auto [a, b] = static_group(h, "g");
  auto na = h.join(static_jr("g", "ia", a, "ca"));  // the leader asks for a rebalance
  CHECK(h.state("g") == group_state::preparing_rebalance);
  for (int i = 0; i < 6; ++i) {
    CHECK(h.heartbeat("g", b, 1, "ib") == E(errc::rebalance_in_progress));
    h.advance(5000ms);  // t=30000: the join deadline
  }
  REQUIRE(na->answered());
  CHECK((*na).generation == 2);
  CHECK((*na).members.size() == 2);  // b is still a member of the new generation
  CHECK(h.members("g") == 2);
  CHECK(h.heartbeat("g", b, 1, "ib") == E(errc::illegal_generation));
  auto nb = h.join(static_jr("g", "ib", b, "cb"));  // same metadata: the current generation
  REQUIRE(nb->answered());
  CHECK((*nb).error == ok);
  CHECK((*nb).generation == 2);
  CHECK((*nb).member_id == b);
}

TEST_CASE("LeaveGroup of static members by instance id", "[engine][group]") {
  harness h;
  auto [a, b] = static_group(h, "g");
  auto r = h.gc->leave(h.now(), "g",
                       {{"", std::string("nope"), ""}, {"ia-77", std::string("ia"), ""}, {"", std::string("ib"), ""}});
  CHECK(r.members == std::vector<std::error_code>{E(errc::unknown_member_id), E(errc::fenced_instance_id), ok});
  CHECK(h.members("g") == 1);
  CHECK(h.heartbeat("g", b, 1, "ib") == E(errc::unknown_member_id));
}

TEST_CASE("a pending member id sent with an instance id does not become a second static member", "[engine][group]") {
  harness h;
  auto [a, b] = static_group(h, "g");
  auto p = h.join(jr("g", "", "late"));
  REQUIRE((*p).error == E(errc::member_id_required));
  // A broken client: the pending (dynamic) id together with an instance id already in use.
  auto s = h.join(static_jr("g", "ia", (*p).member_id, "late"));
  REQUIRE(s->answered());
  CHECK((*s).error != ok);
  auto d = h.gc->describe("g");
  size_t with_ia = 0;
  for (const auto& m : d.members) with_ia += m.group_instance_id == std::optional<std::string>("ia");
  CHECK(with_ia == 1);
  CHECK(h.heartbeat("g", a, 1, "ia") == ok);
}

// --- OffsetCommit and OffsetFetch ---

TEST_CASE("OffsetCommit from outside any group creates an Empty group, answered once durable", "[engine][group]") {
  harness h;
  const topic_partition tp{"t", 0};
  auto s = h.commit(cr("simple", "", -1, {{tp, off(42, 7, std::string("meta"))}}));
  CHECK_FALSE(s->answered());
  CHECK(h.state("simple") == group_state::empty);
  REQUIRE(h.store.queue.size() == 1);
  {
    const auto* rec = std::get_if<offsets_record>(&h.store.queue.front().rec);
    REQUIRE(rec);
    CHECK(rec->group_id == "simple");
    REQUIRE(rec->offsets.size() == 1);
    CHECK(rec->offsets[0].first == tp);
    REQUIRE(rec->offsets[0].second);
    CHECK(rec->offsets[0].second->offset == 42);
    CHECK(rec->offsets[0].second->commit_timestamp_ms == h.clock.wall_ms);
    CHECK_FALSE(rec->offsets[0].second->expire_timestamp_ms);
  }
  // Not visible before it is durable; require_stable says so.
  CHECK(h.fetch("simple", tp).offset.offset == -1);
  CHECK(h.fetch("simple", tp, true).error == E(errc::unstable_offset_commit));
  h.complete();
  REQUIRE(s->answered());
  CHECK(*s == commit_result{ok});
  auto f = h.fetch("simple", tp, true);
  CHECK(f.error == ok);
  CHECK(f.offset.offset == 42);
  CHECK(f.offset.leader_epoch == 7);
  CHECK(f.offset.metadata == std::optional<std::string>("meta"));
  auto groups = h.gc->list({});
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].group_id == "simple");
  CHECK(groups[0].protocol_type.empty());
  CHECK(groups[0].state == group_state::empty);
  CHECK(h.gc->stats().offset_commits == 1);
}

TEST_CASE("OffsetCommit checks member and generation", "[engine][group]") {
  harness h;
  const topic_partition tp{"t", 0};
  auto one = [&](commit_request r) {
    auto s = h.commit(std::move(r));
    h.flush();
    REQUIRE(s->answered());
    REQUIRE((*s).size() == 1);
    return (*s)[0];
  };
  CHECK(one(cr("nope", "x", 3, {{tp, off(1)}})) == E(errc::illegal_generation));
  CHECK(h.state("nope") == group_state::dead);  // not created
  auto f = form_group(h, "g", 2);
  CHECK(one(cr("g", "who-9", 1, {{tp, off(1)}})) == E(errc::unknown_member_id));
  CHECK(one(cr("g", f.ids[1], 2, {{tp, off(1)}})) == E(errc::illegal_generation));
  CHECK(one(cr("g", "", -1, {{tp, off(1)}})) == E(errc::unknown_member_id));  // a group with members
  CHECK(one(cr("g", f.ids[1], 1, {{tp, off(10)}})) == ok);
  CHECK(h.fetch("g", tp).offset.offset == 10);
  // PreparingRebalance: the old generation may still commit.
  auto rejoin = h.join(jr("g", f.ids[0], "c0"));
  CHECK(one(cr("g", f.ids[1], 1, {{tp, off(11)}})) == ok);
  CHECK(h.fetch("g", tp).offset.offset == 11);
  // CompletingRebalance: rebalance in progress.
  auto bj = h.join(jr("g", f.ids[1], "c1"));
  REQUIRE(bj->answered());
  CHECK(h.state("g") == group_state::completing_rebalance);
  CHECK(one(cr("g", f.ids[1], 2, {{tp, off(12)}})) == E(errc::rebalance_in_progress));
  CHECK(h.fetch("g", tp).offset.offset == 11);
}

TEST_CASE("OffsetCommit: metadata too large fails that partition only; a failed store changes nothing",
          "[engine][group]") {
  harness h;
  const topic_partition t0{"t", 0}, t1{"t", 1};
  auto s = h.commit(
      cr("simple", "", -1, {{t0, off(5, 3, std::string(4097, 'x'))}, {t1, off(6, 4, std::string(4096, 'y'))}}));
  REQUIRE(h.store.queue.size() == 1);
  CHECK(std::get<offsets_record>(h.store.queue.front().rec).offsets.size() == 1);  // only t1 is stored
  h.complete();
  REQUIRE(s->answered());
  CHECK(*s == commit_result{E(errc::offset_metadata_too_large), ok});
  CHECK(h.fetch("simple", t0).offset.offset == -1);
  CHECK(h.fetch("simple", t1).offset.offset == 6);
  CHECK(h.fetch("simple", t1).offset.leader_epoch == 4);
  CHECK(h.fetch("simple", t1).offset.metadata == std::optional<std::string>(std::string(4096, 'y')));

  auto only_bad = h.commit(cr("simple", "", -1, {{t0, off(5, 3, std::string(5000, 'x'))}}));
  REQUIRE(only_bad->answered());  // nothing to store
  CHECK(*only_bad == commit_result{E(errc::offset_metadata_too_large)});

  auto failed = h.commit(cr("simple", "", -1, {{t1, off(99)}}));
  h.complete(E(errc::storage_error));
  REQUIRE(failed->answered());
  CHECK(*failed == commit_result{E(errc::storage_error)});
  CHECK(h.fetch("simple", t1, true).offset.offset == 6);
  CHECK(h.fetch("simple", t1, true).error == ok);
}

TEST_CASE("OffsetFetch: unknown group or partition answer -1 without error; nullopt fetches all", "[engine][group]") {
  harness h;
  auto s = h.commit(cr("g", "", -1, {{{"a", 0}, off(1)}, {{"a", 1}, off(2)}, {{"b", 0}, off(3)}}));
  h.flush();
  auto unknown_group = h.fetch("nope", {"a", 0});
  CHECK(unknown_group.offset.offset == -1);
  CHECK(unknown_group.error == ok);
  auto unknown_tp = h.fetch("g", {"a", 7});
  CHECK(unknown_tp.offset.offset == -1);
  CHECK(unknown_tp.error == ok);
  CHECK(h.gc->fetch_offsets("nope", std::nullopt, false).empty());
  auto all = h.gc->fetch_offsets("g", std::nullopt, false);
  REQUIRE(all.size() == 3);
  std::map<topic_partition, int64_t> got;
  for (const auto& f : all) got[f.tp] = f.offset.offset;
  CHECK(got == std::map<topic_partition, int64_t>{{{"a", 0}, 1}, {{"a", 1}, 2}, {{"b", 0}, 3}});
}

TEST_CASE("OffsetFetch of all partitions with require_stable reports in-flight commits", "[engine][group]") {
  harness h;
  auto s = h.commit(cr("g", "", -1, {{{"a", 0}, off(1)}}));
  h.flush();
  auto s2 = h.commit(cr("g", "", -1, {{{"a", 0}, off(2)}}));
  auto all = h.gc->fetch_offsets("g", std::nullopt, true);
  REQUIRE(all.size() == 1);
  // As Kafka: a partition with a commit on its way is UNSTABLE_OFFSET_COMMIT, not the older offset.
  CHECK(all[0].error == E(errc::unstable_offset_commit));
  h.flush();
  all = h.gc->fetch_offsets("g", std::nullopt, true);
  REQUIRE(all.size() == 1);
  CHECK(all[0].error == ok);
  CHECK(all[0].offset.offset == 2);
}

// --- ListGroups, DescribeGroups, DeleteGroups, OffsetDelete ---

TEST_CASE("state names are Kafka's", "[engine][group]") {
  CHECK(to_string(group_state::empty) == "Empty");
  CHECK(to_string(group_state::preparing_rebalance) == "PreparingRebalance");
  CHECK(to_string(group_state::completing_rebalance) == "CompletingRebalance");
  CHECK(to_string(group_state::stable) == "Stable");
  CHECK(to_string(group_state::dead) == "Dead");
  CHECK(parse_group_state("preparingrebalance") == group_state::preparing_rebalance);
  CHECK(parse_group_state("STABLE") == group_state::stable);
  CHECK(parse_group_state("CompletingRebalance") == group_state::completing_rebalance);
  CHECK_FALSE(parse_group_state("Rebalancing"));
}

TEST_CASE("ListGroups with a states filter, DescribeGroups", "[engine][group]") {
  harness h;
  auto f = form_group(h, "stable", 2);
  form_group(h, "prep", 1);
  auto rejoin = h.join(jr("prep", "", "newcomer", {"t"}));
  REQUIRE((*rejoin).error == E(errc::member_id_required));
  auto rj = h.join(jr("prep", (*rejoin).member_id, "newcomer"));
  REQUIRE(h.state("prep") == group_state::preparing_rebalance);
  auto c = h.commit(cr("simple", "", -1, {{{"t", 0}, off(1)}}));
  h.flush();

  CHECK(h.gc->list({}).size() == 3);
  auto only_stable = h.gc->list({group_state::stable});
  REQUIRE(only_stable.size() == 1);
  CHECK(only_stable[0].group_id == "stable");
  CHECK(only_stable[0].protocol_type == "consumer");
  auto two = h.gc->list({group_state::empty, group_state::preparing_rebalance});
  REQUIRE(two.size() == 2);
  CHECK(h.gc->list({group_state::dead}).empty());

  auto d = h.gc->describe("stable");
  CHECK(d.group_id == "stable");
  CHECK(d.state == group_state::stable);
  CHECK(d.protocol_type == "consumer");
  CHECK(d.protocol_name == "range");
  REQUIRE(d.members.size() == 2);
  for (const auto& m : d.members) {
    CHECK(m.client_host == "/10.0.0.1");
    CHECK(m.client_id == (m.member_id == f.ids[0] ? "c0" : "c1"));
    CHECK(m.metadata == subscription({"t"}));
    CHECK(m.assignment == assignment_of(m.member_id));
  }
  auto p = h.gc->describe("prep");
  CHECK(p.state == group_state::preparing_rebalance);
  CHECK(p.protocol_name.empty());
  REQUIRE(p.members.size() == 2);
  for (const auto& m : p.members) {
    CHECK(m.metadata.empty());
    CHECK(m.assignment.empty());
  }
  auto dead = h.gc->describe("nope");
  CHECK(dead.state == group_state::dead);
  CHECK(dead.group_id == "nope");
  CHECK(dead.members.empty());
  CHECK(to_string(dead.state) == "Dead");
}

TEST_CASE("DeleteGroups", "[engine][group]") {
  harness h;
  form_group(h, "busy", 1);
  auto c = h.commit(cr("idle", "", -1, {{{"t", 0}, off(1)}}));
  h.flush();
  std::optional<std::vector<std::error_code>> got;
  h.gc->delete_groups(h.now(), {"busy", "nope", "idle"}, [&](std::vector<std::error_code> e) {
    CHECK_FALSE(got);
    got = std::move(e);
  });
  CHECK_FALSE(got);  // answered once the removal is durable
  REQUIRE(h.store.queue.size() == 1);
  const auto* rec = std::get_if<group_metadata_record>(&h.store.queue.front().rec);
  REQUIRE(rec);
  CHECK(rec->group_id == "idle");
  CHECK_FALSE(rec->value);
  h.complete();
  REQUIRE(got);
  CHECK(*got == std::vector<std::error_code>{E(errc::non_empty_group), E(errc::group_id_not_found), ok});
  CHECK(h.state("idle") == group_state::dead);
  CHECK(h.fetch("idle", {"t", 0}).offset.offset == -1);
  CHECK(h.state("busy") == group_state::stable);

  got.reset();
  h.gc->delete_groups(h.now(), {"nope"}, [&](std::vector<std::error_code> e) { got = std::move(e); });
  REQUIRE(got);  // nothing to store: at once
  CHECK(*got == std::vector<std::error_code>{E(errc::group_id_not_found)});
}

TEST_CASE("OffsetDelete", "[engine][group]") {
  harness h;
  struct outcome {
    bool answered = false;
    std::error_code group;
    std::vector<std::error_code> partitions;
  };
  auto del = [&](const std::string& g, std::vector<topic_partition> tps) {
    auto o = std::make_shared<outcome>();
    h.gc->delete_offsets(h.now(), g, std::move(tps), [o](std::error_code e, std::vector<std::error_code> p) {
      CHECK_FALSE(o->answered);
      o->answered = true;
      o->group = e;
      o->partitions = std::move(p);
    });
    return o;
  };
  SECTION("unknown group") {
    auto o = del("nope", {{"t1", 0}});
    REQUIRE(o->answered);
    CHECK(o->group == E(errc::group_id_not_found));
    CHECK(o->partitions.empty());
  }
  SECTION("an active consumer group keeps the offsets of the topics it subscribes to") {
    auto f = form_group(h, "g", 2, {"t1"});
    auto c = h.commit(cr("g", f.ids[0], 1, {{{"t1", 0}, off(1)}, {{"t2", 0}, off(2)}}));
    h.flush();
    auto o = del("g", {{"t1", 0}, {"t2", 0}, {"t3", 0}});
    CHECK_FALSE(o->answered);
    h.flush();
    REQUIRE(o->answered);
    CHECK(o->group == ok);
    CHECK(o->partitions == std::vector<std::error_code>{E(errc::group_subscribed_to_topic), ok, ok});
    CHECK(h.fetch("g", {"t1", 0}).offset.offset == 1);
    CHECK(h.fetch("g", {"t2", 0}).offset.offset == -1);
    REQUIRE(h.store.durable.size() >= 1);
    const auto& rec = std::get<offsets_record>(h.store.durable.back());
    REQUIRE(rec.offsets.size() == 1);
    CHECK(rec.offsets[0].first == topic_partition{"t2", 0});
    CHECK_FALSE(rec.offsets[0].second);
  }
  SECTION("an Empty group may delete any") {
    auto c = h.commit(cr("simple", "", -1, {{{"t1", 0}, off(1)}, {{"t2", 0}, off(2)}}));
    h.flush();
    auto o = del("simple", {{"t1", 0}, {"t2", 0}});
    h.flush();
    REQUIRE(o->answered);
    CHECK(o->partitions == std::vector<std::error_code>{ok, ok});
    CHECK(h.gc->fetch_offsets("simple", std::nullopt, false).empty());
  }
  SECTION("an active group of another protocol type is NON_EMPTY_GROUP") {
    auto r = jr("connect", "", "w");
    r.protocol_type = "connect";
    r.require_known_member_id = false;
    auto s = h.join(r);
    h.settle(std::vector<slot<join_result>>{s});
    auto o = del("connect", {{"t1", 0}});
    REQUIRE(o->answered);
    CHECK(o->group == E(errc::non_empty_group));
  }
}

TEST_CASE("OffsetDelete during an in-flight commit does not let the commit bring the offset back", "[engine][group]") {
  harness h;
  const topic_partition tp{"t2", 0};
  auto first = h.commit(cr("simple", "", -1, {{tp, off(1)}}));
  h.flush();
  auto inflight = h.commit(cr("simple", "", -1, {{tp, off(2)}}));
  bool deleted = false;
  h.gc->delete_offsets(h.now(), "simple", {tp}, [&](std::error_code e, std::vector<std::error_code> p) {
    deleted = true;
    CHECK(e == ok);
    CHECK(p == std::vector<std::error_code>{ok});
  });
  h.flush();
  CHECK(deleted);
  REQUIRE(inflight->answered());
  // In the log the commit comes before the removal, so after a restart the offset is gone: the
  // running coordinator must agree.
  CHECK(h.fetch("simple", tp).offset.offset == -1);
  // A later commit still lands.
  auto later = h.commit(cr("simple", "", -1, {{tp, off(3)}}));
  h.flush();
  CHECK(h.fetch("simple", tp).offset.offset == 3);
}

// --- offsets retention ---

TEST_CASE("offsets of a group Empty longer than offsets_retention expire, and the group goes", "[engine][group]") {
  harness h;  // retention 1 h, checked every 10 min from start
  auto f = form_group(h, "g", 1, {"t"});
  const std::string a = f.ids[0];
  auto c = h.commit(cr("g", a, 1, {{{"t", 0}, off(5)}}));
  h.flush();
  // Stable for 30 minutes: a subscribed topic's offsets do not expire.
  while (h.elapsed() < std::chrono::minutes(30) - 5s) {
    h.advance(5s);
    REQUIRE(h.heartbeat("g", a, 1) == ok);
  }
  h.advance_to(std::chrono::minutes(30));
  auto r = h.gc->leave(h.now(), "g", {{a, std::nullopt, ""}});
  REQUIRE(h.state("g") == group_state::empty);
  h.flush();
  h.advance_to(std::chrono::minutes(80));  // 50 min Empty: still there (the commit is 80 min old)
  CHECK(h.fetch("g", {"t", 0}).offset.offset == 5);
  CHECK(h.store.queue.empty());
  h.advance_to(std::chrono::minutes(90) - 1ms);
  CHECK(h.fetch("g", {"t", 0}).offset.offset == 5);
  h.advance_to(std::chrono::minutes(90));  // 60 min Empty, at a check
  CHECK(h.fetch("g", {"t", 0}).offset.offset == -1);
  CHECK(h.state("g") == group_state::dead);
  CHECK(h.gc->list({}).empty());
  REQUIRE(h.store.queue.size() == 1);
  CHECK(std::get<group_metadata_record>(h.store.queue.front().rec) == group_metadata_record{"g", std::nullopt});
  CHECK(h.gc->stats().expired_offsets == 1);
}

TEST_CASE("offsets with their own retention expire at their own time", "[engine][group]") {
  harness h;
  h.advance(1min);
  auto req = cr("simple", "", -1, {{{"short", 0}, off(1)}});
  req.retention = 15min;
  auto s1 = h.commit(req);
  auto s2 = h.commit(cr("simple", "", -1, {{{"long", 0}, off(2)}}));
  h.flush();
  h.advance_to(10min);
  CHECK(h.fetch("simple", {"short", 0}).offset.offset == 1);
  CHECK(h.fetch("simple", {"short", 0}).offset.expire_timestamp_ms.has_value());
  h.advance_to(20min);  // 16 min: past its own retention
  CHECK(h.fetch("simple", {"short", 0}).offset.offset == -1);
  CHECK(h.fetch("simple", {"long", 0}).offset.offset == 2);
  REQUIRE(h.store.queue.size() == 1);
  const auto& rec = std::get<offsets_record>(h.store.queue.front().rec);
  REQUIRE(rec.offsets.size() == 1);
  CHECK(rec.offsets[0].first == topic_partition{"short", 0});
  h.flush();
  h.advance_to(60min);  // 59 min since the commit
  CHECK(h.fetch("simple", {"long", 0}).offset.offset == 2);
  h.advance_to(70min);
  CHECK(h.fetch("simple", {"long", 0}).offset.offset == -1);
  CHECK(h.state("simple") == group_state::dead);
}

TEST_CASE("topic_deleted drops that topic's offsets in every group", "[engine][group]") {
  harness h;
  auto a = h.commit(cr("g1", "", -1, {{{"gone", 0}, off(1)}, {{"kept", 0}, off(2)}}));
  auto b = h.commit(cr("g2", "", -1, {{{"gone", 3}, off(3)}}));
  h.flush();
  h.gc->topic_deleted("gone");
  CHECK(h.fetch("g1", {"gone", 0}).offset.offset == -1);
  CHECK(h.fetch("g2", {"gone", 3}).offset.offset == -1);
  CHECK(h.fetch("g1", {"kept", 0}).offset.offset == 2);
  REQUIRE(h.store.queue.size() == 2);
  for (const auto& e : h.store.queue) {
    const auto& rec = std::get<offsets_record>(e.rec);
    REQUIRE(rec.offsets.size() == 1);
    CHECK(rec.offsets[0].first.topic == "gone");
    CHECK_FALSE(rec.offsets[0].second);
  }
}

TEST_CASE("topic_deleted during an in-flight commit does not let the commit bring the offset back", "[engine][group]") {
  harness h;
  auto s = h.commit(cr("g1", "", -1, {{{"gone", 0}, off(1)}}));
  h.gc->topic_deleted("gone");
  h.flush();
  REQUIRE(s->answered());
  CHECK(h.fetch("g1", {"gone", 0}).offset.offset == -1);
  // What a restart would see agrees.
  fake_store s2;
  group_coordinator replay(test_config(), s2, [] { return std::string("x"); });
  for (const auto& r : h.store.durable) replay.load(r);
  replay.start(h.now(), [](const std::string&) { return true; });
  CHECK(replay.fetch_offsets("g1", std::nullopt, false).empty());
}

// --- durability ---

namespace {

// Every durable record through the WAL encoding into a new coordinator, then start().
void replay_into(const std::vector<group_record>& log, group_coordinator& gc) {
  for (const auto& r : log) {
    auto [type, payload] = group_records::encode(r);
    auto back = group_records::decode(type, payload);
    REQUIRE(back);
    REQUIRE(*back == r);
    gc.load(*back);
  }
}

}  // namespace

TEST_CASE("a restarted coordinator has the same offsets and Stable groups", "[engine][group]") {
  harness h;
  auto f = form_group(h, "g", 3, {"t1", "t2"});
  auto [sa, sb] = static_group(h, "static");
  auto restarted_static = h.join(static_jr("static", "ib", "", "cb"));  // replaced: ib-N
  h.flush();
  REQUIRE(restarted_static->answered());
  const std::string new_b = (*restarted_static).member_id;
  auto c1 = h.commit(cr("g", f.ids[1], 1, {{{"t1", 0}, off(10, 2, std::string("m"))}, {{"t2", 1}, off(20)}}));
  auto req = cr("simple", "", -1, {{{"t1", 0}, off(7)}, {{"t2", 0}, off(8)}});
  req.retention = 1000min;
  auto c2 = h.commit(req);
  auto c3 = h.commit(cr("doomed", "", -1, {{{"t1", 0}, off(1)}}));
  h.flush();
  bool deleted = false;
  h.gc->delete_groups(h.now(), {"doomed"}, [&](std::vector<std::error_code>) { deleted = true; });
  h.flush();
  REQUIRE(deleted);
  // An Empty consumer group.
  auto e = form_group(h, "left", 1);
  auto c4 = h.commit(cr("left", e.ids[0], 1, {{{"t1", 5}, off(55)}}));
  h.gc->leave(h.now(), "left", {{e.ids[0], std::nullopt, ""}});
  h.flush();
  REQUIRE(h.store.queue.empty());

  // Either every durable record, or only the restatement retention writes before removing the
  // segments that hold them (docs/wal-format.md, "Reclaiming space"): the same coordinator.
  const bool restated = GENERATE(false, true);
  INFO((restated ? "from the restatement" : "from every durable record"));
  harness r(test_config(), false);
  r.clock.wall_ms = h.clock.wall_ms + 5000;
  replay_into(restated ? h.gc->restatement() : h.store.durable, *r.gc);

  SECTION("everything is back") {
    r.start();
    CHECK(r.store.queue.empty());  // nothing to remove
    for (const std::string g : {"g", "simple", "doomed", "left", "static"}) {
      auto before = h.gc->fetch_offsets(g, std::nullopt, false);
      auto after = r.gc->fetch_offsets(g, std::nullopt, false);
      REQUIRE(before.size() == after.size());
      for (size_t i = 0; i < before.size(); ++i) {
        CHECK(before[i].tp == after[i].tp);
        CHECK(before[i].offset == after[i].offset);  // epoch, metadata, timestamps too
      }
    }
    CHECK(r.gc->fetch_offsets("doomed", std::nullopt, false).empty());
    CHECK(r.state("doomed") == group_state::dead);
    CHECK(r.gc->fetch_offsets("simple", std::nullopt, false).at(0).offset.expire_timestamp_ms.has_value());

    for (const std::string g : {"g", "static", "left"}) {
      auto d0 = h.gc->describe(g);
      auto d1 = r.gc->describe(g);
      CHECK(d1.state == d0.state);
      CHECK(d1.protocol_type == d0.protocol_type);
      CHECK(d1.protocol_name == d0.protocol_name);
      REQUIRE(d1.members.size() == d0.members.size());
      for (size_t i = 0; i < d0.members.size(); ++i) {
        CHECK(d1.members[i].member_id == d0.members[i].member_id);
        CHECK(d1.members[i].group_instance_id == d0.members[i].group_instance_id);
        CHECK(d1.members[i].client_id == d0.members[i].client_id);
        CHECK(d1.members[i].client_host == d0.members[i].client_host);
        CHECK(d1.members[i].metadata == d0.members[i].metadata);
        CHECK(d1.members[i].assignment == d0.members[i].assignment);
      }
    }
    CHECK(r.state("g") == group_state::stable);
    CHECK(r.state("left") == group_state::empty);
    // The members carry on: heartbeats with their generation work, SyncGroup gives the assignment.
    for (const auto& id : f.ids) {
      CHECK(r.heartbeat("g", id, 1) == ok);
      auto s = r.sync(sr("g", id, 1));
      REQUIRE(s->answered());
      CHECK((*s).error == ok);
      CHECK((*s).assignment == assignment_of(id));
    }
    CHECK(r.heartbeat("static", new_b, 1, "ib") == ok);
    CHECK(r.heartbeat("static", sb, 1, "ib") == E(errc::fenced_instance_id));
    CHECK(r.heartbeat("static", sa, 1, "ia") == ok);
    // The leader is the same: its rejoin rebalances, a follower's does not.
    auto fj = r.join(jr("g", f.ids[1], "c1", {"t1", "t2"}));
    REQUIRE(fj->answered());
    CHECK((*fj).generation == 1);
    CHECK((*fj).leader == f.leader);
    CHECK(r.state("g") == group_state::stable);
    // Sessions started at start(): a member that says nothing is gone after its timeout.
    r.advance(10s);
    CHECK(r.members("g") < 3);
  }
  SECTION("start() removes the offsets of topics that no longer exist, durably") {
    r.start([](const std::string& t) { return t != "t2"; });
    CHECK(r.fetch("g", {"t2", 1}).offset.offset == -1);
    CHECK(r.fetch("simple", {"t2", 0}).offset.offset == -1);
    CHECK(r.fetch("g", {"t1", 0}).offset.offset == 10);
    CHECK(r.fetch("simple", {"t1", 0}).offset.offset == 7);
    REQUIRE(r.store.queue.size() == 2);
    std::set<std::string> groups;
    for (const auto& q : r.store.queue) {
      const auto& rec = std::get<offsets_record>(q.rec);
      groups.insert(rec.group_id);
      REQUIRE(rec.offsets.size() == 1);
      CHECK(rec.offsets[0].first.topic == "t2");
      CHECK_FALSE(rec.offsets[0].second);
    }
    CHECK(groups == std::set<std::string>{"g", "simple"});
  }
}

TEST_CASE("abandon_parked answers every parked JoinGroup and SyncGroup with shutting_down", "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 2);
  auto bs = h.sync(sr("g", joined[1].id, 1));
  auto [late, ls] = h.join_v4(jr("other", "", "x"));
  CHECK_FALSE(ls->answered());
  h.gc->abandon_parked();
  REQUIRE(bs->answered());
  CHECK((*bs).error == E(errc::shutting_down));
  REQUIRE(ls->answered());
  CHECK((*ls).error == E(errc::shutting_down));
  h.gc->abandon_parked();  // nothing is answered twice
}

TEST_CASE("the leader leaving while its assignment is being stored: followers are told to rejoin", "[engine][group]") {
  harness h;
  auto joined = join_together(h, "g", 2);
  auto bs = h.sync(sr("g", joined[1].id, 1));
  auto as = h.sync(sr("g", joined[0].id, 1, {{joined[1].id, to_bytes("B")}}));
  auto r = h.gc->leave(h.now(), "g", {{joined[0].id, std::nullopt, ""}});
  CHECK(r.members == std::vector<std::error_code>{ok});
  REQUIRE(as->answered());
  CHECK((*as).error == E(errc::unknown_member_id));
  REQUIRE(bs->answered());
  CHECK((*bs).error == E(errc::rebalance_in_progress));
  h.flush();  // the stale assignment completes: nothing changes, nobody is answered again
  CHECK(h.state("g") == group_state::preparing_rebalance);
  auto rb = h.join(jr("g", joined[1].id, "c1"));
  REQUIRE(rb->answered());
  CHECK((*rb).generation == 2);
  CHECK((*rb).leader == joined[1].id);
}

TEST_CASE("a commit completing after its group was deleted does not revive it", "[engine][group]") {
  harness h;
  auto first = h.commit(cr("x", "", -1, {{{"t", 0}, off(1)}}));
  h.flush();
  auto inflight = h.commit(cr("x", "", -1, {{{"t", 0}, off(2)}}));
  std::optional<std::vector<std::error_code>> got;
  h.gc->delete_groups(h.now(), {"x"}, [&](std::vector<std::error_code> e) { got = std::move(e); });
  auto recreated = h.commit(cr("x", "", -1, {{{"t", 1}, off(9)}}));  // a new group of the same name
  h.flush();
  REQUIRE(inflight->answered());
  REQUIRE(got);
  CHECK(*got == std::vector<std::error_code>{ok});
  CHECK(h.fetch("x", {"t", 0}).offset.offset == -1);
  CHECK(h.fetch("x", {"t", 1}).offset.offset == 9);
  // The log says the same.
  harness r(test_config(), false);
  for (const auto& rec : h.store.durable) r.gc->load(rec);
  r.start();
  CHECK(r.fetch("x", {"t", 0}).offset.offset == -1);
  CHECK(r.fetch("x", {"t", 1}).offset.offset == 9);
}

// Random clients against the coordinator: every JoinGroup, SyncGroup and OffsetCommit is answered
// exactly once (the recorder checks "at most"; the end checks "at least"), static instances stay
// unique, and what the store made durable replays to the same offsets.
TEST_CASE("random client behaviour: every request answered exactly once", "[engine][group]") {
  size_t assigned = 0, committed = 0, fenced = 0, generations = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    harness h;
    uint64_t x = seed * 0x9e3779b97f4a7c15ull;
    auto rnd = [&](uint32_t n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return static_cast<uint32_t>(x % n);
    };
    struct client {
      std::string name;
      std::optional<std::string> instance;
      std::string id;
      int32_t gen = -1;
      bool leads = false;
      std::vector<std::string> members;  // the leader's last member list
      slot<join_result> join;
      bool joining = false;
    };
    std::vector<client> clients;
    for (int i = 0; i < 6; ++i)
      clients.push_back({"c" + std::to_string(i),  // two static instances, four dynamic members
                         i < 2 ? std::optional<std::string>("i" + std::to_string(i)) : std::nullopt});
    std::vector<slot<join_result>> joins;
    std::vector<slot<sync_result>> syncs;
    std::vector<slot<commit_result>> commits;
    auto on_join = [](client& c) {
      if (!c.joining || !c.join->answered()) return;
      c.joining = false;
      const auto& r = *c.join;
      if (r.error == E(errc::member_id_required)) {
        c.id = r.member_id;
      } else if (!r.error) {
        c.id = r.member_id;
        c.gen = r.generation;
        c.leads = r.leader == r.member_id;
        c.members.clear();
        for (const auto& m : r.members) c.members.push_back(m.member_id);
      } else if (r.error == E(errc::unknown_member_id) || r.error == E(errc::fenced_instance_id)) {
        c.id.clear();
        c.gen = -1;
      }
    };
    for (int step = 0; step < 1500; ++step) {
      client& c = clients[rnd(static_cast<uint32_t>(clients.size()))];
      switch (rnd(10)) {
        case 0:
        case 1: {
          const auto topics = rnd(4) == 0 ? std::vector<std::string>{"t", "u"} : std::vector<std::string>{"t"};
          auto r = jr("g", c.id, c.name, topics);
          r.group_instance_id = c.instance;
          r.require_known_member_id = rnd(5) != 0;
          r.supports_skip_assignment = rnd(2) == 0;
          r.rebalance_timeout = ms(10000 + 1000 * rnd(20));
          c.join = h.join(r);
          c.joining = true;
          joins.push_back(c.join);
          break;
        }
        case 2: {
          if (c.gen < 0) break;
          std::vector<std::pair<std::string, bytes>> a;
          if (c.leads)
            for (const auto& m : c.members) a.emplace_back(m, to_bytes(m));
          auto r = sr("g", c.id, c.gen, std::move(a));
          r.group_instance_id = c.instance;
          syncs.push_back(h.sync(r));
          break;
        }
        case 3:
          if (c.gen >= 0) (void)h.heartbeat("g", c.id, c.gen, c.instance);
          break;
        case 4:
          if (rnd(4) == 0) {
            (void)h.gc->leave(h.now(), "g", {{c.id, c.instance, ""}});
            c.id.clear();
            c.gen = -1;
          }
          break;
        case 5: {
          auto r = cr("g", c.id, c.gen, {{{"t", static_cast<int32_t>(rnd(3))}, off(step)}});
          r.group_instance_id = c.instance;
          commits.push_back(h.commit(r));
          break;
        }
        case 6:
        case 7:
          if (!h.store.queue.empty()) h.complete(rnd(6) == 0 ? E(errc::storage_error) : ok);
          break;
        case 8: h.advance(ms(rnd(12000))); break;
        case 9:
          if (rnd(8) == 0) {  // the process restarts: a dynamic member forgets its id
            if (!c.instance) c.id.clear();
            c.gen = -1;
          }
          break;
      }
      for (auto& cl : clients) on_join(cl);
      // At most one member per static instance.
      std::map<std::string, int> per_instance;
      for (const auto& m : h.gc->describe("g").members)
        if (m.group_instance_id) REQUIRE(++per_instance[*m.group_instance_id] == 1);
    }
    h.flush();
    h.gc->abandon_parked();
    for (const auto& s : joins) CHECK(s->got.size() == 1);
    for (const auto& s : syncs) CHECK(s->got.size() == 1);
    for (const auto& s : commits) CHECK(s->got.size() == 1);
    for (const auto& s : syncs) assigned += !(*s).error && !(*s).assignment.empty();
    for (const auto& s : commits) committed += !(*s)[0];
    for (const auto& s : joins) fenced += (*s).error == E(errc::fenced_instance_id);
    generations += h.gc->stats().rebalances;
    // What is durable replays to what the coordinator holds.
    harness r(test_config(), false);
    for (const auto& rec : h.store.durable) r.gc->load(rec);
    r.start();
    auto a = h.gc->fetch_offsets("g", std::nullopt, false);
    auto b = r.gc->fetch_offsets("g", std::nullopt, false);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].offset == b[i].offset);
  }
  // The walk reached the interesting places.
  CAPTURE(assigned, committed, fenced, generations);
  CHECK(assigned > 100);
  CHECK(committed > 100);
  CHECK(fenced > 0);
  CHECK(generations > 100);
}
