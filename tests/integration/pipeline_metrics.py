#!/usr/bin/python3
"""The produce pipeline seen through /metrics and the admin API, under real client load.

- promtool check metrics is clean on a scrape taken under load;
- records produced == records acknowledged by kairo, and batches over flushes == batches over
  WAL groups == batches acknowledged;
- balanced + one producer sending one message at a time: every flush is `linger`, and the
  sync thread's; low-latency + the same: the io thread commits the idle log's groups itself;
- min_batches=10 + 30 closed-loop producers: flushes are `min_batches`;
- a policy change through the admin API changes the reasons seen next and loses or duplicates
  nothing;
- a malformed PUT gets 400 naming the field and changes nothing;
- backpressure: with a tiny buffer, admitted memory stays bounded, and every message is either
  acknowledged and readable or failed.
Assertions are about reasons and counts, never wall-clock times.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402


def http(server, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{server.admin_port}{path}", method=method,
                                 data=None if body is None else body.encode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(server):
    status, text = http(server, "GET", "/metrics")
    check_eq(status, 200, "GET /metrics status")
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        values[name] = float(value)
    return values, text


def flushes(m):
    return {r: m.get(f'kairo_pipeline_flushes_total{{reason="{r}"}}', 0.0)
            for r in ("min_batches", "linger", "buffer", "shutdown")}


def delta(a, b):
    return {k: b[k] - a[k] for k in a}


def put_policy(server, body):
    status, text = http(server, "PUT", "/v1/produce/policy", json.dumps(body))
    check_eq(status, 200, f"PUT /v1/produce/policy {body}: {text}")
    return json.loads(text)


def producer(server, extra=None):
    conf = {"bootstrap.servers": server.bootstrap, "broker.address.family": "v4", "acks": "all",
            "linger.ms": 0, "enable.idempotence": False}
    conf.update(extra or {})
    return ck.Producer(conf)


class closed_loop:
    """n producers (own connections), each with exactly one message in flight."""

    def __init__(self, server, topic, n, prefix):
        self.server, self.topic, self.n, self.prefix = server, topic, n, prefix
        self.stop = threading.Event()
        self.acked, self.failed = [], []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(n)]

    def run(self, i):
        p = producer(self.server)
        seq = 0
        while not self.stop.is_set():
            key = f"{self.prefix}-{i}-{seq}".encode()
            seq += 1
            out = []
            p.produce(self.topic, key=key, value=key, on_delivery=lambda err, msg: out.append(err))
            p.flush(10)
            with self.lock:
                (self.acked if out and out[0] is None else self.failed).append(key)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def one_at_a_time(server, topic, n):
    """One producer sends keys 0..n-1, each after the previous one's ack."""
    p = producer(server)
    for i in range(n):
        p.produce(topic, key=str(i).encode(), value=b"x")
        check_eq(p.flush(10), 0, "messages left after flush")


def consume_keys(server, topic, partitions=3):
    c = harness.ck_consumer(server.bootstrap)
    c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(partitions)])
    keys, idle_since = [], time.monotonic()
    while time.monotonic() - idle_since < 2.0:
        msgs = c.consume(num_messages=10000, timeout=0.3)
        for m in msgs:
            check(m.error() is None, f"consumer error {m.error()}")
            keys.append(m.key())
        if msgs:
            idle_since = time.monotonic()
    c.close()
    return keys


def test(server):
    with step("malformed PUT: 400 naming the field, nothing changes"):
        before = http(server, "GET", "/v1/produce/policy")[1]
        for body, field in [('{"min_batches": 0}', "min_batches"), ('{"linger_ms": "soon"}', "linger_ms"),
                            ('{"profile": "fastest"}', "profile"), ('{"colour": 1}', "colour"),
                            ("not json", "(body)")]:
            status, text = http(server, "PUT", "/v1/produce/policy", body)
            check_eq(status, 400, f"PUT {body} status")
            check(field in text, f"PUT {body}: the answer names '{field}': {text}")
        check_eq(http(server, "GET", "/v1/produce/policy")[1], before, "policy after refused PUTs")
        check_eq(json.loads(before)["profile"], "balanced", "profile from --produce-profile")

    with step("balanced, one producer, one message at a time: every flush is linger"):
        m0, _ = scrape(server)
        one_at_a_time(server, "single", 20)
        m1, _ = scrape(server)
        d = delta(flushes(m0), flushes(m1))
        check(d["linger"] >= 20, f"20 single sends were lingered flushes: {d}")
        check_eq(d["min_batches"] + d["buffer"], 0, f"no other reason: {d}")
        on_io = m1["kairo_wal_groups_on_io_thread_total"] - m0["kairo_wal_groups_on_io_thread_total"]
        check_eq(on_io, 0.0, "a lingering policy leaves every group to the sync thread")

    with step("min_batches=10 with 30 closed-loop producers: flushes are min_batches; promtool on a scrape under load"):
        put_policy(server, {"min_batches": 10, "linger_ms": 2000})
        with closed_loop(server, "many", 30, "a") as load:
            time.sleep(1.5)  # all 30 connected and cycling
            m0, _ = scrape(server)
            time.sleep(2.0)
            m1, text = scrape(server)
            r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                               capture_output=True, timeout=30)
            check_eq(r.returncode, 0, f"promtool check metrics: {r.stdout.decode()} {r.stderr.decode()}")
        d = delta(flushes(m0), flushes(m1))
        check(d["min_batches"] > 0, f"flushes cut by min_batches under load: {d}")
        check_eq(d["linger"] + d["buffer"], 0, f"no linger/buffer flush while 30 are in flight: {d}")
        check(not load.failed, f"{len(load.failed)} sends failed")

    with step("counts agree: client records == kairo records; batches over flushes == over WAL groups"):
        m, _ = scrape(server)
        acked = 20 + len(load.acked)
        check_eq(m["kairo_kafka_produce_records_total"], float(acked), "records acknowledged by kairo")
        # Each send here is one record in one batch, so batches count records as well.
        check_eq(m["kairo_kafka_produce_batches_total"], float(acked), "batches acknowledged")
        check_eq(m["kairo_pipeline_flushed_batches_total"], float(acked), "batches over all flushes")
        check_eq(m["kairo_wal_records_total"], float(acked), "records over all WAL groups")
        check_eq(sum(flushes(m).values()), m["kairo_wal_groups_total"], "one flush per WAL group")
        keys = consume_keys(server, "many")
        check_eq(sorted(keys), sorted(load.acked), "every acknowledged message consumed exactly once")

    with step("policy change under load: reasons follow, nothing lost or duplicated"):
        put_policy(server, {"profile": "balanced"})
        with closed_loop(server, "switch", 3, "s") as load:
            time.sleep(1.0)
            m0, _ = scrape(server)
            time.sleep(1.0)
            m1, _ = scrape(server)
            put_policy(server, {"profile": "low-latency"})
            time.sleep(0.5)
            m2, _ = scrape(server)
            time.sleep(1.0)
            m3, _ = scrape(server)
        before, after = delta(flushes(m0), flushes(m1)), delta(flushes(m2), flushes(m3))
        check(before["linger"] > 0 and before["min_batches"] == 0, f"balanced with 3 producers lingers: {before}")
        check(after["min_batches"] > 0 and after["linger"] == 0, f"low-latency cuts at once: {after}")
        check(not load.failed, f"{len(load.failed)} sends failed")
        keys = consume_keys(server, "switch")
        check_eq(len(keys), len(set(keys)), "no duplicates")
        check_eq(sorted(keys), sorted(load.acked), "every acknowledged message consumed exactly once")

    with step("low-latency, one producer, one message at a time: the idle log's groups are the io thread's"):
        put_policy(server, {"profile": "low-latency"})
        m0, _ = scrape(server)
        one_at_a_time(server, "alone", 20)
        m1, _ = scrape(server)
        groups = m1["kairo_wal_groups_total"] - m0["kairo_wal_groups_total"]
        on_io = m1["kairo_wal_groups_on_io_thread_total"] - m0["kairo_wal_groups_on_io_thread_total"]
        # Each send waits for its ack, so the log sits idle for a client round trip before the next:
        # the io thread that queued it commits it. (A group of an internal topic may be the sync
        # thread's, hence not all 20.)
        check(groups >= 20, f"20 sends, 20 groups at least: {groups}")
        check(on_io >= 15, f"the io thread committed the sends' groups: {on_io} of {groups}")
        keys = consume_keys(server, "alone")
        check_eq(sorted(keys), sorted(str(i).encode() for i in range(20)), "all 20 consumed once")

    with step("backpressure: tiny buffer, fast producer; memory bounded, nothing acknowledged lost"):
        put_policy(server, {"profile": "low-latency", "buffer_bytes": 4096})
        m, _ = scrape(server)
        capacity = m["kairo_pipeline_memory_capacity_bytes"]
        check_eq(capacity, 8192.0, "admitted memory capacity is twice the buffer")
        p = producer(server, {"linger.ms": 5, "batch.num.messages": 10000, "queue.buffering.max.messages": 200000,
                              "message.max.bytes": 262144})
        acked, failed = [], []
        def report(err, msg):
            (failed if err else acked).append(msg.key())
        for i in range(30000):
            while True:
                try:
                    p.produce("pressure", key=f"bp-{i}".encode(), value=b"v" * 200, on_delivery=report)
                    break
                except BufferError:
                    p.poll(0.05)
            p.poll(0)
        check_eq(p.flush(60), 0, "messages left unanswered")
        m, _ = scrape(server)
        # One request larger than the whole budget is admitted alone, so the bound is the larger of
        # the capacity and the largest request (message.max.bytes 256 KiB plus framing).
        check(m["kairo_pipeline_memory_peak_bytes"] <= max(capacity, 262144 + 4096),
              f"admitted memory peak {m['kairo_pipeline_memory_peak_bytes']} within bound")
        check_eq(m["kairo_pipeline_memory_used_bytes"], 0.0, "memory released on every path")
        check_eq(len(acked) + len(failed), 30000, "every message answered")
        keys = consume_keys(server, "pressure")
        check_eq(sorted(keys), sorted(acked), "acknowledged messages are exactly the readable ones")


if __name__ == "__main__":
    harness.run(test, extra_args=["--produce-profile", "balanced"], budget_s=150, name="pipeline",
                description=__doc__)
