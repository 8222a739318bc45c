#!/usr/bin/python3
"""The operators' transaction APIs on the wire (the Python clients in Debian do not have them):
DescribeTransactions, ListTransactions and DescribeProducers, hand-encoded (flexible, v0), about
a transaction librdkafka keeps open, then commits.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

API_DESCRIBE_PRODUCERS = 61
API_DESCRIBE_TRANSACTIONS = 65
API_LIST_TRANSACTIONS = 66


def compact_array(items):
    return kw.uvarint(len(items) + 1) + b"".join(items)


def call(conn, api, version, corr, body):
    conn.send(kw.frame(kw.request_header(api, version, corr, flexible=True) + body))
    r = kw.Reader(conn.recv_frame(timeout=10))
    check_eq(r.i32(), corr, "correlation id")
    r.tagged_fields()  # response header v1
    return r


def cstr(r):
    n = r.uvarint()
    return None if n == 0 else r.take(n - 1).decode()


def describe_transactions(conn, corr, ids):
    r = call(conn, API_DESCRIBE_TRANSACTIONS, 0, corr,
             compact_array([kw.compact_string(i) for i in ids]) + kw.uvarint(0))
    r.i32()  # throttle
    out = {}
    for _ in range(r.uvarint() - 1):
        err, tid, state = r.i16(), cstr(r), cstr(r)
        timeout, start, pid, epoch = r.i32(), r.i64(), r.i64(), r.i16()
        topics = {}
        for _ in range(r.uvarint() - 1):
            name = cstr(r)
            topics[name] = sorted(r.i32() for _ in range(r.uvarint() - 1))
            r.tagged_fields()
        r.tagged_fields()
        out[tid] = dict(error=err, state=state, timeout=timeout, start=start, pid=pid, epoch=epoch, topics=topics)
    r.tagged_fields()
    check_eq(r.remaining(), 0, "trailing bytes in DescribeTransactions")
    return out


def list_transactions(conn, corr, states=(), pids=()):
    body = compact_array([kw.compact_string(s) for s in states]) + compact_array([kw.i64(p) for p in pids])
    r = call(conn, API_LIST_TRANSACTIONS, 0, corr, body + kw.uvarint(0))
    r.i32()
    err = r.i16()
    unknown = [cstr(r) for _ in range(r.uvarint() - 1)]
    txns = []
    for _ in range(r.uvarint() - 1):
        txns.append((cstr(r), r.i64(), cstr(r)))
        r.tagged_fields()
    r.tagged_fields()
    check_eq(r.remaining(), 0, "trailing bytes in ListTransactions")
    return err, unknown, txns


def describe_producers(conn, corr, topic, partitions):
    body = compact_array([kw.compact_string(topic) + compact_array([kw.i32(p) for p in partitions]) + kw.uvarint(0)])
    r = call(conn, API_DESCRIBE_PRODUCERS, 0, corr, body + kw.uvarint(0))
    r.i32()
    out = {}
    for _ in range(r.uvarint() - 1):
        cstr(r)
        for _ in range(r.uvarint() - 1):
            p, err, msg = r.i32(), r.i16(), cstr(r)
            producers = []
            for _ in range(r.uvarint() - 1):
                producers.append(dict(pid=r.i64(), epoch=r.i32(), last_seq=r.i32(), last_ts=r.i64(),
                                      coordinator_epoch=r.i32(), txn_start=r.i64()))
                r.tagged_fields()
            r.tagged_fields()
            out[p] = (err, msg, producers)
        r.tagged_fields()
    r.tagged_fields()
    check_eq(r.remaining(), 0, "trailing bytes in DescribeProducers")
    return out


def test(server):
    boot = server.bootstrap
    harness.ck_admin_create(boot, "ops", 2)
    tp = ck.Producer({"bootstrap.servers": boot, "broker.address.family": "v4", "transactional.id": "ops-app",
                      "transaction.timeout.ms": 60000})
    tp.init_transactions(30)
    tp.begin_transaction()
    for i in range(10):
        tp.produce("ops", key=f"k{i}".encode(), value=b"v", partition=0)
    check_eq(tp.flush(30), 0, "transactional messages unflushed")
    conn = kw.Conn(server.port)

    with step("DescribeTransactions: the open transaction, its producer and its partition"):
        d = describe_transactions(conn, 1, ["ops-app", "nobody"])
        t = d["ops-app"]
        check_eq((t["error"], t["state"], t["timeout"], t["topics"]), (0, "Ongoing", 60000, {"ops": [0]}),
                 "the open transaction")
        check(t["pid"] >= 0 and t["epoch"] >= 0, f"producer id/epoch {t['pid']}/{t['epoch']}")
        check(abs(t["start"] / 1000 - time.time()) < 60, f"start time {t['start']}")
        check_eq(d["nobody"]["error"], 105, "an unknown transactional id: TRANSACTIONAL_ID_NOT_FOUND")
        pid = t["pid"]

    with step("ListTransactions: filters by state and producer id; unknown states are named"):
        err, unknown, txns = list_transactions(conn, 2, states=["Ongoing", "Bogus"])
        check_eq((err, unknown, txns), (0, ["Bogus"], [("ops-app", pid, "Ongoing")]), "Ongoing transactions")
        check_eq(list_transactions(conn, 3, states=["CompleteCommit"])[2], [], "CompleteCommit transactions")
        check_eq(list_transactions(conn, 4, pids=[pid + 1000])[2], [], "another producer id")

    with step("DescribeProducers: the producer's sequence and its open transaction's first offset"):
        d = describe_producers(conn, 5, "ops", [0, 1, 7])
        err, _, producers = d[0]
        check_eq(err, 0, "partition 0 error")
        mine = [p for p in producers if p["pid"] == pid]
        check_eq(len(mine), 1, f"producers of partition 0: {producers}")
        check_eq((mine[0]["last_seq"], mine[0]["txn_start"]), (9, 0), "last sequence and transaction start")
        check_eq(d[1][2], [], "producers of partition 1")
        check_eq(d[7][0], 3, "a partition that does not exist: UNKNOWN_TOPIC_OR_PARTITION")

    with step("after the commit: CompleteCommit, no open transaction in the partition"):
        tp.commit_transaction(30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if describe_transactions(conn, 6, ["ops-app"])["ops-app"]["state"] == "CompleteCommit":
                break
            time.sleep(0.05)
        t = describe_transactions(conn, 7, ["ops-app"])["ops-app"]
        check_eq((t["state"], t["topics"]), ("CompleteCommit", {}), "the committed transaction")
        mine = [p for p in describe_producers(conn, 8, "ops", [0])[0][2] if p["pid"] == pid]
        check_eq(mine[0]["txn_start"], -1, "the partition's open transaction after the marker")
    conn.close()


if __name__ == "__main__":
    harness.run(test, budget_s=60, name="txn-wire", description="operators' transaction APIs on the wire")
