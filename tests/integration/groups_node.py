#!/usr/bin/python3
"""Node.js group consumers (kafkajs 2.2.4, @platformatic/kafka 1.35.0) against kairo.

The clients live in tests/integration/node (installed by scripts/setup-node.sh); each Node
script run below is a separate process given the bootstrap address, printing one
`@@EVENT {json}` line per event and one `@@RESULT {json}` at the end, which this script checks.

kafkajs (it speaks JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v3, OffsetCommit v5,
OffsetFetch v4, FindCoordinator v2, DescribeGroups v2, ListGroups v2, Fetch v11, Produce v7):
 1. its admin creates a 4-partition topic and its producer writes N keyed messages;
 2. two members of one group (consumer.run, one process): both get partitions (GROUP_JOIN),
    disjoint and covering the topic; every message is consumed exactly once across them; the
    committed offsets reach the end offsets; describeGroups says Stable with both members and
    their assignments, listGroups lists the group; then one member disconnects (LeaveGroup) and
    the other is handed every partition and alone consumes all M messages produced after that;
    after it disconnects too the group is Empty and its offsets are the end offsets;
 3. a fresh consumer in the same group (subscribed fromBeginning) reads nothing old: only the
    K messages produced after it joined;
 4. session expiry: two member processes, one SIGKILLed; after its session timeout the other
    owns every partition and reads what is produced next; when it is killed too the group
    expires to Empty.
@platformatic/kafka (JoinGroup v9, SyncGroup v5, Heartbeat v4, LeaveGroup v5, OffsetCommit v8,
OffsetFetch v8, FindCoordinator v4, ListOffsets v7, Produce v9, Metadata v12, and Fetch v13+:
it sends topic ids, and its Fetch v12 path writes the id where v12 wants the name):
 5. Admin creates a topic, Producer writes P messages, Consumer.consume() in a group reads them
    all with autocommit; after close a second consume in the same group reads exactly the Q
    messages produced since (resumes after the committed offsets), and kafkajs's admin sees
    the group Empty with offsets at the end offsets.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, step, wait_until  # noqa: E402
import kafka_wire as w  # noqa: E402

# KAIRO_IT_NODE_DIR: another copy of tests/integration/node (e.g. with other client versions).
NODE_DIR = os.environ.get("KAIRO_IT_NODE_DIR") or \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
KJ = os.path.join(NODE_DIR, "kafkajs_group.js")
PLT = os.path.join(NODE_DIR, "platformatic_group.mjs")

PARTITIONS = 4
N = 400            # phase 1/2, before the takeover
M = 120            # phase 2, after the takeover
K = 60             # phase 3
EXPIRY_MORE = 40   # phase 4
P, Q = 300, 50     # phase 5
TOPIC = "node-groups"
GROUP = "node-kafkajs"
EXPIRY_GROUP = "node-kafkajs-expiry"
PLT_TOPIC = "node-platformatic"
PLT_GROUP = "node-platformatic"
PROC_TIMEOUT_S = 45
EXPIRY_SESSION_MS = 2000  # the server is started with a 1 s minimum session timeout

KAIRO_ARGS = ["--group-initial-rebalance-delay-ms", "1000",
              "--group-min-session-timeout-ms", "1000",
              "--auto-create-topics", "false"]


def node_bin():
    node = shutil.which("node")
    check(node is not None, "node is not on PATH; install Node.js >= 20.19.4")
    check(os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kafkajs")) and
          os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@platformatic", "kafka")),
          f"{NODE_DIR}/node_modules lacks kafkajs or @platformatic/kafka; run scripts/setup-node.sh")
    return node


def parse_events(stdout):
    events = []
    for line in stdout.splitlines():
        if line.startswith("@@") and " " in line:
            tag, _, payload = line[2:].partition(" ")
            if tag == "FAIL":
                events.append(("FAIL", payload))
            else:
                events.append((tag, json.loads(payload)))
    return events


def tail(text, n=40):
    lines = text.splitlines()
    return "\n".join(lines[-n:])


def show_output(what, stdout, stderr):
    print(f"   ---- {what} stdout (tail) ----\n{tail(stdout)}\n"
          f"   ---- {what} stderr (tail) ----\n{tail(stderr)}\n   ----", flush=True)


def run_node(server, args, what, timeout=PROC_TIMEOUT_S, env=None):
    """Run one Node script to completion; return (result_json, events). Fails on @@FAIL, a
    non-zero exit, a missing RESULT, or the timeout, printing the client's own output."""
    cmd = [node_bin()] + args
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=NODE_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        show_output(what, e.stdout or "", e.stderr or "")
        raise TestFailure(f"{what}: node did not finish within {timeout} s")
    events = parse_events(p.stdout)
    fails = [e[1] for e in events if e[0] == "FAIL"]
    results = [e[1] for e in events if e[0] == "RESULT"]
    if fails or p.returncode != 0 or len(results) != 1:
        show_output(what, p.stdout, p.stderr)
        server.assert_alive()
        raise TestFailure(f"{what}: " + (fails[0] if fails else
                          f"node exited with code {p.returncode} and {len(results)} RESULT lines"))
    print(f"   {what}: node ran {time.monotonic() - t0:.1f} s", flush=True)
    return results[0], events


def fetch_max_version(server):
    c = w.Conn(server.port)
    try:
        c.send(w.api_versions_request(1, 3))
        _, err, apis, _ = w.parse_api_versions_v3(c.recv_frame())
    finally:
        c.close()
    check_eq(err, 0, "ApiVersions v3 error code")
    return apis.get(1, (0, -1))[1]


def keyed(records):
    """records: [partition, offset, key] -> {key: [(partition, offset), ...]}"""
    out = {}
    for p, o, k in records:
        out.setdefault(k, []).append((p, o))
    return out


def check_exactly_once(records, expected_keys, what):
    by_key = keyed(records)
    dups = {k: v for k, v in by_key.items() if len(v) > 1}
    check(not dups, f"{what}: {len(dups)} keys consumed more than once, e.g. "
          f"{next(iter(dups.items())) if dups else None}")
    missing = set(expected_keys) - set(by_key)
    extra = set(by_key) - set(expected_keys)
    check(not missing, f"{what}: {len(missing)} of {len(expected_keys)} keys never consumed, "
          f"e.g. {sorted(missing)[:5]}")
    check(not extra, f"{what}: {len(extra)} unexpected keys consumed, e.g. {sorted(extra)[:5]}")
    pairs = [(p, o) for p, o, _ in records]
    check_eq(len(set(pairs)), len(pairs), f"{what}: distinct (partition, offset) pairs")


def int_keys(d):
    return {int(k): v for k, v in d.items()}


def check_describe(d, state, member_ids, what, assignments=None):
    check_eq(d["errorCode"], 0, f"{what}: describeGroups error code")
    check_eq(d["state"], state, f"{what}: describeGroups state")
    check_eq(d["protocolType"], "consumer", f"{what}: describeGroups protocolType")
    got = sorted(m["memberId"] for m in d["members"])
    check_eq(got, sorted(member_ids), f"{what}: describeGroups member ids")
    if assignments is not None:
        got_a = {m["memberId"]: m["assignment"] for m in d["members"]}
        check_eq(got_a, assignments, f"{what}: describeGroups member assignments")


class NodeMember:
    """A long-running `kafkajs_group.js member` process whose @@ lines are read by a thread."""

    def __init__(self, server, group, client_id, session_ms):
        env = dict(os.environ, KAIRO_IT_SESSION_TIMEOUT_MS=str(session_ms))
        self.name = client_id
        self.lines = []
        self.err_lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([node_bin(), KJ, server.bootstrap, "member", TOPIC, group,
                                      client_id], cwd=NODE_DIR, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        self.threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines),
                                         daemon=True),
                        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err_lines),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def _pump(self, stream, into):
        for line in stream:
            with self.lock:
                into.append(line.rstrip("\n"))

    def events(self):
        with self.lock:
            return parse_events("\n".join(self.lines))

    def joins(self):
        return [e for t, e in self.events() if t == "JOIN"]

    def count(self):
        counts = [e["count"] for t, e in self.events() if t == "COUNT"]
        return counts[-1] if counts else 0

    def check_healthy(self):
        bad = [e for t, e in self.events() if t in ("CRASH", "FAIL")]
        if bad or self.proc.poll() is not None:
            self.dump()
            raise TestFailure(f"member {self.name}: " + (str(bad[0]) if bad else
                              f"exited with code {self.proc.poll()}"))

    def dump(self):
        with self.lock:
            show_output(f"member {self.name}", "\n".join(self.lines), "\n".join(self.err_lines))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def healthy(members):
    for m in members:
        m.check_healthy()
    return True


def last_assignment(join):
    return sorted(join["assignment"].get(TOPIC, []))


def test(server):
    boot = server.bootstrap
    all_parts = list(range(PARTITIONS))

    with step(f"kafkajs admin creates {TOPIC} ({PARTITIONS} partitions); producer writes {N} "
              "keyed messages"):
        res, _ = run_node(server, [KJ, boot, "produce", TOPIC, str(PARTITIONS), str(N), "msg"],
                          "kafkajs produce")
        check(res["created"] is True, f"createTopics returned {res['created']!r}, expected true")
        check(all(a["errorCode"] == 0 for a in res["acks"]), f"produce acks with errors: {res['acks']}")
        ends0 = int_keys(res["endOffsets"])
        check_eq(sorted(ends0), all_parts, "partitions with end offsets")
        check_eq(sum(ends0.values()), N, "sum of end offsets after producing")
        check(all(v > 0 for v in ends0.values()), f"some partition got no message: {ends0}")
        print(f"   end offsets {ends0}")

    with step(f"kafkajs: two members of {GROUP} share the topic, then one leaves and the other "
              f"takes over all partitions and {M} new messages"):
        r, _ = run_node(server, [KJ, boot, "two-members", TOPIC, GROUP, str(N), str(M)],
                        "kafkajs two-members", timeout=60)
        a, b = r["members"]
        for m in (a, b):
            check(not m["crashes"], f"member {m['name']} crashed: {m['crashes']}")
        check_eq(len(b["joins"]), 1, "GROUP_JOIN events of member B (it never rebalanced)")
        check_eq(len(a["joins"]), 2, "GROUP_JOIN events of member A (first generation, takeover)")
        a_first, b_first = last_assignment(a["joins"][0]), last_assignment(b["joins"][0])
        print(f"   first generation: A {a_first}, B {b_first} "
              f"(leader {'A' if a['joins'][0]['isLeader'] else 'B'})")
        check(a_first and b_first, "both members must get partitions in the first generation")
        check(not set(a_first) & set(b_first), f"assignments overlap: A {a_first}, B {b_first}")
        check_eq(sorted(a_first + b_first), all_parts, "union of the two members' partitions")
        check_eq(sum(j["isLeader"] for j in (a["joins"][0], b["joins"][0])), 1,
                 "number of leaders in the first generation")

        counts = r["countsBeforeTakeover"]
        before_a, before_b = a["records"][:counts["A"]], b["records"]
        check_eq(len(b["records"]), counts["B"], "records of B after it left")
        check_exactly_once(before_a + before_b, [f"msg-{i:05d}" for i in range(N)],
                           "messages before the takeover, across both members")
        for name, recs, parts in (("A", before_a, a_first), ("B", before_b, b_first)):
            stray = sorted({p for p, _, _ in recs} - set(parts))
            check(not stray, f"member {name} consumed partitions {stray} it was not assigned")
        print(f"   consumed before takeover: A {counts['A']}, B {counts['B']}")

        ends1 = int_keys(r["endOffsetsBefore"])
        check_eq(ends1, ends0, "end offsets before the takeover")
        check_eq(int_keys(r["committedBoth"]), ends1, "committed offsets after both members read all")
        check_describe(r["describeBoth"], "Stable", [a["memberId"], b["memberId"]],
                       "while both members run",
                       {a["memberId"]: a_first, b["memberId"]: b_first})
        check_eq(r["describeBoth"]["protocol"], "RoundRobinAssigner", "describeGroups protocol")
        listed = {g["groupId"]: g["protocolType"] for g in r["listBoth"]}
        check_eq(listed.get(GROUP), "consumer", f"listGroups entry of {GROUP} (got {listed})")

        check_eq(last_assignment(a["joins"][1]), all_parts, "A's partitions after B left")
        check_describe(r["describeOne"], "Stable", [a["memberId"]], "after B left",
                       {a["memberId"]: all_parts})
        after_a = a["records"][counts["A"]:]
        check_exactly_once(after_a, r["afterKeys"], "messages produced after B left (all read by A)")
        ends2 = int_keys(r["endOffsetsAfter"])
        check_eq(sum(ends2.values()), N + M, "sum of end offsets after the takeover phase")
        check_describe(r["describeStableOne"], "Stable", [a["memberId"]], "A alone, caught up")
        check_describe(r["describeEmpty"], "Empty", [], "after both members left")
        check_eq(int_keys(r["committedFinal"]), ends2, "committed offsets after both members left")
        listed = {g["groupId"]: g["protocolType"] for g in r["listFinal"]}
        check_eq(listed.get(GROUP), "consumer", f"listGroups entry of the Empty group (got {listed})")

    with step(f"kafkajs: a fresh consumer in {GROUP} (fromBeginning) reads only the {K} messages "
              "produced after it joined"):
        r, _ = run_node(server, [KJ, boot, "resume", TOPIC, GROUP, str(K)], "kafkajs resume")
        c = r["member"]
        check(not c["crashes"], f"fresh consumer crashed: {c['crashes']}")
        check_eq(int_keys(r["committedBefore"]), ends2, "committed offsets the fresh consumer found")
        old = [rec for rec in c["records"] if not rec[2].startswith("resume-")]
        check(not old, f"the fresh consumer re-read {len(old)} old messages, e.g. {old[:3]} "
              f"(committed offsets {ends2})")
        check_exactly_once(c["records"], r["newKeys"], "messages read by the fresh consumer")
        for p, o, _ in c["records"]:
            check(o >= ends2[p], f"fresh consumer read offset {o} of partition {p}, below the "
                  f"committed {ends2[p]}")
        check_eq(last_assignment(c["joins"][0]), all_parts, "fresh consumer's partitions")
        check_describe(r["describeRunning"], "Stable", [c["memberId"]], "fresh consumer running")
        ends3 = int_keys(r["endOffsets"])
        check_eq(sum(ends3.values()), N + M + K, "sum of end offsets after the resume phase")
        check_eq(int_keys(r["committedAfter"]), ends3, "committed offsets after the fresh consumer")
        check_describe(r["describeEmpty"], "Empty", [], "after the fresh consumer left")

    total3 = N + M + K
    with step(f"kafkajs session expiry: two member processes in {EXPIRY_GROUP} "
              f"(session {EXPIRY_SESSION_MS} ms); SIGKILL one, the other takes every partition"):
        m1 = NodeMember(server, EXPIRY_GROUP, "m1", EXPIRY_SESSION_MS)
        m2 = NodeMember(server, EXPIRY_GROUP, "m2", EXPIRY_SESSION_MS)
        members = (m1, m2)
        try:
            def both_assigned():
                healthy(members)
                j1, j2 = m1.joins(), m2.joins()
                if not j1 or not j2:
                    return False
                a1, a2 = last_assignment(j1[-1]), last_assignment(j2[-1])
                return bool(a1) and bool(a2) and sorted(a1 + a2) == all_parts
            wait_until(both_assigned, 20, 0.05, "both member processes to hold disjoint partitions")
            wait_until(lambda: healthy(members) and m1.count() + m2.count() >= total3, 20, 0.05,
                       f"the two processes to read all {total3} messages")
            check_eq(m1.count() + m2.count(), total3, "messages read by m1 and m2 together")

            def all_committed():
                res, _ = run_node(server, [KJ, boot, "admin", EXPIRY_GROUP, TOPIC], "kafkajs admin")
                return healthy(members) and res["committed"] == res["endOffsets"]
            # Otherwise m1 would rightly re-read what m2 read but had not committed yet.
            wait_until(all_committed, 10, 0.2, f"{EXPIRY_GROUP}'s offsets to reach the end offsets")
            print(f"   m1 {last_assignment(m1.joins()[-1])} read {m1.count()}, "
                  f"m2 {last_assignment(m2.joins()[-1])} read {m2.count()}")
            joins_before = len(m1.joins())
            t_kill = time.monotonic()
            m2.kill()
            wait_until(lambda: healthy([m1]) and len(m1.joins()) > joins_before and
                       last_assignment(m1.joins()[-1]) == all_parts,
                       EXPIRY_SESSION_MS / 1000 + 12, 0.05,
                       "m1 to own every partition after m2's session expired")
            took = time.monotonic() - t_kill
            print(f"   m1 owns {all_parts} {took:.1f} s after m2 was killed")
            # The session runs from m2's last heartbeat, up to one interval (300 ms) before the kill.
            check(took >= EXPIRY_SESSION_MS / 1000 - 0.6,
                  f"m1 was handed m2's partitions {took:.1f} s after the SIGKILL, before m2's "
                  f"{EXPIRY_SESSION_MS} ms session could expire")
            res, _ = run_node(server, [KJ, boot, "admin", EXPIRY_GROUP, TOPIC], "kafkajs admin")
            m1_id = m1.joins()[-1]["memberId"]
            check_describe(res["describe"], "Stable", [m1_id], "after m2 expired",
                           {m1_id: all_parts})
            before = m1.count()
            # Messages produced now must all reach m1, on top of what it had read.
            run_node(server, [KJ, boot, "produce-only", TOPIC, str(EXPIRY_MORE), "expiry"],
                     "kafkajs produce-only")
            wait_until(lambda: healthy([m1]) and m1.count() >= before + EXPIRY_MORE, 15, 0.05,
                       f"m1 to read the {EXPIRY_MORE} messages produced after m2 died")
            time.sleep(0.5)
            check_eq(m1.count() - before, EXPIRY_MORE, "messages m1 read after m2 died")
            t_kill = time.monotonic()
            m1.kill()
        except BaseException:
            for m in members:
                m.dump()
            raise
        finally:
            for m in members:
                m.kill()

        def expired_empty():
            res, _ = run_node(server, [KJ, boot, "admin", EXPIRY_GROUP, TOPIC], "kafkajs admin")
            return res["describe"]["state"] == "Empty" and not res["describe"]["members"]
        wait_until(expired_empty, EXPIRY_SESSION_MS / 1000 + 12, 0.3,
                   f"{EXPIRY_GROUP} to be Empty after the last member's session expired")
        print(f"   {EXPIRY_GROUP} Empty {time.monotonic() - t_kill:.1f} s after m1 was killed")

    with step(f"@platformatic/kafka: Producer writes {P}, Consumer.consume() in {PLT_GROUP} reads "
              f"them with autocommit; after close a second consume reads exactly the {Q} new ones"):
        fetch_max = fetch_max_version(server)
        try:
            r, _ = run_node(server, [PLT, boot, PLT_TOPIC, "3", PLT_GROUP, str(P), str(Q)],
                            "platformatic group")
        except TestFailure as e:
            if fetch_max < 13:
                raise TestFailure(
                    f"{e}\n   (kairo's ApiVersions offers Fetch up to v{fetch_max}; @platformatic/kafka "
                    "fetches by topic id, and its Fetch v12 encoder puts the topic id string in v12's "
                    "topic-name field, so kairo rightly answers UNKNOWN_TOPIC_OR_PARTITION. Kafka "
                    "3.1+ offers Fetch v13, where topics are named by id.)") from None
            raise
        check_eq(r["metadataPartitions"], 3, f"partitions of {PLT_TOPIC} in platformatic's metadata")
        first, second = r["first"], r["second"]
        check(first["joins"] and second["joins"], "both consumers must report a group join")
        check_exactly_once(first["records"], r["firstKeys"], "platformatic first consume")
        check_exactly_once(second["records"], r["newKeys"],
                           "platformatic second consume (must resume after the committed offsets)")
        res, _ = run_node(server, [KJ, boot, "admin", PLT_GROUP, PLT_TOPIC], "kafkajs admin")
        ends = int_keys(res["endOffsets"])
        check_eq(sum(ends.values()), P + Q, f"sum of end offsets of {PLT_TOPIC}")
        check_eq(int_keys(res["committed"]), ends,
                 f"offsets of {PLT_GROUP} as kafkajs's admin reads them")
        check_describe(res["describe"], "Empty", [], f"{PLT_GROUP} after both consumers closed")
        listed = {g["groupId"]: g["protocolType"] for g in res["list"]}
        for g in (GROUP, EXPIRY_GROUP, PLT_GROUP):
            check_eq(listed.get(g), "consumer", f"listGroups entry of {g} (got {listed})")


if __name__ == "__main__":
    harness.run(test, extra_args=KAIRO_ARGS, budget_s=110, name="groups-node",
                description=__doc__)
