#!/usr/bin/python3
"""Sarama 1.22.1's idempotent producer (and its read_committed consumer) against kairo.

tests/integration/go/sarama_idempotent.go is built offline in GOPATH mode with Debian's Sarama
(golang-github-shopify-sarama-dev), by the build helper of groups_go.py (or taken prebuilt from
--go-bin DIR / $KAIRO_IT_GO_BIN). Sarama 1.22.1 has no transactional producer (no
Producer.Transaction settings; AddPartitionsToTxn / EndTxn exist only as raw Broker methods), so
transactions are written by librdkafka (confluent-kafka) and read by Sarama's consumer.

Sarama (config.Version 2.0.0: InitProducerId v0, Produce v3, Fetch v4, ListOffsets v1):
 1. AsyncProducer with Producer.Idempotent (acks=all, Net.MaxOpenRequests=1, Retry.Max>0):
    N messages all acked, acknowledged offsets 0..n-1 on every partition with no duplicate;
    read back by a plain Sarama consumer (read_uncommitted and read_committed) and librdkafka;
 2. through a proxy that swallows the answers to some Produce requests (the connection is cut
    instead): Sarama re-sends those batches with the same producer id and sequence numbers;
    kairo must answer them as duplicates (same offsets), not append them again;
 3. kairo is SIGKILLed and restarted while Sarama produces: nothing lost, nothing twice;
 4. Sarama's ReadCommitted consumer (Fetch v4 aborted_transactions, last stable offset) on
    transactions written by librdkafka: committed and plain records once, aborted never, and an
    open transaction hides itself and everything behind it until it commits.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402
import groups_go as gg  # noqa: E402  (Go build helper; takes --go-bin out of argv)
import txn_node as tn  # noqa: E402  (Versions, proxied_kairo, check_retried_acks)

gg.PROGRAMS = ("sarama_idempotent",)
PROG = "sarama_idempotent"
PARTITIONS = 4
N = 5000                 # step 1
RETRY_N = 2000           # step 2
PACE = 100               # steps 2-3: Sarama waits for its acks every PACE messages
DROP_PRODUCE = (3, 8, 15)
RESTART_N = 6000         # step 3

KAIRO_ARGS = ["--auto-create-topics", "false"]


def acked_map(proc, topic, count):
    """{(partition, offset): index} from the produced lines; each offset acked once."""
    acked = {}
    for e in proc.events("produced"):
        po = (e["partition"], e["offset"])
        check(po not in acked, f"{topic}: offset {po} acknowledged for both message "
              f"{acked.get(po)} and {e['index']}")
        acked[po] = e["index"]
    check_eq(len(acked), count, f"{topic}: acknowledged messages")
    check_eq(sorted(acked.values()), list(range(count)), f"{topic}: acknowledged indexes")
    check(not proc.events("produce_error"), f"{topic}: produce errors {proc.events('produce_error')[:5]}")
    return acked


def sarama_read(go, topic, count, isolation, what):
    p = go.run(PROG, f"consume-{topic}-{isolation}", "-mode", "consume", "-topic", topic,
               "-count", count, "-isolation", isolation, "-grace", "1.5s")
    msgs = p.messages()
    check_eq(p.summary()["errors"], 0, f"{what}: consumer errors{p.diagnostics()}")
    return {(m["partition"], m["offset"]): m["value"] for m in msgs}, msgs


def check_readback(go, topic, acked, prefix, what):
    """Sarama (both isolation levels) and librdkafka read exactly the acknowledged messages."""
    want = {po: f"{prefix}-{i}" for po, i in acked.items()}
    counts = harness.contiguous_offsets(list(acked), f"{what}: acknowledged offsets")
    for iso in ("read_uncommitted", "read_committed"):
        got, msgs = sarama_read(go, topic, len(acked), iso, what)
        check_eq(len(msgs), len(got), f"{what}: Sarama {iso}: messages vs distinct offsets")
        check_eq(got, want, f"{what}: Sarama {iso} read-back vs acknowledgements")
    return counts


def ck_read_values(server, topic, partitions, expected, isolation):
    import confluent_kafka as ck
    c = harness.ck_consumer(server.bootstrap, {"isolation.level": isolation})
    try:
        msgs = harness.ck_consume_exact(
            c, [ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(partitions)],
            expected, timeout=20)
    finally:
        c.close()
    return {(m.partition(), m.offset()): m.value().decode() for m in msgs}


def test(server):
    vers = tn.Versions(server)
    go = gg.Go(server)
    with step("build sarama_idempotent.go (GOPATH mode, Debian's Sarama 1.22.1)"):
        t0 = time.monotonic()
        go.build()
        print(f"   built in {time.monotonic() - t0:.1f} s: {go.bin[PROG]}")

    def sarama(fn):
        return vers.around("Sarama 1.22.1", fn)

    def librdkafka(fn):
        return vers.around("librdkafka 2.0.2 (confluent-kafka)", fn)

    with step(f"Sarama idempotent AsyncProducer: {N} messages to {PARTITIONS} partitions, all "
              "acked once, offsets contiguous; read back by Sarama and librdkafka"):
        topic = "sarama-idempotent"
        errors_before = tn.metric_value(server, "kairo_kafka_produce_partition_errors_total")
        sarama(lambda: go.run(PROG, "create1", "-mode", "create", "-topic", topic,
                              "-partitions", PARTITIONS))
        p = sarama(lambda: go.run(PROG, "produce1", "-mode", "produce", "-topic", topic,
                                  "-count", N, "-prefix", "v"))
        acked = acked_map(p, topic, N)
        counts = sarama(lambda: check_readback(go, topic, acked, "v", "idempotent"))
        ck = librdkafka(lambda: ck_read_values(server, topic, PARTITIONS, N, "read_committed"))
        check_eq(ck, {po: f"v-{i}" for po, i in acked.items()}, "librdkafka read-back")
        check_eq(tn.metric_value(server, "kairo_kafka_produce_partition_errors_total") - errors_before,
                 0, "produce partition errors (duplicate / out-of-order sequence answers)")
        done = p.events("produce_done")[0]
        print(f"   {N} acked in {done['seconds']:.2f} s; per-partition counts {counts}")

    with step(f"Sarama idempotent producer through a proxy that swallows the answers to Produce "
              f"#{' #'.join(map(str, DROP_PRODUCE))}: the re-sent batches are deduplicated"):
        topic = "sarama-idempotent-retry"
        with tn.proxied_kairo(server, "txn-go-proxied", DROP_PRODUCE, KAIRO_ARGS) as px:
            pgo = gg.Go(px)
            pgo.bin = go.bin
            pgo.run(PROG, "create2", "-mode", "create", "-topic", topic, "-partitions", PARTITIONS)
            p = pgo.run(PROG, "produce2", "-mode", "produce", "-topic", topic, "-count", RETRY_N,
                        "-pace", PACE, "-prefix", "r", "-retries", 10, "-verbose")
            acked = acked_map(p, topic, RETRY_N)
            tn.check_retried_acks(px.proxy, [(topic, pp, o) for pp, o in acked], "Sarama")
            check_eq(len(px.proxy.dropped), len(DROP_PRODUCE), "Produce answers swallowed")
            counts = check_readback(pgo, topic, acked, "r", "after swallowed answers")
            with open(p.err_path, "rb") as f:
                retried = [ln for ln in f.read().decode("utf-8", "replace").splitlines()
                           if "retrying" in ln.lower() or "state change" in ln]
            print(f"   {px.proxy.produce_requests} Produce requests; {len(retried)} Sarama retry "
                  f"log lines; swallowed: {[(d['ordinal'], d['partitions']) for d in px.proxy.dropped]}; "
                  f"per-partition counts {counts}")

    with step(f"Sarama idempotent producer keeps sending {RESTART_N} messages while kairo is "
              "SIGKILLed and restarted: nothing lost, nothing twice"):
        topic = "sarama-idempotent-restart"
        go.run(PROG, "create3", "-mode", "create", "-topic", topic, "-partitions", PARTITIONS)
        p = go.start(PROG, "produce3", "-mode", "produce", "-topic", topic, "-count", RESTART_N,
                     "-pace", PACE, "-prefix", "s", "-retries", 20, "-verbose")
        try:
            harness.wait_until(lambda: len(p.events("progress")) * PACE >= RESTART_N // 3 or
                               not p.running(), 30, 0.01, "Sarama to have a third of its messages acked")
            check(p.running(), f"the producer exited early{p.diagnostics()}")
            at = len(p.events("produced"))
            server.restart(hard=True)
            print(f"   kairo SIGKILLed and restarted after {at} acked messages", flush=True)
            check_eq(p.wait(gg.PROC_TIMEOUT_S + 10), 0, f"producer exit code{p.diagnostics()}")
        finally:
            if p.running():
                p.kill()
        acked = acked_map(p, topic, RESTART_N)
        counts = check_readback(go, topic, acked, "s", "after the restart")
        print(f"   per-partition counts {counts}")

    with step("Sarama ReadCommitted consumer on librdkafka's transactions: committed and plain "
              "records once, aborted never; an open transaction holds it at the last stable offset"):
        import confluent_kafka as ck
        topic = "sarama-reads-txn"
        go.run(PROG, "create4", "-mode", "create", "-topic", topic, "-partitions", 2)
        visible, aborted, hidden = {}, {}, {}

        def write_transactions():
            tp = ck.Producer({"bootstrap.servers": server.bootstrap, "broker.address.family": "v4",
                              "transactional.id": "kairo-it-go-txn", "linger.ms": 5})
            plain = ck.Producer({"bootstrap.servers": server.bootstrap,
                                 "broker.address.family": "v4", "enable.idempotence": True})
            tp.init_transactions(15)

            def txn(prefix, n, commit, into):
                tp.begin_transaction()
                for i in range(n):
                    tp.produce(topic, key=f"{prefix}-{i}", value=f"{prefix}-{i}", partition=i % 2)
                tp.flush(10)
                into.update({f"{prefix}-{i}": 1 for i in range(n)})
                if commit:
                    tp.commit_transaction(15)
                else:
                    tp.abort_transaction(15)

            def plain_send(prefix, n, into):
                for i in range(n):
                    plain.produce(topic, key=f"{prefix}-{i}", value=f"{prefix}-{i}", partition=i % 2)
                check_eq(plain.flush(10), 0, "plain messages left unsent")
                into.update({f"{prefix}-{i}": 1 for i in range(n)})

            txn("c1", 20, True, visible)
            txn("a1", 20, False, aborted)
            plain_send("p1", 10, visible)
            txn("c2", 20, True, visible)
            # Left open: its records, and the plain ones after it, stay above the LSO.
            tp.begin_transaction()
            for i in range(10):
                tp.produce(topic, key=f"o-{i}", value=f"o-{i}", partition=i % 2)
            tp.flush(10)
            hidden.update({f"o-{i}": 1 for i in range(10)})
            plain_send("p2", 10, hidden)
            return tp
        tp = librdkafka(write_transactions)
        try:
            got, msgs = sarama(lambda: sarama_read(go, topic, len(visible), "read_committed",
                                                   "open transaction"))
            check_eq(sorted(m["value"] for m in msgs), sorted(visible),
                     "Sarama read_committed while a transaction is open (its records and the plain "
                     "ones after it must stay hidden; aborted ones never appear)")
            # read_uncommitted reads up to the high watermark: the open transaction too.
            got, msgs = sarama(lambda: sarama_read(go, topic, len(visible) + len(aborted) + len(hidden),
                                                   "read_uncommitted", "read_uncommitted"))
            check_eq(sorted(m["value"] for m in msgs), sorted({**visible, **aborted, **hidden}),
                     "Sarama read_uncommitted: every record, aborted and open included")
        finally:
            librdkafka(lambda: tp.commit_transaction(15))
        got, msgs = sarama(lambda: sarama_read(go, topic, len(visible) + len(hidden),
                                               "read_committed", "after the commit"))
        check_eq(sorted(m["value"] for m in msgs), sorted({**visible, **hidden}),
                 "Sarama read_committed after the open transaction committed")
        check_eq(len(got), len(msgs), "Sarama read_committed: distinct offsets")

    with step("request versions seen on /metrics"):
        for api in ("InitProducerId", "Produce", "Fetch"):
            check(vers.versions("Sarama 1.22.1", api), f"Sarama sent no {api} request (per /metrics)")
        vers.report()


if __name__ == "__main__":
    harness.run(test, extra_args=KAIRO_ARGS, budget_s=120, name="txn-go", description=__doc__)
