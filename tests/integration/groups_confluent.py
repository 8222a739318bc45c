#!/usr/bin/python3
"""Consumer groups with confluent-kafka (librdkafka 2.0) against a real kairo.

Members are separate processes (group_member.py), so that one can leave cleanly, one can be
killed without a LeaveGroup, and the group can be restarted. Scenario:
  1. three members share a 6-partition topic: every message consumed exactly once across them;
  2. a member leaves: the others take over its partitions;
  3. a member is killed (SIGKILL): its partitions move after its session timeout;
  4. the whole group stops; a new member reads only what was produced since (offsets held);
  5. the same after a kairo restart (SIGTERM) and after kill -9 of kairo;
  6. cooperative-sticky assignment: two members, incremental rebalance, nothing lost or doubled;
  7. static membership: a member restarted with its group.instance.id within its session
     timeout gets its partitions back without a rebalance.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step, wait_until  # noqa: E402

import confluent_kafka as ck  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOPIC = "orders"
PARTITIONS = 6
SESSION_MS = 3000  # the broker's minimum is lowered to allow it, so a kill is noticed fast


class Member:
    """One group_member.py process and everything it reported."""

    def __init__(self, name, bootstrap, group, topic=TOPIC, strategy="range", instance_id=None,
                 session_ms=SESSION_MS):
        self.name = name
        cmd = [sys.executable, os.path.join(HERE, "group_member.py"), "--bootstrap", bootstrap,
               "--group", group, "--topic", topic, "--session-ms", str(session_ms),
               "--strategy", strategy]
        if instance_id:
            cmd += ["--instance-id", instance_id]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.lock = threading.Lock()
        self.events = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(ev)

    def of(self, kind):
        with self.lock:
            return [e for e in self.events if e["event"] == kind]

    def assignment(self):
        a = self.of("assignment")
        return a[-1]["partitions"] if a else []

    def keys(self):
        return [e["key"] for e in self.of("msg")]

    def errors(self):
        return [e["error"] for e in self.of("error")]

    def stop(self):
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        wait_until(lambda: self.of("closed"), 20, what=f"member {self.name} to close")
        self.proc.wait(timeout=10)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def alive(self):
        return self.proc.poll() is None


def produce(bootstrap, prefix, n, topic=TOPIC):
    p = ck.Producer({"bootstrap.servers": bootstrap, "broker.address.family": "v4", "acks": "all",
                     "linger.ms": 5})
    failed = []
    for i in range(n):
        p.produce(topic, key=f"{prefix}-{i}".encode(), value=b"v" * 32,
                  on_delivery=lambda err, m: failed.append(err) if err else None)
    check_eq(p.flush(30), 0, "messages still unflushed after 30 s")
    check(not failed, f"{len(failed)} produce errors, first {failed[:1]}")
    return {f"{prefix}-{i}" for i in range(n)}


def consumed(members, prefix):
    keys = []
    for m in members:
        keys += [k for k in m.keys() if k and k.startswith(prefix + "-")]
    return keys


def expect_exactly_once(members, expected, prefix, timeout=30):
    wait_until(lambda: set(consumed(members, prefix)) >= expected, timeout,
               what=f"every {prefix} message to be consumed "
                    f"({len(set(consumed(members, prefix)))}/{len(expected)})")
    time.sleep(0.5)  # anything doubled would show up now
    keys = consumed(members, prefix)
    dup = len(keys) - len(set(keys))
    check(dup == 0, f"{dup} {prefix} messages were consumed more than once")
    check_eq(set(keys), expected, f"{prefix} messages consumed")


def covers_all(members, n=PARTITIONS):
    parts = [p for m in members for p in m.assignment()]
    return sorted(parts) == list(range(n))


def scrape(server):
    return urllib.request.urlopen(f"http://127.0.0.1:{server.admin_port}/metrics", timeout=5).read().decode()


def metric(server, name, having=""):
    total = 0.0
    for line in scrape(server).splitlines():
        if (line.startswith(name + " ") or line.startswith(name + "{")) and having in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def lag(server, group):
    return metric(server, "kairo_group_lag", f'group="{group}"')


def committed(bootstrap, group, topic=TOPIC, n=PARTITIONS):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "broker.address.family": "v4", "group.id": group})
    try:
        got = c.committed([ck.TopicPartition(topic, p) for p in range(n)], timeout=10)
        return {tp.partition: tp.offset for tp in got}
    finally:
        c.close()


def high_watermarks(bootstrap, topic=TOPIC, n=PARTITIONS):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "broker.address.family": "v4", "group.id": "hw-probe"})
    try:
        return {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10)[1] for p in range(n)}
    finally:
        c.close()


def test(server):
    boot = server.bootstrap
    members = []
    try:
        run_scenario(server, boot, members)
    finally:
        for m in members:
            if m.alive():
                m.kill()


def run_scenario(server, boot, members):
    group = "orders-app"

    def member(name, **kw):
        m = Member(name, boot, kw.pop("group", group), **kw)
        members.append(m)
        return m

    with step(f"create {TOPIC} with {PARTITIONS} partitions"):
        harness.ck_admin_create(boot, TOPIC, PARTITIONS)

    with step("three members join one group: each gets two partitions, together all six"):
        a, b, c = member("a"), member("b"), member("c")
        wait_until(lambda: covers_all([a, b, c]) and all(len(m.assignment()) == 2 for m in (a, b, c)), 30,
                   what="three members to share the six partitions "
                        f"({a.assignment()}, {b.assignment()}, {c.assignment()})")
        check_eq(metric(server, "kairo_group_members"), 3.0, "kairo_group_members")

    with step("600 messages: every one consumed exactly once across the three, each member read some"):
        expect_exactly_once([a, b, c], produce(boot, "p1", 600), "p1")
        for m in (a, b, c):
            check(any(k.startswith("p1-") for k in m.keys()), f"member {m.name} consumed nothing")

    with step("member c leaves (LeaveGroup): a and b take over all six partitions"):
        c.stop()
        wait_until(lambda: covers_all([a, b]), 30,
                   what=f"a and b to own all partitions ({a.assignment()}, {b.assignment()})")
        expect_exactly_once([a, b], produce(boot, "p2", 300), "p2")

    with step("member d joins, then b is killed (no LeaveGroup): its partitions move after the session timeout"):
        d = member("d")
        wait_until(lambda: covers_all([a, b, d]) and d.assignment(), 30, what="d to get partitions")
        expect_exactly_once([a, b, d], produce(boot, "p3a", 120), "p3a")
        rebalances = metric(server, "kairo_group_rebalances_total")
        b.kill()
        t0 = time.monotonic()
        wait_until(lambda: covers_all([a, d]), 30,
                   what=f"a and d to own all partitions after b died ({a.assignment()}, {d.assignment()})")
        took = time.monotonic() - t0
        print(f"   b's partitions moved {took:.1f} s after the kill (session timeout {SESSION_MS / 1000:.0f} s)")
        check(metric(server, "kairo_group_rebalances_total") > rebalances, "no rebalance counted after the kill")
        expect_exactly_once([a, d], produce(boot, "p3b", 300), "p3b")

    with step("the group stops: its committed offsets are the high watermarks"):
        a.stop()
        d.stop()
        offsets = committed(boot, group)
        check_eq(offsets, high_watermarks(boot), "committed offsets against the high watermarks")

    with step("consumer lag on /metrics: 0 when caught up, then the messages produced since; promtool-clean"):
        check_eq(lag(server, group), 0.0, "kairo_group_lag summed over the group's partitions")
        produce(boot, "lag", 60)
        check_eq(lag(server, group), 60.0, "kairo_group_lag after 60 unread messages")
        body = scrape(server)
        r = subprocess.run(["promtool", "check", "metrics"], input=body.encode(), capture_output=True, timeout=30)
        check_eq(r.returncode, 0, f"promtool check metrics: {r.stdout.decode()} {r.stderr.decode()}")

    with step("a new member resumes after the committed offsets and reads only what came since"):
        e = member("e")
        expect_exactly_once([e], produce(boot, "p4", 100), "p4")
        expect_exactly_once([e], {f"lag-{i}" for i in range(60)}, "lag")
        old = [k for k in e.keys() if not k.startswith(("p4-", "lag-"))]
        check(not old, f"the resumed member re-read {len(old)} old messages (first {old[:3]})")
        e.stop()

    with step("kairo restart (SIGTERM): committed offsets survive, nothing is re-read"):
        server.restart()
        check_eq(committed(boot, group), high_watermarks(boot), "committed offsets after restart")
        f = member("f")
        expect_exactly_once([f], produce(boot, "p5", 100), "p5")
        check(all(k.startswith("p5-") for k in f.keys()), "a member re-read messages after the restart")
        f.stop()

    with step("kill -9 of kairo: committed offsets survive, nothing is re-read"):
        before = committed(boot, group)
        server.restart(hard=True)
        check_eq(committed(boot, group), before, "committed offsets after kill -9")
        g = member("g")
        expect_exactly_once([g], produce(boot, "p6", 100), "p6")
        check(all(k.startswith("p6-") for k in g.keys()), "a member re-read messages after kill -9")
        g.stop()

    with step("cooperative-sticky: a second member joins incrementally; partitions move, none is doubled"):
        coop = "coop-app"
        x = member("x", group=coop, strategy="cooperative-sticky")
        wait_until(lambda: covers_all([x]), 30, what="x to own all partitions")
        y = member("y", group=coop, strategy="cooperative-sticky")
        wait_until(lambda: covers_all([x, y]) and y.assignment() and x.assignment(), 30,
                   what=f"x and y to share the partitions ({x.assignment()}, {y.assignment()})")
        check(not set(x.assignment()) & set(y.assignment()), "a partition is assigned twice")
        # Old messages: the group has no offsets yet, so both start from the beginning of
        # their partitions; every message of the topic is read exactly once between them.
        expect_exactly_once([x, y], produce(boot, "p7", 200), "p7")
        errs = x.errors() + y.errors()
        check(not errs, f"cooperative members reported errors: {errs[:3]}")
        x.stop()
        y.stop()

    with step("static membership: a member restarted with its group.instance.id keeps its partitions, no rebalance"):
        static = "static-app"
        s1 = member("s1", group=static, instance_id="host-1", session_ms=10000)
        s2 = member("s2", group=static, instance_id="host-2", session_ms=10000)
        wait_until(lambda: covers_all([s1, s2]) and s1.assignment() and s2.assignment(), 30,
                   what="two static members to share the partitions")
        expect_exactly_once([s1, s2], produce(boot, "p8a", 120), "p8a")
        mine = s2.assignment()
        rebalances = metric(server, "kairo_group_rebalances_total")
        s2.kill()
        s2b = member("s2b", group=static, instance_id="host-2", session_ms=10000)
        wait_until(lambda: sorted(s2b.assignment()) == sorted(mine), 20,
                   what=f"the restarted static member to get {mine} back (has {s2b.assignment()})")
        check_eq(metric(server, "kairo_group_rebalances_total"), rebalances,
                 "rebalances counted across the static member's restart")
        check_eq(sorted(s1.assignment() + s2b.assignment()), list(range(PARTITIONS)),
                 "partitions after the static restart")
        expect_exactly_once([s1, s2b], produce(boot, "p8b", 120), "p8b")
        s1.stop()
        s2b.stop()


if __name__ == "__main__":
    harness.run(test, extra_args=["--group-initial-rebalance-delay-ms", "300",
                                  "--group-min-session-timeout-ms", "1000"],
                budget_s=240, name="groups-confluent",
                description="consumer groups with confluent-kafka against kairo")
