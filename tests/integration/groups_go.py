#!/usr/bin/python3
"""Go clients from Debian as consumer-group members (and producers) against kairo.

Sarama 1.22.1 (golang-github-shopify-sarama-dev) and kafka-go 0.2.1
(golang-github-segmentio-kafka-go-dev) are built offline in GOPATH mode from
tests/integration/go/*.go (or taken prebuilt from --go-bin DIR / $KAIRO_IT_GO_BIN), and each
run is a separate process printing one JSON line per event.

Sarama (config.Version 2.0.0: JoinGroup v1, SyncGroup v0, Heartbeat v0, LeaveGroup v0,
OffsetCommit v1, OffsetFetch v1, FindCoordinator v0, Produce v3, Fetch v4):
 1. two ConsumerGroup members (two processes) share a 4-partition topic: disjoint claims
    covering every partition, then a SyncProducer's N messages are consumed exactly once
    across them, and after they leave the committed offsets are the end offsets (asked by
    Sarama's OffsetFetch and by librdkafka's);
 2. kairo restarts; M more messages; a fresh member reads exactly those M;
 3. members join and leave while a producer streams: still exactly once across the
    rebalances (commits made while the group prepares a rebalance must count);
 4. a member is SIGKILLed: after its session timeout the survivor owns every partition and
    nothing is lost (redelivery only on the dead member's partitions, after its last commit).
kafka-go:
 5. a Reader with GroupID joins the group of (2): it resumes from the offsets Sarama committed
    (OffsetFetch v1), commits earlier ones with CommitMessages (OffsetCommit v2), and a fresh
    Sarama member then reads exactly the messages after those;
 5b. kafka-go's RetentionTime (OffsetCommit v2 retention_time_ms) makes offsets of a group
    that became empty expire, and the group is then removed;
 6. Writer + Reader data path (Produce v2 / Fetch v2, MessageSet magic 1): run only when the
    server's ApiVersions offers those versions (kairo serves Produce v3+ and Fetch v4+).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, step, wait_until  # noqa: E402
import kafka_wire as w  # noqa: E402

GO_SRC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go")
PROGRAMS = ("sarama_group", "kafkago_group")
PARTITIONS = 4
N = 2_000          # phase 1
M = 300            # phase 2
STREAM = 1_500     # phase 3
KILL_STREAM = 1_500  # phase 4
REWIND = 40        # phase 5: kafka-go commits end - REWIND on every partition
PROC_TIMEOUT_S = 40
SESSION_TIMEOUT = "2s"  # phases 4/5; the server is started with a 1 s minimum

KAIRO_ARGS = ["--group-initial-rebalance-delay-ms", "300",
              "--group-min-session-timeout-ms", "1000",
              # Only offsets committed with an explicit retention (phase 5b) can expire this
              # fast; Sarama's commits carry none and fall under the 7-day default.
              "--offsets-retention-check-interval-ms", "200"]


def _take_go_bin_arg():
    """--go-bin DIR is ours, not the harness's: take it out of argv before harness.run."""
    go_bin = os.environ.get("KAIRO_IT_GO_BIN")
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == "--go-bin" and i + 1 < len(argv):
            go_bin = argv[i + 1]
            del sys.argv[i + 1:i + 3]
            break
        if a.startswith("--go-bin="):
            go_bin = a.split("=", 1)[1]
            del sys.argv[i + 1]
            break
    return go_bin


GO_BIN = _take_go_bin_arg()


class GoProc:
    """One Go client process: stdout JSON lines collected by a thread, stderr to a file."""

    def __init__(self, binary, args, name, log_dir):
        self.name = name
        self.cmd = [binary] + args
        self.err_path = os.path.join(log_dir, f"{name}.stderr")
        self.out_path = os.path.join(log_dir, f"{name}.stdout")
        self.lines = []
        self.lock = threading.Lock()
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with open(self.out_path, "wb") as out:
            for raw in self.proc.stdout:
                out.write(raw)
                out.flush()
                try:
                    ev = json.loads(raw)
                except ValueError:
                    ev = {"event": "raw", "line": raw.decode("utf-8", "replace")}
                with self.lock:
                    self.lines.append(ev)

    def events(self, kind=None):
        with self.lock:
            return [e for e in self.lines if kind is None or e.get("event") == kind]

    def messages(self):
        return self.events("message")

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise TestFailure(f"{self.name} did not exit within {timeout:.0f} s; killed it"
                              f"{self.diagnostics()}")
        self.reader.join(timeout=10)
        return rc

    def stop(self, timeout=20):
        """SIGTERM (the programs leave the group and commit), then exit code 0."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        check_eq(rc, 0, f"{self.name} exit code after SIGTERM{self.diagnostics()}")
        return self.summary()

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=10)

    def summary(self):
        s = self.events("summary")
        check(len(s) == 1, f"{self.name} printed {len(s)} summary lines{self.diagnostics()}")
        return s[0]

    def diagnostics(self):
        bad = [e for e in self.events() if e.get("event") in
               ("error", "fatal", "consume_error", "commit_error", "produce_error", "raw")]
        tail = ""
        try:
            with open(self.err_path, "rb") as f:
                tail = f.read()[-1500:].decode("utf-8", "replace")
        except OSError:
            pass
        return (f"\n   [{self.name}] error events: {bad[:5]}"
                f"\n   [{self.name}] stderr tail: {tail.strip() or '(empty)'}"
                f"\n   [{self.name}] stdout: {self.out_path}")


class Go:
    """Builds (or finds) the programs and starts them against one server."""

    def __init__(self, server):
        self.server = server
        self.dir = os.path.join(server.tmp, "go")
        os.makedirs(self.dir, exist_ok=True)
        self.bin = {}
        self.count = 0

    def build(self):
        if GO_BIN:
            for p in PROGRAMS:
                path = os.path.join(GO_BIN, p)
                check(os.path.isfile(path) and os.access(path, os.X_OK),
                      f"--go-bin {GO_BIN}: {p} is missing or not executable")
                self.bin[p] = path
            print(f"   prebuilt binaries from {GO_BIN}")
            return
        go = shutil.which("go")
        check(go is not None, "the `go` command is missing: install Debian's golang-go, "
              "golang-github-shopify-sarama-dev and golang-github-segmentio-kafka-go-dev "
              "(scripts/setup.sh), or pass --go-bin DIR with prebuilt binaries")
        env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
                   GOCACHE=os.path.join(self.dir, "cache"), GOFLAGS="", CGO_ENABLED="1")
        procs = {}
        for p in PROGRAMS:
            out = os.path.join(self.dir, p)
            log = open(os.path.join(self.dir, f"build-{p}.log"), "wb")
            procs[p] = (subprocess.Popen([go, "build", "-o", out, f"{p}.go"], cwd=GO_SRC_DIR,
                                         env=env, stdout=log, stderr=subprocess.STDOUT), out, log)
        for p, (proc, out, log) in procs.items():
            try:
                rc = proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise TestFailure(f"go build {p}.go took more than 90 s")
            log.close()
            if rc != 0:
                with open(log.name, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                raise TestFailure(f"go build {p}.go failed (exit {rc}):\n{text[-3000:]}")
            self.bin[p] = out

    def start(self, program, name, *args):
        self.count += 1
        full = ["-bootstrap", self.server.bootstrap, "-member", name,
                "-timeout", f"{PROC_TIMEOUT_S}s"] + [str(a) for a in args]
        return GoProc(self.bin[program], full, f"{self.count:02d}-{name}", self.dir)

    def run(self, program, name, *args, timeout=PROC_TIMEOUT_S + 10):
        """Start, wait, require exit code 0; returns the GoProc."""
        p = self.start(program, name, *args)
        rc = p.wait(timeout)
        check_eq(rc, 0, f"{p.name} exit code{p.diagnostics()}")
        return p

    def sarama(self, name, *args):
        return self.start("sarama_group", name, *args)

    def produce(self, topic, start, count, *extra):
        """Sarama SyncProducer; returns {(partition, offset): index}."""
        p = self.run("sarama_group", f"produce-{topic}-{start}", "-mode", "produce", "-topic", topic,
                     "-start", start, "-count", count, *extra, timeout=PROC_TIMEOUT_S + 10)
        acked = {}
        for e in p.events("produced"):
            po = (e["partition"], e["offset"])
            check(po not in acked, f"{topic}: offset {po} acknowledged twice")
            acked[po] = e["index"]
        check_eq(len(acked), count, f"{topic}: acknowledged messages")
        check_eq(sorted(acked.values()), list(range(start, start + count)), f"{topic}: acked indexes")
        return acked

    def describe(self, topic, group):
        p = self.run("sarama_group", f"describe-{group}", "-mode", "describe", "-topic", topic,
                     "-group", group, "-partitions", PARTITIONS)
        groups = p.events("group")
        check_eq(len(groups), 1, f"DescribeGroups answers for {group}")
        committed, metadata = {}, {}
        for e in p.events("committed"):
            check(not e.get("missing"), f"OffsetFetch: no answer for partition {e['partition']}")
            check_eq(e["error_code"], 0, f"OffsetFetch error for partition {e['partition']}")
            committed[e["partition"]] = e["offset"]
            metadata[e["partition"]] = e["metadata"]
        return (groups[0], p.events("group_member"), p.events("groups")[0]["groups"], committed,
                metadata)


def end_offsets(*acked_maps):
    ends = {p: 0 for p in range(PARTITIONS)}
    for acked in acked_maps:
        for (p, o) in acked:
            ends[p] = max(ends[p], o + 1)
    return ends


def consumed_map(procs, what):
    """(partition, offset) -> (member, value); fails on any duplicate."""
    got = {}
    for p in procs:
        for m in p.messages():
            po = (m["partition"], m["offset"])
            if po in got:
                raise TestFailure(f"{what}: {po} delivered twice (to {got[po][0]} and "
                                  f"{m['member']}) — not exactly once")
            got[po] = (m["member"], m["value"])
    return got


def check_values(got, acked, prefix, what):
    for po, (_, value) in got.items():
        check(po in acked, f"{what}: consumed {po} which no producer acknowledged")
        check_eq(value, f"{prefix}-{acked[po]}", f"{what}: value at {po}")


def latest_setup(proc):
    s = proc.events("setup")
    return s[-1] if s else None


def wait_stable_pair(a, b, topic, timeout=20):
    """Both members report a session of the same generation whose claims split the topic."""
    def ok():
        sa, sb = latest_setup(a), latest_setup(b)
        if not sa or not sb or sa["generation"] != sb["generation"]:
            return False
        ca, cb = sa["claims"].get(topic) or [], sb["claims"].get(topic) or []
        return ca and cb and sorted(ca + cb) == list(range(PARTITIONS))
    wait_until(ok, timeout, 0.05, f"{a.name} and {b.name} to share one generation with "
               f"disjoint claims covering {PARTITIONS} partitions")
    return latest_setup(a), latest_setup(b)


def check_no_errors(*procs):
    for p in procs:
        s = p.summary()
        check_eq(s.get("errors"), 0, f"{p.name}: errors reported by the client{p.diagnostics()}")
        check("close_error" not in s, f"{p.name}: Close() failed: {s.get('close_error')}")


def ck_committed(server, group, topic):
    import confluent_kafka as ck
    c = harness.ck_consumer(server.bootstrap, {"group.id": group})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
    finally:
        c.close()
    return {tp.partition: tp.offset for tp in tps}


def api_versions(server):
    c = w.Conn(server.port)
    try:
        c.send(w.api_versions_request(1, 0))
        _, err, apis = w.parse_api_versions_v0(c.recv_frame())
    finally:
        c.close()
    check_eq(err, 0, "ApiVersions v0 error code")
    return apis


def test(server):
    go = Go(server)
    with step("build the Go programs (GOPATH mode, Debian's Sarama 1.22.1 and kafka-go 0.2.1)"):
        t0 = time.monotonic()
        go.build()
        print(f"   built in {time.monotonic() - t0:.1f} s: {', '.join(go.bin.values())}")

    topic, grp = "sarama-orders", "sarama-billing"
    with step(f"Sarama ClusterAdmin: create {topic} with {PARTITIONS} partitions"):
        go.run("sarama_group", "create", "-mode", "create", "-topic", topic,
               "-partitions", PARTITIONS)

    with step("Sarama: two ConsumerGroup members (two processes) join and split the partitions"):
        a = go.sarama("a", "-topic", topic, "-group", grp)
        b = go.sarama("b", "-topic", topic, "-group", grp)
        sa, sb = wait_stable_pair(a, b, topic)
        print(f"   generation {sa['generation']}: a {sa['claims'][topic]}, b {sb['claims'][topic]}")

    with step(f"Sarama SyncProducer (acks=all, not idempotent): {N} keyed messages"):
        acked1 = go.produce(topic, 0, N)
        counts = harness.contiguous_offsets(acked1.keys(), "producer acknowledgements")
        print(f"   per partition: {dict(sorted(counts.items()))}")

    with step(f"both members together consume all {N} exactly once, each from its own claims"):
        wait_until(lambda: len(a.messages()) + len(b.messages()) >= N, 30, 0.1,
                   f"{N} messages across a and b")
        time.sleep(0.5)  # anything beyond N would show up now
        got = consumed_map([a, b], "two members")
        check_eq(len(got), N, "messages consumed across a and b")
        check_values(got, acked1, "v", "two members")
        for proc, setup in ((a, sa), (b, sb)):
            check_eq(latest_setup(proc)["generation"], setup["generation"],
                     f"{proc.name}'s generation (no rebalance while consuming)")
            own = set(setup["claims"][topic])
            parts = {m["partition"] for m in proc.messages()}
            check(parts <= own, f"{proc.name} consumed partitions {sorted(parts)} outside its "
                  f"claims {sorted(own)}")
            check(proc.messages(), f"{proc.name} consumed nothing")
        print(f"   a consumed {len(a.messages())}, b {len(b.messages())}")

    ends1 = end_offsets(acked1)
    with step("SIGTERM both: they commit and leave; group Empty, committed = end offsets "
              "(Sarama OffsetFetch v1 and librdkafka agree)"):
        a.stop()
        b.stop()
        check_no_errors(a, b)
        g, members, groups, committed, _ = go.describe(topic, grp)
        check_eq(groups.get(grp), "consumer", f"ListGroups protocol type of {grp}")
        check_eq(g["error_code"], 0, "DescribeGroups error code")
        check_eq(g["state"], "Empty", f"state of {grp} after both left")
        check_eq(members, [], f"members of {grp} after both left")
        check_eq(committed, ends1, "committed offsets (Sarama) vs end offsets")
        check_eq(ck_committed(server, grp, topic), ends1, "committed offsets (librdkafka)")

    with step("restart kairo (SIGTERM, exit 0): the committed offsets are durable"):
        server.restart()
        committed = go.describe(topic, grp)[3]
        check_eq(committed, ends1, "committed offsets after restart")

    meta = "c@kairo-it/\u00e9\u2713"  # non-ASCII: the metadata string is UTF-8 on the wire
    with step(f"{M} more messages; a fresh member of the group reads exactly those and commits "
              "with a metadata string"):
        acked2 = go.produce(topic, N, M)
        c = go.sarama("c", "-topic", topic, "-group", grp, "-count", M, "-grace", "1.5s",
                      "-metadata", meta)
        rc = c.wait(PROC_TIMEOUT_S + 10)
        check_eq(rc, 0, f"{c.name} exit code{c.diagnostics()}")
        check_no_errors(c)
        got = consumed_map([c], "fresh member")
        check_eq(len(got), M, "messages the fresh member read")
        check_values(got, acked2, "v", "fresh member")
        for e in c.events("claim"):
            check_eq(e["initial_offset"], ends1[e["partition"]],
                     f"fresh member's start offset on partition {e['partition']}")
        ends2 = end_offsets(acked1, acked2)
        _, _, _, committed, metadata = go.describe(topic, grp)
        check_eq(committed, ends2, "committed offsets after the fresh member")
        check_eq(metadata, {p: meta for p in range(PARTITIONS)}, "committed metadata strings")

    with step(f"rebalances under load: members join and leave while {STREAM} messages stream in; "
              "still exactly once"):
        t2, g2 = "sarama-stream", "sarama-stream-group"
        go.run("sarama_group", "create2", "-mode", "create", "-topic", t2, "-partitions", PARTITIONS)
        r1 = go.sarama("r1", "-topic", t2, "-group", g2)
        wait_until(lambda: latest_setup(r1) is not None, 15, 0.05, "r1's first session")
        prod = go.start("sarama_group", "stream-producer", "-mode", "produce", "-topic", t2,
                        "-count", STREAM, "-batch", 30, "-pause", "80ms", "-prefix", "s")
        wait_until(lambda: len(prod.events("produced")) >= STREAM // 5, 20, 0.05, "streaming to start")
        r2 = go.sarama("r2", "-topic", t2, "-group", g2)
        wait_until(lambda: latest_setup(r2) is not None and r2.messages(), 20, 0.05,
                   "r2 to get partitions and messages")
        r2.stop()
        r3 = go.sarama("r3", "-topic", t2, "-group", g2)
        wait_until(lambda: latest_setup(r3) is not None, 20, 0.05, "r3's first session")
        check_eq(prod.wait(PROC_TIMEOUT_S + 10), 0, f"stream producer exit code{prod.diagnostics()}")
        acked3 = {}
        for e in prod.events("produced"):
            acked3[(e["partition"], e["offset"])] = e["index"]
        check_eq(len(acked3), STREAM, "streamed messages acknowledged")
        wait_until(lambda: sum(len(p.messages()) for p in (r1, r2, r3)) >= STREAM, 30, 0.1,
                   f"{STREAM} streamed messages across r1, r2, r3")
        time.sleep(0.5)
        r1.stop()
        r3.stop()
        check_no_errors(r1, r2, r3)
        got = consumed_map([r1, r2, r3], "rebalances under load")
        check_eq(len(got), STREAM, "streamed messages consumed")
        check_values(got, acked3, "s", "rebalances under load")
        gens = sorted({e["generation"] for p in (r1, r2, r3) for e in p.events("setup")})
        # r1; r1+r2; then r1+r3 (r3 may join while the group still rebalances after r2 left).
        check(len(gens) >= 3, f"expected at least 3 generations (r1, +r2, -r2/+r3), saw {gens}")
        print(f"   generations {gens}; r1 {len(r1.messages())}, r2 {len(r2.messages())}, "
              f"r3 {len(r3.messages())}")
        check_eq(go.describe(t2, g2)[3], end_offsets(acked3), f"committed offsets of {g2}")

    with step(f"a member is SIGKILLed: after its {SESSION_TIMEOUT} session timeout the survivor "
              "owns every partition; nothing lost"):
        t4, g4 = "sarama-crash", "sarama-crash-group"
        go.run("sarama_group", "create4", "-mode", "create", "-topic", t4, "-partitions", PARTITIONS)
        k1 = go.sarama("k1", "-topic", t4, "-group", g4, "-session-timeout", SESSION_TIMEOUT)
        k2 = go.sarama("k2", "-topic", t4, "-group", g4, "-session-timeout", SESSION_TIMEOUT)
        _, s2 = wait_stable_pair(k1, k2, t4)
        prod = go.start("sarama_group", "crash-producer", "-mode", "produce", "-topic", t4,
                        "-count", KILL_STREAM, "-batch", 30, "-pause", "40ms", "-prefix", "x")
        wait_until(lambda: len(k2.messages()) >= 50, 20, 0.05, "k2 to consume some messages")
        k2.kill()
        killed_at = time.monotonic()
        wait_until(lambda: sorted((latest_setup(k1)["claims"].get(t4) or [])) == list(range(PARTITIONS)),
                   15, 0.05, "k1 to own every partition after k2's session expired")
        took = time.monotonic() - killed_at
        print(f"   k1 owns all partitions {took:.1f} s after the SIGKILL")
        check(took < 8, f"takeover took {took:.1f} s; the session timeout is {SESSION_TIMEOUT}")
        check_eq(prod.wait(PROC_TIMEOUT_S + 10), 0, f"crash producer exit code{prod.diagnostics()}")
        acked4 = {(e["partition"], e["offset"]): e["index"] for e in prod.events("produced")}
        check_eq(len(acked4), KILL_STREAM, "crash stream acknowledged")
        wait_until(lambda: {(m["partition"], m["offset"]) for m in k1.messages() + k2.messages()}
                   >= set(acked4), 30, 0.1, "every crash-stream message consumed by k1 or k2")
        k1.stop()
        check_no_errors(k1)
        k1_seen = {(m["partition"], m["offset"]) for m in k1.messages()}
        dups = [(m["partition"], m["offset"]) for m in k2.messages()
                if (m["partition"], m["offset"]) in k1_seen]
        k2_parts = set(s2["claims"][t4])
        check(all(p in k2_parts for p, _ in dups),
              f"redelivered messages outside the dead member's partitions: {dups[:5]}")
        check_eq(len(k1_seen), len(k1.messages()), "k1's messages (none twice to the survivor)")
        check_eq(len(set(dups)), len(dups), "k2's messages (none twice to the dead member)")
        # Redelivery starts exactly at the dead member's last commit, which is where k1's
        # takeover claim starts: on those partitions k1 re-reads k2's tail and nothing else.
        takeover_gen = latest_setup(k1)["generation"]
        for e in k1.events("claim"):
            if e["generation"] != takeover_gen or e["partition"] not in k2_parts:
                continue
            p, start = e["partition"], e["initial_offset"]
            k2_tail = {(p, m["offset"]) for m in k2.messages()
                       if m["partition"] == p and m["offset"] >= start}
            check_eq({d for d in dups if d[0] == p}, k2_tail,
                     f"redelivered offsets on partition {p} (k1 starts at {start})")
        print(f"   {len(dups)} redelivered after the crash (at-least-once, on k2's partitions "
              f"{sorted(k2_parts)})")
        check_eq(len(k1.messages()) + len(k2.messages()) - len(dups), KILL_STREAM,
                 "distinct crash-stream messages consumed")

    ends_kg = {p: e - REWIND for p, e in ends2.items()}
    with step("kafka-go Reader(GroupID) joins the Sarama group: resumes from Sarama's committed "
              f"offsets, commits end-{REWIND} with CommitMessages (OffsetCommit v2)"):
        check(all(e >= 0 for e in ends_kg.values()), f"too few messages per partition: {ends2}")
        spec = ",".join(f"{p}:{o}" for p, o in sorted(ends_kg.items()))
        kg = go.run("kafkago_group", "kafkago-join", "-mode", "join", "-topic", topic,
                    "-group", grp, "-commit", spec, "-session-timeout", SESSION_TIMEOUT)
        subs = kg.events("subscribed")
        check(subs, f"kafka-go reported no assignment{kg.diagnostics()}")
        got_offs = {int(p): o for p, o in subs[0]["offsets"].items()}
        check_eq(got_offs, ends2, "offsets kafka-go resumes from (OffsetFetch v1) vs Sarama's commits")
        check(kg.events("committed"), f"kafka-go did not confirm its commit{kg.diagnostics()}")
        check_eq(go.describe(topic, grp)[3], ends_kg, "committed offsets after kafka-go's commit")

    with step(f"a fresh Sarama member reads exactly the {REWIND * PARTITIONS} messages after "
              "kafka-go's commits"):
        # kafka-go 0.2.1's Reader.Close dials the coordinator with its already cancelled
        # context, so it never sends LeaveGroup: the join waits for its session to expire.
        want = {po: i for po, i in {**acked1, **acked2}.items() if po[1] >= ends_kg[po[0]]}
        d = go.sarama("d", "-topic", topic, "-group", grp, "-count", len(want), "-grace", "1.5s")
        check_eq(d.wait(PROC_TIMEOUT_S + 10), 0, f"{d.name} exit code{d.diagnostics()}")
        check_no_errors(d)
        got = consumed_map([d], "after kafka-go's commit")
        check_eq(set(got), set(want), "(partition, offset) read after kafka-go's commit")
        check_values(got, want, "v", "after kafka-go's commit")

    with step("kafka-go RetentionTime=1s (OffsetCommit v2 retention_time_ms): once the group is "
              "empty its offsets expire and the group is removed"):
        g6 = "kafkago-short-retention"
        kg = go.run("kafkago_group", "kafkago-retention", "-mode", "join", "-topic", topic,
                    "-group", g6, "-commit", "0:1,1:2,2:3,3:4", "-retention", "1s",
                    "-session-timeout", "1s", "-heartbeat", "200ms")
        check(kg.events("committed"), f"kafka-go did not confirm its commit{kg.diagnostics()}")

        def expired():
            g, _, groups, committed, _ = go.describe(topic, g6)
            return all(o == -1 for o in committed.values()) and g["state"] == "Dead" \
                and g6 not in groups
        wait_until(expired, 15, 0.5, f"offsets of {g6} to expire and the group to be removed")

    apis = api_versions(server)
    produce_rng, fetch_rng = apis.get(0, (0, -1)), apis.get(1, (0, -1))
    data_ok = produce_rng[0] <= 2 <= produce_rng[1] and fetch_rng[0] <= 2 <= fetch_rng[1]
    if not data_ok:
        print(f"== SKIP kafka-go Writer/Reader data path: it sends only Produce v2 and Fetch v2 "
              f"(MessageSet magic 1, no ApiVersions); the server offers Produce "
              f"v{produce_rng[0]}-{produce_rng[1]} and Fetch v{fetch_rng[0]}-{fetch_rng[1]}",
              flush=True)
        return
    with step("kafka-go Writer produces, a Reader(GroupID) consumes and commits, a second Reader "
              "after close reads only new messages"):
        t5, g5, n5, m5 = "kafkago-data", "kafkago-data-group", 400, 100
        go.run("sarama_group", "create5", "-mode", "create", "-topic", t5, "-partitions", PARTITIONS)
        go.run("kafkago_group", "kg-writer-1", "-mode", "produce", "-topic", t5, "-count", n5)
        r = go.run("kafkago_group", "kg-reader-1", "-mode", "consume", "-topic", t5, "-group", g5,
                   "-count", n5, "-grace", "1.5s", "-session-timeout", SESSION_TIMEOUT)
        vals = [m["value"] for m in r.messages()]
        check_eq(sorted(vals), sorted(f"kg-{i}" for i in range(n5)), "kafka-go reader 1 values")
        go.run("kafkago_group", "kg-writer-2", "-mode", "produce", "-topic", t5, "-start", n5,
               "-count", m5)
        r2 = go.run("kafkago_group", "kg-reader-2", "-mode", "consume", "-topic", t5, "-group", g5,
                    "-count", m5, "-grace", "1.5s", "-session-timeout", SESSION_TIMEOUT)
        vals = [m["value"] for m in r2.messages()]
        check_eq(sorted(vals), sorted(f"kg-{i}" for i in range(n5, n5 + m5)),
                 "kafka-go reader 2 values (only the new ones)")


if __name__ == "__main__":
    harness.run(test, extra_args=KAIRO_ARGS, budget_s=120, name="groups-go", description=__doc__)
