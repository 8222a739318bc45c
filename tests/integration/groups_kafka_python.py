#!/usr/bin/python3
"""Consumer groups with kafka-python 2.0 and kcat against a real kairo.

kafka-python speaks the oldest group API versions (JoinGroup v0-2, OffsetCommit v2, OffsetFetch
v1-3, GroupCoordinator v0-1) and its admin client the group administration APIs, so this covers
the other end of the version ranges from librdkafka. kcat -G is the balanced consumer users try
first on the command line.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step, wait_until  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.errors import NonEmptyGroupError, NoError  # noqa: E402

TOPIC = "kp-groups"
PARTITIONS = 3  # auto-created


def produce(boot, prefix, n, topic=TOPIC):
    p = KafkaProducer(bootstrap_servers=[boot], acks="all", linger_ms=5, max_block_ms=20000)
    futs = [p.send(topic, key=f"{prefix}-{i}".encode(), value=b"x") for i in range(n)]
    p.flush(timeout=30)
    for f in futs:
        check(f.succeeded(), f"produce failed: {f.exception!r}")
    p.close(timeout=10)
    return {f"{prefix}-{i}" for i in range(n)}


def consume_group(boot, group, want, timeout=30, commit=True, topic=TOPIC):
    """A kafka-python group consumer reading until `want` distinct keys arrived (plus a grace
    period). Returns every key it read, in order."""
    c = KafkaConsumer(topic, bootstrap_servers=[boot], group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=1000,
                      consumer_timeout_ms=500, api_version_auto_timeout_ms=10000)
    keys = []
    deadline = time.monotonic() + timeout
    while not set(keys) >= want and time.monotonic() < deadline:
        for m in c:
            keys.append(m.key.decode())
    for m in c:  # grace: anything extra shows now
        keys.append(m.key.decode())
    if commit:
        c.commit()
    c.close()
    return keys


def test(server):
    boot = server.bootstrap
    group = "kp-app"

    with step("kafka-python group consumer reads 500 messages once and commits"):
        want = produce(boot, "a", 500)
        keys = consume_group(boot, group, want)
        check_eq(len(keys), len(set(keys)), "kafka-python consumed duplicates")
        check_eq(set(keys), want, "keys consumed by the kafka-python group consumer")

    with step("a new kafka-python member of the group resumes after the commit: only new messages"):
        want = produce(boot, "b", 200)
        keys = consume_group(boot, group, want)
        check_eq(sorted(keys), sorted(want), "keys after resuming from committed offsets")

    admin = KafkaAdminClient(bootstrap_servers=[boot], request_timeout_ms=15000)

    with step("KafkaAdminClient: list, describe and offsets tell the truth while a member runs"):
        c = KafkaConsumer(TOPIC, bootstrap_servers=[boot], group_id=group, client_id="kp-live",
                          auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=10000)
        try:
            def stable():
                c.poll(timeout_ms=200)
                d = admin.describe_consumer_groups([group])[0]
                return d.state == "Stable" and len(d.members) == 1
            wait_until(stable, 30, interval=0.1, what=f"{group} to be Stable with one member")
            d = admin.describe_consumer_groups([group])[0]
            check_eq(d.protocol_type, "consumer", "protocol type")
            check_eq(d.protocol, "range", "protocol")
            m = d.members[0]
            check_eq(m.client_id, "kp-live", "member client id")
            check(m.client_host.endswith("127.0.0.1"), f"member client host {m.client_host!r}")
            check_eq(sorted(m.member_assignment.assignment[0][1]) if m.member_assignment.assignment else [],
                     list(range(PARTITIONS)), "the member's assignment as DescribeGroups reports it")
            listed = dict(admin.list_consumer_groups())
            check_eq(listed.get(group), "consumer", f"{group} in list_consumer_groups {listed}")
            with step("DeleteGroups refuses a group with members (NON_EMPTY_GROUP)"):
                res = dict(admin.delete_consumer_groups([group]))
                check_eq(res[group], NonEmptyGroupError, "deleting a group with a member")
        finally:
            c.close()
        d = admin.describe_consumer_groups([group])[0]
        check_eq((d.state, len(d.members)), ("Empty", 0), "group after its last member left")
        offsets = admin.list_consumer_group_offsets(group)
        total = sum(om.offset for om in offsets.values())
        check_eq(total, 700, "sum of committed offsets (500 + 200 messages consumed)")
        check_eq(sorted(tp.partition for tp in offsets), list(range(PARTITIONS)), "partitions with offsets")

    with step("an unknown group: Dead, no offsets; delete_consumer_groups removes an Empty group"):
        d = admin.describe_consumer_groups(["no-such-group"])[0]
        check_eq(d.state, "Dead", "state of an unknown group")
        check_eq(admin.list_consumer_group_offsets("no-such-group"), {}, "offsets of an unknown group")
        res = dict(admin.delete_consumer_groups([group]))
        check_eq(res[group], NoError, "deleting the Empty group")
        check(group not in dict(admin.list_consumer_groups()), "the deleted group is still listed")
        check_eq(admin.list_consumer_group_offsets(group), {}, "offsets of the deleted group")

    with step("after deletion the group starts over from the beginning"):
        keys = consume_group(boot, group, set(), timeout=5)
        check_eq(len(keys), 700, "messages read by a member of the re-created group")

    with step("deleting a topic drops the offsets committed for it, also across a restart"):
        check_eq(len(admin.list_consumer_group_offsets(group)), PARTITIONS, "offsets before the topic is deleted")
        admin.delete_topics([TOPIC], timeout_ms=15000)
        wait_until(lambda: admin.list_consumer_group_offsets(group) == {}, 10,
                   what="the deleted topic's offsets to go")
        server.restart(hard=True)
        admin.close()
        admin = KafkaAdminClient(bootstrap_servers=[boot], request_timeout_ms=15000)
        check_eq(admin.list_consumer_group_offsets(group), {}, "offsets of the deleted topic after kill -9")
    admin.close()

    with step("kcat -G: a balanced consumer reads everything, commits, and resumes after a restart"):
        want = produce(boot, "k", 50, topic="kcat-groups")
        # No -o: in -G mode kcat would start every assigned partition there, committed or not.
        cmd = ["kcat", "-b", boot, "-G", "kcat-app", "kcat-groups", "-e", "-q", "-f", "%k\\n",
               "-X", "broker.address.family=v4", "-X", "auto.offset.reset=earliest"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        check_eq(out.returncode, 0, f"kcat exit code (stderr: {out.stderr[-500:]})")
        keys = [k for k in out.stdout.split("\n") if k]
        check_eq(sorted(keys), sorted(want), "keys read by kcat -G")
        server.restart()
        want2 = produce(boot, "k2", 20, topic="kcat-groups")
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        keys = [k for k in out.stdout.split("\n") if k]
        check_eq(sorted(keys), sorted(want2), "kcat -G after a kairo restart reads only the new messages")


if __name__ == "__main__":
    harness.run(test, extra_args=["--group-initial-rebalance-delay-ms", "200"], budget_s=180,
                name="groups-kafka-python", description="consumer groups with kafka-python and kcat")
