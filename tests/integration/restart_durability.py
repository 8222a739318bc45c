#!/usr/bin/python3
"""Durability across restarts (confluent-kafka, acks=all).

1. produce N, record watermarks; SIGTERM (exit 0) and start again: everything is
   fetchable from offset 0 identical, watermarks unchanged; M more continue exactly at
   the old high watermark.
2. produce K more, wait for every ack, SIGKILL, start: every acknowledged message is
   there, identical, and nothing else.
3. SIGKILL while a producer has messages in flight: every message whose
   delivery report succeeded survives at the offset it was given; offsets stay
   contiguous; whatever else survived is something we sent; producing continues at the
   new high watermark.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

SEED = 99_1234
TOPIC = "durable"
PARTITIONS = 3
N = 3_000
M = 600
K = 3_000
CRASH_MIN_ACKED = 3_000
CRASH_MAX_MSGS = 60_000


class Sent:
    """Everything we produced: (partition, offset) -> (key, value, headers) for acks."""

    def __init__(self):
        self.acked = {}
        self.all_values = {}   # value -> headers (delivery reports do not carry headers)
        self.errors = []

    def add(self, value, headers):
        self.all_values[value] = tuple(headers)

    def on_delivery(self, err, msg):
        if err is not None:
            self.errors.append(str(err))
            return
        po = (msg.partition(), msg.offset())
        check(po not in self.acked, f"offset {po} acknowledged twice")
        self.acked[po] = (msg.key(), msg.value(), self.all_values[msg.value()])


def producer(server, extra=None):
    conf = {
        "bootstrap.servers": server.bootstrap,
        "broker.address.family": "v4",
        "acks": "all",
        "linger.ms": 2,
        "enable.idempotence": False,
        "message.timeout.ms": 20000,
        "queue.buffering.max.messages": 100000,
    }
    conf.update(extra or {})
    return ck.Producer(conf)


def message(rng, tag, i):
    key = f"{tag}-{i:06d}".encode()
    value = (f"{tag}:{i}:".encode()
             + bytes(rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(rng.randint(10, 200))))
    headers = [("tag", tag.encode()), ("i", str(i).encode())]
    return key, value, headers


def produce(server, sent, rng, tag, count):
    """Produce count messages round-robin over partitions; returns per-partition offsets in
    produce order."""
    order = {p: [] for p in range(PARTITIONS)}
    reports = [0]
    prod = producer(server)

    def cb(err, msg):
        reports[0] += 1
        sent.on_delivery(err, msg)
        if err is None:
            order[msg.partition()].append((int(msg.key().split(b"-")[-1]), msg.offset()))
    for i in range(count):
        k, v, h = message(rng, tag, i)
        sent.add(v, h)
        prod.produce(TOPIC, key=k, value=v, headers=h, partition=i % PARTITIONS, on_delivery=cb)
        if i % 500 == 0:
            prod.poll(0)
    prod.flush(30)
    check_eq(reports[0], count, f"[{tag}] delivery reports received within 30 s")
    check(not sent.errors, f"[{tag}] delivery errors: {sent.errors[:3]}")
    return {p: [o for _, o in sorted(lst)] for p, lst in order.items()}


def watermarks(server):
    cons = harness.ck_consumer(server.bootstrap)
    wm = {}
    for p in range(PARTITIONS):
        wm[p] = cons.get_watermark_offsets(ck.TopicPartition(TOPIC, p), timeout=10, cached=False)
    cons.close()
    return wm


def read_all(server, expected_total):
    """Everything from offset 0 of each partition: (p, o) -> (key, value, headers)."""
    cons = harness.ck_consumer(server.bootstrap)
    tps = [ck.TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)]
    msgs = harness.ck_consume_exact(cons, tps, expected_total, 30)
    cons.close()
    out = {}
    for m in msgs:
        po = (m.partition(), m.offset())
        check(po not in out, f"offset {po} fetched twice")
        out[po] = (m.key(), m.value(), tuple(m.headers() or ()))
    harness.contiguous_offsets(out.keys(), "fetched offsets")
    return out


def check_acked_present(stored, sent, what):
    missing = [po for po in sent.acked if po not in stored]
    check(not missing, f"{what}: {len(missing)} acknowledged messages missing, first "
          f"{sorted(missing)[:5]}")
    differ = [po for po, rec in sent.acked.items() if stored[po] != rec]
    check(not differ, f"{what}: {len(differ)} acknowledged messages differ, first at "
          f"{differ[0] if differ else None}: stored {stored[differ[0]] if differ else None!r} "
          f"vs sent {sent.acked[differ[0]] if differ else None!r}")


def test(server):
    rng = random.Random(SEED)
    sent = Sent()
    harness.ck_admin_create(server.bootstrap, TOPIC, PARTITIONS)

    with step(f"produce {N} (acks=all), record watermarks"):
        produce(server, sent, rng, "a", N)
        wm_before = watermarks(server)
        print(f"   watermarks: {wm_before}")
        for p in range(PARTITIONS):
            check_eq(wm_before[p], (0, N // PARTITIONS), f"watermarks of partition {p}")

    with step("SIGTERM (exit 0), start again: all fetchable from 0, identical; watermarks unchanged"):
        server.restart()
        check_eq(watermarks(server), wm_before, "watermarks after graceful restart")
        stored = read_all(server, N)
        check_eq(set(stored), set(sent.acked), "offsets after graceful restart")
        check_acked_present(stored, sent, "after graceful restart")

    with step(f"produce {M} more: they continue at the old high watermark"):
        order = produce(server, sent, rng, "b", M)
        for p in range(PARTITIONS):
            hw = wm_before[p][1]
            check_eq(order[p], list(range(hw, hw + M // PARTITIONS)),
                     f"offsets of the new messages on partition {p} (old high watermark {hw})")
        stored = read_all(server, N + M)
        check_acked_present(stored, sent, "after producing past the restart")

    with step(f"produce {K} more, all acked, then SIGKILL and start: every ack survived"):
        produce(server, sent, rng, "c", K)
        wm_acked = watermarks(server)
        server.restart(hard=True)
        check_eq(watermarks(server), wm_acked, "watermarks after SIGKILL restart")
        stored = read_all(server, N + M + K)
        check_eq(set(stored), set(sent.acked), "offsets after SIGKILL restart")
        check_acked_present(stored, sent, "after SIGKILL restart")

    with step("SIGKILL with messages in flight: every acked message survives"):
        crash = Sent()
        prod = producer(server, {"message.timeout.ms": 4000, "linger.ms": 1,
                                 "reconnect.backoff.ms": 200, "reconnect.backoff.max.ms": 500})
        # Warm up (connection + metadata) so the first acks do not lag a huge backlog.
        k, v, h = message(rng, "d", 0)
        crash.add(v, h)
        prod.produce(TOPIC, key=k, value=v, headers=h, partition=0, on_delivery=crash.on_delivery)
        prod.flush(10)
        check_eq(len(crash.acked), 1, f"warm-up message acknowledged (errors {crash.errors[:3]})")
        # Pre-generated so the produce loop outruns the broker's acks.
        pool = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(10, 200)))
                for _ in range(256)]
        crash_msgs = [(f"d-{j:06d}".encode(), b"d:%d:" % j + pool[j % 256],
                       [("tag", b"d"), ("i", str(j).encode())]) for j in range(CRASH_MAX_MSGS)]
        i = 1
        deadline = time.monotonic() + 30
        enough_acks_at = None
        in_flight = None

        def pending():
            return i - len(crash.acked) - len(crash.errors)
        while time.monotonic() < deadline:
            for _ in range(500):
                if i >= CRASH_MAX_MSGS:
                    break
                k, v, h = crash_msgs[i]
                try:
                    prod.produce(TOPIC, key=k, value=v, headers=h, partition=i % PARTITIONS,
                                 on_delivery=crash.on_delivery)
                except BufferError:
                    break
                crash.add(v, h)
                i += 1
            prod.poll(0)
            if len(crash.acked) >= CRASH_MIN_ACKED:
                enough_acks_at = enough_acks_at or time.monotonic()
                # Prefer a kill with many messages inside the server; settle for any
                # un-acknowledged message after 2 s of trying or when the supply runs out.
                if (pending() >= 1000 or (pending() > 0 and (
                        time.monotonic() - enough_acks_at > 2 or i >= CRASH_MAX_MSGS))):
                    in_flight = pending()
                    break
        check(in_flight is not None,
              f"could not reach {CRASH_MIN_ACKED} acks with messages in flight within 30 s "
              f"(acked {len(crash.acked)}, pending {pending()}, errors {crash.errors[:3]})")
        acked_at_kill = len(crash.acked)
        server.kill()
        print(f"   killed with {acked_at_kill} acknowledged and {in_flight} produced but not yet "
              "acknowledged")
        prod.flush(15)
        check_eq(len(crash.acked) + len(crash.errors), i,
                 "delivery reports within 15 s after the crash (message.timeout.ms 4 s)")
        # Acks can still arrive after the kill (responses already in our socket buffer).
        print(f"   produced {i}: acknowledged {len(crash.acked)} "
              f"({len(crash.acked) - acked_at_kill} of them read after the kill), "
              f"failed {len(crash.errors)}")
        server.start()
        wm = watermarks(server)
        total = sum(hi for _, hi in wm.values())
        stored = read_all(server, total)
        check_acked_present(stored, sent, "older messages after crash restart")
        check_acked_present(stored, crash, "in-flight crash: acknowledged messages")
        known = set(sent.all_values) | set(crash.all_values)
        strangers = [po for po, (_, v, _) in stored.items() if v not in known]
        check(not strangers, f"{len(strangers)} stored messages were never sent, first at "
              f"{strangers[:3]}")
        unacked_kept = len(stored) - len(sent.acked) - len(crash.acked)
        print(f"   after restart: watermarks {wm}; {unacked_kept} un-acked in-flight messages "
              "were kept (allowed)")

    with step("after the crash, producing continues at the high watermark"):
        after = Sent()
        order = produce(server, after, rng, "e", 30)
        for p in range(PARTITIONS):
            hw = wm[p][1]
            check_eq(order[p], list(range(hw, hw + 10)), f"offsets on partition {p} after crash")


if __name__ == "__main__":
    harness.run(test, budget_s=150, name="durability", description=__doc__)
