#!/usr/bin/python3
"""Group APIs on the wire, with hand-written requests (no client library in the way):

- a parked JoinGroup does not stop its connection from being read: a Produce sent behind it on
  the same connection is made durable while the JoinGroup still waits, and the two answers
  come back in request order (librdkafka treats reordered answers as fatal);
- FindCoordinator v4 batches keys: one answer per key, groups answered with the node Metadata
  lists, transaction keys with COORDINATOR_NOT_AVAILABLE;
- JoinGroup v4 with an empty member id answers MEMBER_ID_REQUIRED with an id to rejoin with.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

API_JOIN_GROUP = 11
API_FIND_COORDINATOR = 10
DELAY_MS = 1500


def join_v1(corr, group, member_id=""):
    body = kw.string(group) + kw.i32(10000) + kw.i32(10000) + kw.string(member_id) + kw.string("consumer")
    body += kw.i32(1) + kw.string("range") + kw.kbytes(b"\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff")
    return kw.frame(kw.request_header(API_JOIN_GROUP, 1, corr) + body)


def join_v4(corr, group, member_id=""):
    body = kw.string(group) + kw.i32(10000) + kw.i32(10000) + kw.string(member_id) + kw.string("consumer")
    body += kw.i32(1) + kw.string("range") + kw.kbytes(b"\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff")
    return kw.frame(kw.request_header(API_JOIN_GROUP, 4, corr) + body)


def parse_join(body, version):
    r = kw.Reader(body)
    corr = r.i32()
    if version >= 2:
        r.i32()  # throttle_time_ms
    err = r.i16()
    gen = r.i32()
    protocol = r.string()
    leader = r.string()
    member = r.string()
    members = [(r.string(), r.take(r.i32())) for _ in range(r.i32())]
    check_eq(r.remaining(), 0, "trailing bytes in the JoinGroup answer")
    return corr, err, gen, protocol, leader, member, members


def test(server):
    boot = server.bootstrap
    record = kw.record_batch([(b"k", b"behind-the-join", [])], int(time.time() * 1000))

    with step("a Produce behind a parked JoinGroup on the same connection is read and made durable "
              "before the JoinGroup is answered; answers come back in request order"):
        # The topic exists first so that the produce is not waiting on auto-creation.
        harness.ck_admin_create(boot, "wire-t", 1)
        c = kw.Conn(server.port)
        t0 = time.monotonic()
        c.send(join_v1(1, "wire-app"))
        c.send(kw.produce_v3_request(2, {"wire-t": [(0, record)]}, acks=1))
        probe = ck.Consumer({"bootstrap.servers": boot, "broker.address.family": "v4", "group.id": "probe"})
        seen_at = None
        while time.monotonic() - t0 < DELAY_MS / 1000 * 0.8:
            lo, hi = probe.get_watermark_offsets(ck.TopicPartition("wire-t", 0), timeout=5)
            if hi == 1:
                seen_at = time.monotonic() - t0
                break
            time.sleep(0.02)
        probe.close()
        check(seen_at is not None,
              "the produce sent behind the parked JoinGroup was not durable while the join waited")
        first = c.recv_frame(timeout=10)
        joined_at = time.monotonic() - t0
        second = c.recv_frame(timeout=10)
        corr, err, gen, protocol, leader, member, members = parse_join(first, 1)
        check_eq((corr, err, gen, protocol), (1, 0, 1, "range"), "JoinGroup answer (correlation, error, generation, protocol)")
        check_eq(leader, member, "the only member leads")
        check_eq(len(members), 1, "the leader's answer lists the members")
        corr2, topics, _ = kw.parse_produce_v3_response(second)
        check_eq(corr2, 2, "the produce answer comes second")
        check_eq(topics["wire-t"][0][0], 0, "produce error code")
        check(joined_at >= DELAY_MS / 1000 * 0.9, f"the join was answered after {joined_at:.2f} s, before the initial delay")
        print(f"   produce durable at {seen_at:.2f} s, join answered at {joined_at:.2f} s")
        c.close()

    with step("JoinGroup v4 with an empty member id: MEMBER_ID_REQUIRED and an id to rejoin with"):
        c = kw.Conn(server.port)
        c.send(join_v4(3, "wire-v4"))
        corr, err, gen, protocol, leader, member, members = parse_join(c.recv_frame(timeout=10), 4)
        check_eq((corr, err, gen), (3, 79, -1), "first JoinGroup v4 answer")
        check(member.startswith("kairo-it-raw-"), f"member id {member!r} starts with the client id")
        c.send(join_v4(4, "wire-v4", member))
        corr, err, gen, protocol, leader, member2, members = parse_join(c.recv_frame(timeout=10), 4)
        check_eq((corr, err, gen, member2), (4, 0, 1, member), "rejoin with the assigned id")
        c.close()

    with step("FindCoordinator v4: one answer per key; groups and transactional ids both get this node"):
        c = kw.Conn(server.port)
        for key_type, want_err in ((0, 0), (1, 0)):
            body = kw.i8(key_type) + kw.uvarint(3) + kw.compact_string("g-1") + kw.compact_string("g-2") + kw.uvarint(0)
            c.send(kw.frame(kw.request_header(API_FIND_COORDINATOR, 4, 10 + key_type, flexible=True) + body))
            r = kw.Reader(c.recv_frame(timeout=10))
            check_eq(r.i32(), 10 + key_type, "correlation id")
            r.tagged_fields()  # response header v1
            r.i32()  # throttle
            n = r.uvarint() - 1
            check_eq(n, 2, "coordinators answered")
            for key in ("g-1", "g-2"):
                got_key = r.take(r.uvarint() - 1).decode()
                node, host, port = r.i32(), r.take(r.uvarint() - 1).decode(), r.i32()
                err = r.i16()
                msg_len = r.uvarint()
                if msg_len:
                    r.take(msg_len - 1)
                r.tagged_fields()
                check_eq(got_key, key, "key echoed")
                check_eq(err, want_err, f"error for key type {key_type}")
                check_eq((node, host, port), (0, "127.0.0.1", server.port), "the coordinator is the node Metadata lists")
        c.close()


if __name__ == "__main__":
    harness.run(test, extra_args=["--group-initial-rebalance-delay-ms", str(DELAY_MS)], budget_s=60,
                name="groups-wire", description="group APIs on the wire")
