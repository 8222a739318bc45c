#!/usr/bin/python3
"""Idempotent and transactional producers with confluent-kafka (librdkafka 2.0) against kairo.

Clients reach kairo through a loopback proxy (kairo advertises the proxy's port), so that the
test can cut every connection while requests are in flight: their answers are lost after the
broker wrote them, the producer retries, and kairo must recognise the retries.

  1. idempotent: 100,000 messages, all acked, each exactly once, offsets contiguous;
  2. the same while the proxy cuts all connections again and again: retries are deduplicated
     (kairo counts them) and nothing is doubled or lost;
  3. the same across kill -9 of kairo and a restart in the middle of the stream;
  4. transactions: a read_committed consumer sees committed transactions exactly once and
     aborted ones never (a read_uncommitted one sees both);
  5. consume-transform-produce with send_offsets_to_transaction: input offsets and output commit
     together; an aborted round leaves neither;
  6. a second producer with the same transactional id fences the first;
  7. kill -9 of kairo while a transactional producer runs: no partial transaction is ever
     visible to read_committed, every transaction the producer saw committed is there whole.
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
from tcp_proxy import Proxy  # noqa: E402

import confluent_kafka as ck  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY_PORT = harness.free_ports(1)[0]
BASE = {"broker.address.family": "v4"}


def scrape(server, name):
    body = urllib.request.urlopen(f"http://127.0.0.1:{server.admin_port}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
               if line.startswith(name + " ") or line.startswith(name + "{"))


def idempotent_producer(boot, **extra):
    conf = dict(BASE, **{"bootstrap.servers": boot, "enable.idempotence": True, "linger.ms": 5,
                         "message.timeout.ms": 60000, "retry.backoff.ms": 50})
    conf.update(extra)
    return ck.Producer(conf)


def read_all(boot, topic, partitions, isolation="read_committed", timeout=60):
    """Every record of the topic from the beginning, as {partition: [(offset, key)]}."""
    c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": f"reader-{time.monotonic_ns()}",
                                  "enable.auto.commit": False, "isolation.level": isolation,
                                  "auto.offset.reset": "earliest"}))
    ends = {}
    for p in range(partitions):
        lo, hi = c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10)
        ends[p] = hi
    c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(partitions)])
    out = {p: [] for p in range(partitions)}
    deadline = time.monotonic() + timeout
    idle_since = time.monotonic()
    while time.monotonic() < deadline:
        msgs = c.consume(num_messages=10000, timeout=0.3)
        for m in msgs:
            check(m.error() is None, f"consumer error {m.error()}")
            out[m.partition()].append((m.offset(), m.key().decode() if m.key() else None))
        if msgs:
            idle_since = time.monotonic()
        positions = c.position([ck.TopicPartition(topic, p) for p in range(partitions)])
        # read_committed positions stop at the last stable offset, markers past it are skipped:
        # done once nothing arrived for a while and every position reached its end or came close.
        if all(tp.offset >= ends[tp.partition] for tp in positions) or time.monotonic() - idle_since > 2:
            break
    c.close()
    return out


def check_exactly_once(got, expected_keys, what):
    keys = [k for recs in got.values() for _, k in recs]
    dup = len(keys) - len(set(keys))
    check_eq(dup, 0, f"{what}: keys read more than once")
    missing = expected_keys - set(keys)
    check(not missing, f"{what}: {len(missing)} acked messages missing (e.g. {sorted(missing)[:3]})")


def check_contiguous(got, what):
    for p, recs in got.items():
        offs = [o for o, _ in recs]
        check_eq(offs, list(range(len(offs))), f"{what}: offsets of partition {p}")


def produce_keys(p, topic, prefix, n, acked, errors, pause_every=0, on_pause=None):
    for i in range(n):
        key = f"{prefix}-{i}"
        while True:
            try:
                p.produce(topic, key=key.encode(), value=b"x" * 64,
                          on_delivery=lambda err, m: errors.append(err) if err else acked.add(m.key().decode()))
                break
            except BufferError:
                p.poll(0.05)
        if i % 500 == 0:
            p.poll(0)
        if pause_every and i % pause_every == pause_every - 1 and on_pause:
            on_pause(i)


def test(server):
    proxy = Proxy(PROXY_PORT, server.port)
    boot = f"127.0.0.1:{PROXY_PORT}"
    try:
        scenario(server, boot, proxy)
    finally:
        proxy.close()


def scenario(server, boot, proxy):
    with step("idempotent producer: 100,000 messages acked, each exactly once, offsets contiguous"):
        harness.ck_admin_create(boot, "idem", 3)
        p = idempotent_producer(boot)
        acked, errors = set(), []
        produce_keys(p, "idem", "a", 100_000, acked, errors)
        check_eq(p.flush(60), 0, "messages unflushed")
        check(not errors, f"{len(errors)} delivery errors, first {errors[:1]}")
        check_eq(len(acked), 100_000, "messages acked")
        got = read_all(boot, "idem", 3, isolation="read_uncommitted")
        check_exactly_once(got, acked, "idempotent stream")
        check_contiguous(got, "idempotent stream")
        check_eq(sum(len(r) for r in got.values()), 100_000, "records in the topic")

    with step("connections cut again and again mid-stream: the retries are deduplicated, nothing doubles"):
        harness.ck_admin_create(boot, "idem-cut", 3)
        before = scrape(server, "kairo_kafka_produce_duplicates_total")
        p = idempotent_producer(boot, **{"max.in.flight.requests.per.connection": 5})
        acked, errors = set(), []
        produce_keys(p, "idem-cut", "warm", 100, acked, errors)
        check_eq(p.flush(30), 0, "warm-up unflushed")  # the producer id is assigned: cuts now hit data
        stop = threading.Event()

        def cutter():
            while not stop.wait(0.3):
                proxy.lose_answers_then_cut(0.1)
        cutting = threading.Thread(target=cutter, daemon=True)
        cutting.start()
        for chunk in range(60):
            produce_keys(p, "idem-cut", f"b{chunk}", 500, acked, errors)
            p.poll(0)
            time.sleep(0.05)  # a steady stream across many cuts
        stop.set()
        cutting.join()
        check_eq(p.flush(120), 0, "messages unflushed after the cuts")
        check(not errors, f"{len(errors)} delivery errors, first {errors[:1]}")
        dups = scrape(server, "kairo_kafka_produce_duplicates_total") - before
        print(f"   {proxy.cuts} cuts; kairo recognised {dups:.0f} retried batches as duplicates")
        got = read_all(boot, "idem-cut", 3, isolation="read_uncommitted")
        check_exactly_once(got, acked, "stream with cut connections")
        check_contiguous(got, "stream with cut connections")
        check_eq(sum(len(r) for r in got.values()), 30_100, "records in the topic")
        check(dups > 0, "no retry reached kairo as a duplicate: the cuts tested nothing")

    with step("kill -9 of kairo and a restart in the middle of the stream: still exactly once"):
        harness.ck_admin_create(boot, "idem-crash", 3)
        p = idempotent_producer(boot)
        acked, errors = set(), []
        crashed = []

        def crash(i):
            if not crashed:
                p.poll(0.2)
                server.restart(hard=True)
                crashed.append(i)
        produce_keys(p, "idem-crash", "c", 20_000, acked, errors, pause_every=8000, on_pause=crash)
        check_eq(p.flush(120), 0, "messages unflushed after the crash")
        check(not errors, f"{len(errors)} delivery errors, first {errors[:1]}")
        got = read_all(boot, "idem-crash", 3, isolation="read_uncommitted")
        check_exactly_once(got, acked, "stream across kill -9")
        check_contiguous(got, "stream across kill -9")
        check_eq(sum(len(r) for r in got.values()), 20_000, "records in the topic")

    with step("transactions: read_committed sees committed ones exactly once, aborted ones never"):
        harness.ck_admin_create(boot, "txn", 3)
        tp = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "transactional.id": "txn-basic"}))
        tp.init_transactions(30)
        committed = set()
        for round_ in range(6):
            tp.begin_transaction()
            keys = [f"r{round_}-{i}" for i in range(50)]
            for k in keys:
                tp.produce("txn", key=k.encode(), value=b"v")
            if round_ % 3 == 2:
                # Sent and acked first, so that the aborted records are really in the log.
                check_eq(tp.flush(30), 0, "aborted transaction's messages unflushed")
                tp.abort_transaction(30)
            else:
                tp.commit_transaction(30)
                committed |= set(keys)
        got = read_all(boot, "txn", 3)
        keys = [k for recs in got.values() for _, k in recs]
        check_eq(sorted(keys), sorted(committed), "keys read_committed")
        everything = read_all(boot, "txn", 3, isolation="read_uncommitted")
        check_eq(sum(len(r) for r in everything.values()), 300, "records read_uncommitted (aborted ones too)")
        check_eq(scrape(server, "kairo_txn_open_partition_transactions"), 0.0, "open partition transactions")

    with step("consume-transform-produce: output and input offsets commit together; an abort leaves neither"):
        harness.ck_admin_create(boot, "ctp-in", 3)
        harness.ck_admin_create(boot, "ctp-out", 3)
        src = idempotent_producer(boot)
        for i in range(600):
            src.produce("ctp-in", key=f"in-{i}".encode(), value=str(i).encode())
        check_eq(src.flush(30), 0, "input unflushed")
        c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "ctp", "enable.auto.commit": False,
                                      "auto.offset.reset": "earliest", "isolation.level": "read_committed"}))
        c.subscribe(["ctp-in"])
        tp = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "transactional.id": "ctp-app"}))
        tp.init_transactions(30)
        done, rounds, aborted_once = 0, 0, False
        deadline = time.monotonic() + 60
        while done < 600 and time.monotonic() < deadline:
            msgs = [m for m in c.consume(num_messages=100, timeout=0.5) if m.error() is None]
            if not msgs:
                continue
            tp.begin_transaction()
            for m in msgs:
                tp.produce("ctp-out", key=b"out-" + m.key()[3:], value=m.value())
            tp.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
            rounds += 1
            if rounds == 2 and not aborted_once:
                # Abort one round: its output must vanish and the group must re-read its input.
                tp.abort_transaction(30)
                aborted_once = True
                committed_offsets = c.committed(c.assignment(), timeout=10)
                for tpo in committed_offsets:
                    c.seek(ck.TopicPartition("ctp-in", tpo.partition, tpo.offset if tpo.offset >= 0 else 0))
                continue
            tp.commit_transaction(30)
            done += len(msgs)
        c.close()
        check_eq(done, 600, "input messages processed in committed transactions")
        out = read_all(boot, "ctp-out", 3)
        keys = [k for recs in out.values() for _, k in recs]
        check_eq(len(keys), len(set(keys)), "output keys read more than once")
        check_eq(set(keys), {f"out-{i}" for i in range(600)}, "output keys")
        probe = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "ctp"}))
        offsets = probe.committed([ck.TopicPartition("ctp-in", p) for p in range(3)], timeout=10)
        hws = {p: probe.get_watermark_offsets(ck.TopicPartition("ctp-in", p), timeout=10)[1] for p in range(3)}
        probe.close()
        check_eq({t.partition: t.offset for t in offsets}, hws, "the group's committed input offsets")

    with step("a second producer with the same transactional id fences the first"):
        a = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "transactional.id": "fence-me"}))
        a.init_transactions(30)
        a.begin_transaction()
        a.produce("txn", key=b"zombie", value=b"z")
        a.flush(10)
        b = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "transactional.id": "fence-me"}))
        b.init_transactions(30)
        fenced = None
        try:
            a.commit_transaction(15)
        except ck.KafkaException as e:
            fenced = e.args[0]
        check(fenced is not None, "the fenced producer's commit succeeded")
        check(fenced.fatal() or "fenced" in str(fenced).lower() or "epoch" in str(fenced).lower(),
              f"the first producer's error does not say it was fenced: {fenced}")
        print(f"   first producer: {fenced}")
        b.begin_transaction()
        b.produce("txn", key=b"successor", value=b"s")
        b.commit_transaction(30)
        keys = [k for recs in read_all(boot, "txn", 3).values() for _, k in recs]
        check("zombie" not in keys, "the fenced producer's message is visible to read_committed")
        check("successor" in keys, "the new producer's committed message is missing")

    with step("kill -9 of kairo under a transactional producer: never a partial transaction"):
        harness.ck_admin_create(boot, "txn-crash", 3)
        child = subprocess.Popen([sys.executable, os.path.join(HERE, "txn_producer.py"), "--bootstrap", boot,
                                  "--transactional-id", "crash-app", "--topic", "txn-crash", "--size", "20"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        events = []
        threading.Thread(target=lambda: [events.append(json.loads(l)) for l in child.stdout], daemon=True).start()
        try:
            wait_until(lambda: sum("committed" in e for e in events) >= 20, 60, what="20 committed transactions")
            server.restart(hard=True)
            wait_until(lambda: sum("committed" in e for e in events) >= 40 or any("fatal" in e for e in events), 90,
                       what="the producer to carry on after the restart")
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        # A successor with the same id aborts whatever the killed producer left open.
        successor = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "transactional.id": "crash-app"}))
        successor.init_transactions(60)
        got = read_all(boot, "txn-crash", 3)
        by_txn = {}
        for recs in got.values():
            for _, k in recs:
                by_txn.setdefault(k.split("-")[0], set()).add(k)
        partial = {t: len(ks) for t, ks in by_txn.items() if len(ks) != 20}
        check(not partial, f"partial transactions visible to read_committed: {partial}")
        committed_txns = {f"t{e['committed']}" for e in events if "committed" in e}
        missing = committed_txns - set(by_txn)
        check(not missing, f"transactions the producer saw committed are missing: {sorted(missing)[:5]}")
        print(f"   {len(committed_txns)} transactions committed by the producer, {len(by_txn)} visible, all whole")


if __name__ == "__main__":
    harness.run(test, advertised_port=PROXY_PORT, budget_s=400, name="txn-confluent",
                extra_args=["--group-initial-rebalance-delay-ms", "200"],
                description="idempotent and transactional producers with confluent-kafka")
