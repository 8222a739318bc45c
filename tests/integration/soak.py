#!/usr/bin/python3
"""Soak: a server under mixed load for a while keeps its memory, descriptors and disk flat.

For KAIRO_SOAK_SECONDS (default 60; set it to hours on demand), against one kairo with small
WAL segments and a short retention interval:
  - a producer writes ~1-2 MB/s of 1 KiB records to a 3-partition topic whose retention.bytes is
    1 MiB per partition (acks=all, every delivery checked);
  - a consumer group of two members reads it with commits;
  - every few seconds a short-lived topic is created, written, read and deleted, and a
    second connection opens and closes (churn in the catalog, the coordinator and the sockets).
Every 2 s the server's RSS, open file descriptors and WAL bytes are sampled. After a warm-up
third, RSS may not grow by more than 25 % + 16 MiB, descriptors by more than 8, and the WAL must
stay under its bound (docs/wal-format.md, "Reclaiming space": 2 x the live data + two segments +
what arrives in two intervals). The consumers must keep up (lag bounded) and see contiguous offsets.
The samples go to soak.csv in the test's temp dir (kept with --keep).
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, step, wait_until  # noqa: E402

import confluent_kafka as ck  # noqa: E402
import confluent_kafka.admin as cka  # noqa: E402

BASE = {"broker.address.family": "v4"}
SECONDS = int(os.environ.get("KAIRO_SOAK_SECONDS", "60"))
SEGMENT = 2 << 20
RETENTION = 1 << 20
INTERVAL_MS = 500


def proc_sample(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


def wal_bytes(server):
    d = os.path.join(server.data_dir, "wal")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def test(server):
    boot = server.bootstrap
    admin = cka.AdminClient(dict(BASE, **{"bootstrap.servers": boot}))
    harness.ck_admin_create(boot, "soak", 3)
    res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, "soak", set_config={"retention.bytes": str(RETENTION)})
    admin.alter_configs([res])[res].result(timeout=15)

    stop = threading.Event()
    errors = []
    produced = [0]
    consumed = {}

    def producer():
        p = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "linger.ms": 5, "acks": "all"}))
        value = b"s" * 1024

        def report(err, msg):
            if err:
                errors.append(f"delivery: {err}")
            else:
                produced[0] += 1
        while not stop.is_set():
            for _ in range(100):
                p.produce("soak", value=value, on_delivery=report)
            p.poll(0)
            time.sleep(0.07)  # ~1.4 MB/s
        if p.flush(30):
            errors.append("producer: unflushed messages at the end")

    def consumer(name):
        c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "soak-group", "client.id": name,
                                      "auto.offset.reset": "earliest", "enable.auto.commit": True,
                                      "auto.commit.interval.ms": 500}))
        c.subscribe(["soak"])
        last = {}
        while not stop.is_set():
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error():
                    if m.error().code() != ck.KafkaError._PARTITION_EOF:
                        errors.append(f"{name}: {m.error()}")
                    continue
                p = m.partition()
                # Offsets within a partition only go up; a jump is retention (the group fell
                # behind the log start), never a step back.
                if p in last and m.offset() <= last[p]:
                    errors.append(f"{name}: partition {p} went back from {last[p]} to {m.offset()}")
                last[p] = m.offset()
                consumed[p] = max(consumed.get(p, -1), m.offset())
        c.close()

    def churn():
        i = 0
        while not stop.is_set():
            name = f"churn-{i}"
            try:
                admin.create_topics([cka.NewTopic(name, 1, 1)])[name].result(timeout=15)
                p = ck.Producer(dict(BASE, **{"bootstrap.servers": boot}))
                for _ in range(50):
                    p.produce(name, value=b"c" * 200)
                if p.flush(15):
                    errors.append(f"churn: {name} unflushed")
                lo, hi = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "w"})).get_watermark_offsets(
                    ck.TopicPartition(name, 0), timeout=10)
                if hi != 50:
                    errors.append(f"churn: {name} high watermark {hi}, expected 50")
                admin.delete_topics([name])[name].result(timeout=15)
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                errors.append(f"churn {name}: {e}")
            i += 1
            stop.wait(3)

    threads = [threading.Thread(target=producer, daemon=True),
               threading.Thread(target=consumer, args=("c1",), daemon=True),
               threading.Thread(target=consumer, args=("c2",), daemon=True),
               threading.Thread(target=churn, daemon=True)]
    samples = []
    csv = os.path.join(server.tmp, "soak.csv")
    with step(f"{SECONDS} s of mixed load: produce, a group consuming, topic churn, retention"):
        for t in threads:
            t.start()
        t0 = time.monotonic()
        with open(csv, "w") as out:
            out.write("t_s,rss_bytes,fds,wal_bytes,produced\n")
            while time.monotonic() - t0 < SECONDS:
                time.sleep(2)
                rss, fds = proc_sample(server.proc.pid)
                wal = wal_bytes(server)
                t = time.monotonic() - t0
                samples.append((t, rss, fds, wal))
                out.write(f"{t:.1f},{rss},{fds},{wal},{produced[0]}\n")
                out.flush()
                if len(samples) % 10 == 0:
                    print(f"   {t:5.0f} s: RSS {rss / 1048576:.1f} MiB, {fds} fds, WAL {wal / 1048576:.1f} MiB, "
                          f"{produced[0]} records acked", flush=True)
                check(not errors, f"errors under load: {errors[:5]}")
        stop.set()
        for t in threads:
            t.join(timeout=40)
        check(not errors, f"errors under load: {errors[:5]}")

    with step("memory, descriptors and disk stayed flat; the consumers kept up"):
        warm = [s for s in samples if s[0] >= SECONDS / 3]
        check(len(warm) >= 5, f"too few samples after the warm-up: {len(warm)}")
        rss0 = min(s[1] for s in warm[:3])
        rss1 = max(s[1] for s in warm[-3:])
        fd0 = min(s[2] for s in warm[:3])
        fd1 = max(s[2] for s in warm[-3:])
        wal_peak = max(s[3] for s in warm)
        # Live data: 3 partitions x retention; two segments; two intervals of ~1.4 MB/s.
        bound = 2 * 3 * RETENTION + 2 * SEGMENT + 2 * 2 * 1_500_000 * INTERVAL_MS // 1000 + (4 << 20)
        print(f"   RSS {rss0 / 1048576:.1f} -> {rss1 / 1048576:.1f} MiB, fds {fd0} -> {fd1}, "
              f"WAL peak {wal_peak / 1048576:.1f} MiB (bound {bound / 1048576:.1f} MiB), "
              f"{produced[0]} records acked; samples in {csv}")
        check(rss1 <= rss0 * 1.25 + (16 << 20), f"RSS grew from {rss0} to {rss1} bytes")
        check(fd1 <= fd0 + 8, f"open descriptors grew from {fd0} to {fd1}")
        check(wal_peak <= bound, f"the WAL peaked at {wal_peak} bytes, above its bound of {bound}")
        check(produced[0] > SECONDS * 500, f"only {produced[0]} records acked in {SECONDS} s")
        c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "w2"}))
        for p in range(3):
            lo, hi = c.get_watermark_offsets(ck.TopicPartition("soak", p), timeout=10)
            check(lo > 0, f"retention never moved partition {p}'s log start")
            check(consumed.get(p, -1) >= hi - 5000, f"the group fell behind on partition {p}: {consumed.get(p)} of {hi}")
        c.close()
        wait_until(lambda: wal_bytes(server) <= bound, 10, what="the WAL within its bound")


if __name__ == "__main__":
    harness.run(test, budget_s=SECONDS + 90, name="soak",
                extra_args=["--wal-segment-bytes", str(SEGMENT), "--log-retention-check-interval-ms", str(INTERVAL_MS)],
                description="mixed load for KAIRO_SOAK_SECONDS: RSS, descriptors and disk stay flat")
