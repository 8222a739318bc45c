#!/usr/bin/python3
"""confluent-kafka (librdkafka) with every compression codec.

For each of none, gzip, snappy, lz4, zstd: 100,000 distinct ~100-byte messages with
acks=all to a topic of its own; every delivery report must be error-free; then an
assign()-only consumer reads all 100,000 back from the beginning. Checks: the set of
values is identical, each value sits at the (partition, offset) its delivery report
named, and offsets per partition are contiguous from 0.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

SEED = 7_100_000
N = 100_000
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PARTITIONS = 3
PRODUCE_TIMEOUT_S = 30
CONSUME_TIMEOUT_S = 30


def make_values(codec, rng):
    # ~100 bytes each, distinct (index inside), partly random so codecs have real work.
    pool = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(160))
            for _ in range(512)]
    vals = []
    for i in range(N):
        head = b"%s-%07d-" % (codec.encode(), i)
        body = pool[i % 512]
        off = (i * 7) % 60
        vals.append(head + body[off:off + 100 - len(head)])
    return vals


def run_codec(server, codec, rng):
    topic = f"codec-{codec}"
    harness.ck_admin_create(server.bootstrap, topic, PARTITIONS)
    values = make_values(codec, rng)
    placed = {}   # value -> (partition, offset)
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            placed[msg.value()] = (msg.partition(), msg.offset())

    prod = ck.Producer({
        "bootstrap.servers": server.bootstrap,
        "broker.address.family": "v4",
        "acks": "all",
        "compression.type": codec,
        "linger.ms": 5,
        "batch.num.messages": 10000,
        "queue.buffering.max.messages": 2 * N,
        "queue.buffering.max.kbytes": 1024 * 1024,
        "message.timeout.ms": PRODUCE_TIMEOUT_S * 1000,
        "enable.idempotence": False,
    })
    t0 = time.monotonic()
    for i, v in enumerate(values):
        while True:
            try:
                # Key spreads messages over partitions deterministically.
                prod.produce(topic, value=v, key=b"%d" % i, on_delivery=on_delivery)
                break
            except BufferError:
                prod.poll(0.05)
        if i % 5000 == 0:
            prod.poll(0)
    prod.flush(PRODUCE_TIMEOUT_S)
    dt = time.monotonic() - t0
    check_eq(len(placed) + len(errors), N,
             f"[{codec}] delivery reports received within {PRODUCE_TIMEOUT_S} s")
    check(not errors, f"[{codec}] {len(errors)} delivery reports with errors, first: "
          f"{errors[:3]}")
    check_eq(len(placed), N, f"[{codec}] successful delivery reports")
    harness.contiguous_offsets(placed.values(), f"[{codec}] delivery report offsets")
    print(f"   [{codec}] produced {N} in {dt:.2f} s ({N / dt:,.0f} msg/s)")

    cons = harness.ck_consumer(server.bootstrap, {"fetch.max.bytes": 16 * 1024 * 1024})
    t0 = time.monotonic()
    tps = [ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(PARTITIONS)]
    msgs = harness.ck_consume_exact(cons, tps, N, CONSUME_TIMEOUT_S)
    dt = time.monotonic() - t0
    got = {}
    for m in msgs:
        v = m.value()
        check(v not in got, f"[{codec}] value {v[:20]!r} consumed twice")
        got[v] = (m.partition(), m.offset())
    check(set(got) == set(values),
          f"[{codec}] consumed values differ from produced: "
          f"{len(set(values) - set(got))} missing, {len(set(got) - set(values))} unexpected")
    bad = [(v[:20], got[v], placed[v]) for v in values if got[v] != placed[v]]
    check(not bad, f"[{codec}] {len(bad)} values at a different place than their delivery "
          f"report said, first: {bad[:3]}")
    counts = harness.contiguous_offsets(got.values(), f"[{codec}] consumed offsets")
    for p in range(PARTITIONS):
        lo, hi = cons.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=5, cached=False)
        check_eq((lo, hi), (0, counts.get(p, 0)), f"[{codec}] watermarks of partition {p}")
    cons.close()
    print(f"   [{codec}] consumed {N} in {dt:.2f} s; per partition {dict(sorted(counts.items()))}")


def test(server):
    rng = random.Random(SEED)
    for codec in CODECS:
        with step(f"codec {codec}: produce {N} with acks=all, consume all back"):
            run_codec(server, codec, rng)


if __name__ == "__main__":
    harness.run(test, budget_s=200, name="codecs", description=__doc__)
