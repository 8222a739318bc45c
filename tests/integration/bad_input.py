#!/usr/bin/python3
"""Malformed and hostile input on raw sockets; the server must shrug it off.

Cases: (a) random bytes, (b) truncated frame, (c) negative length, (d) length above
--max-request-bytes, (e) unknown api key, (f) unsupported versions (ApiVersions v99 must
answer UNSUPPORTED_VERSION in the v0 shape with the api list), (g) Produce v3 with a
corrupted RecordBatch CRC -> CORRUPT_MESSAGE (2) and nothing stored. After every case a
real client (confluent-kafka) produces and consumes normally on the same server.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import kafka_wire as w  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

SEED = 31337
MAX_REQUEST_BYTES = 4 * 1024 * 1024
SANITY_TOPIC = "sanity"
CRC_TOPIC = "crc"
CLOSE_TIMEOUT_S = 10.0

ERR_NONE = 0
ERR_CORRUPT_MESSAGE = 2
ERR_UNSUPPORTED_VERSION = 35


class Sanity:
    """A real client must still produce and consume after every bad input."""

    def __init__(self, server):
        self.server = server
        self.rounds = 0

    def __call__(self, after):
        self.server.assert_alive()
        self.rounds += 1
        values = [f"sanity-{self.rounds}-{i}".encode() for i in range(20)]
        offsets = []
        errors = []

        def cb(err, msg):
            if err is not None:
                errors.append(str(err))
            else:
                offsets.append(msg.offset())
        prod = ck.Producer({"bootstrap.servers": self.server.bootstrap,
                            "broker.address.family": "v4", "acks": "all", "linger.ms": 1,
                            "message.timeout.ms": 10000})
        for v in values:
            prod.produce(SANITY_TOPIC, value=v, partition=0, on_delivery=cb)
        prod.flush(15)
        check_eq(len(offsets) + len(errors), 20,
                 f"sanity produce after {after}: delivery reports within 15 s")
        check(not errors, f"sanity produce after {after}: delivery errors {errors[:3]}")
        first = min(offsets)
        check_eq(sorted(offsets), list(range(first, first + 20)),
                 f"sanity produce after {after}: offsets")
        cons = harness.ck_consumer(self.server.bootstrap)
        msgs = harness.ck_consume_exact(cons, [ck.TopicPartition(SANITY_TOPIC, 0, first)], 20, 15)
        cons.close()
        check_eq([m.value() for m in msgs], values, f"sanity consume after {after}")
        print(f"   real client OK after {after} (offsets {first}..{first + 19})")


def expect_close(conn, what, timeout=CLOSE_TIMEOUT_S):
    try:
        data = conn.read_until_eof(timeout)
    except TimeoutError as e:
        raise harness.TestFailure(f"{what}: {e}")
    finally:
        conn.close()
    note = f" after {len(data)} response bytes" if data else ""
    print(f"   {what}: connection closed by server{note}")


def expect_close_or_answer(conn, corr, what, timeout=CLOSE_TIMEOUT_S):
    """The server closes the connection, or answers with our correlation id."""
    try:
        body = conn.recv_frame(timeout)
    except TimeoutError:
        conn.close()
        raise harness.TestFailure(f"{what}: no answer and no close within {timeout:.0f} s")
    except (ValueError, OSError) as e:
        conn.close()
        raise harness.TestFailure(f"{what}: malformed answer: {e}")
    conn.close()
    if body is None:
        print(f"   {what}: connection closed by server")
        return None
    got = int.from_bytes(body[:4], "big", signed=True)
    check_eq(got, corr, f"{what}: correlation id of the answer")
    print(f"   {what}: answered ({len(body)} bytes: {body[:16].hex()}...)")
    return body


def produce_raw(port, corr, topic_data):
    c = w.Conn(port)
    try:
        c.send(w.produce_v3_request(corr, topic_data, acks=-1, timeout_ms=10000))
        body = c.recv_frame(15)
    finally:
        c.close()
    check(body is not None, "Produce v3: server closed the connection instead of answering")
    got_corr, res, throttle = w.parse_produce_v3_response(body)
    check_eq(got_corr, corr, "Produce v3 response correlation id")
    return res


def test(server):
    rng = random.Random(SEED)
    port = server.port
    sanity = Sanity(server)
    harness.ck_admin_create(server.bootstrap, SANITY_TOPIC, 1)
    harness.ck_admin_create(server.bootstrap, CRC_TOPIC, 2)
    sanity("setup")

    with step("raw framing sanity: ApiVersions v0 and v3 answered correctly"):
        c = w.Conn(port)
        c.send(w.api_versions_request(101, 0))
        corr, err, apis = w.parse_api_versions_v0(c.recv_frame())
        check_eq((corr, err), (101, ERR_NONE), "ApiVersions v0 correlation id, error_code")
        check(apis.get(18, (9, -1))[0] <= 3 <= apis.get(18, (9, -1))[1],
              f"ApiVersions v0 lists ApiVersions 0..3 (got {apis.get(18)})")
        check(apis.get(0, (9, -1))[0] <= 3 <= apis.get(0, (9, -1))[1],
              f"ApiVersions lists Produce v3 (got {apis.get(0)})")
        c.send(w.api_versions_request(102, 3))  # same connection: pipelined requests work
        corr, err, apis3, _ = w.parse_api_versions_v3(c.recv_frame())
        check_eq((corr, err), (102, ERR_NONE), "ApiVersions v3 correlation id, error_code")
        check_eq(apis3, apis, "ApiVersions v3 api list vs v0 api list")
        c.close()
        print(f"   {len(apis)} apis: {dict(sorted(apis.items()))}")

    with step("(a) random bytes"):
        c = w.Conn(port)
        c.send(rng.randbytes(1024))
        c.shutdown_write()
        expect_close(c, "1024 random bytes then half-close")
        for i in range(12):
            body = rng.randbytes(rng.randint(1, 200))
            c = w.Conn(port)
            c.send(w.i32(len(body)) + body)
            corr = int.from_bytes(body[4:8], "big", signed=True) if len(body) >= 8 else None
            if corr is None:
                c.shutdown_write()  # shorter than a request header: only EOF can end it
                expect_close(c, f"random frame #{i} ({len(body)} bytes, below header size)")
            else:
                expect_close_or_answer(c, corr, f"random frame #{i} ({len(body)} bytes, "
                                       f"api_key {int.from_bytes(body[:2], 'big', signed=True)})")
        # Garbage bodies behind a valid header of a supported api/version: exercises the
        # request decoders. Fetch is left out (a garbage max_wait may legitimately park it).
        # Half-close so that even an acks=0 Produce ends with EOF, hence a close.
        keys = sorted(k for k in apis if k != w.API_FETCH)
        for i in range(24):
            k = keys[i % len(keys)]
            lo, hi = apis[k]
            v = rng.randint(lo, hi)
            corr = 5000 + i
            body = rng.randbytes(rng.randint(0, 120))
            c = w.Conn(port)
            c.send(w.frame(w.request_header(k, v, corr) + body))
            c.shutdown_write()
            expect_close_or_answer(c, corr, f"api {k} v{v} with {len(body)} random body bytes")
        sanity("(a) random bytes")

    with step("(b) truncated frame: size 100, 10 bytes sent, then close"):
        c = w.Conn(port)
        c.send(w.i32(100) + rng.randbytes(10))
        time.sleep(0.1)
        c.close()
        c = w.Conn(port)
        c.send(w.i32(100) + w.request_header(18, 0, 5)[:10])
        c.shutdown_write()
        expect_close(c, "size 100, 10 header bytes, half-close")
        sanity("(b) truncated frame")

    with step("(c) negative length"):
        for n in (-1, -2147483648):
            c = w.Conn(port)
            c.send(w.i32(n) + w.request_header(18, 0, 6))
            expect_close(c, f"length {n}")
        sanity("(c) negative length")

    with step(f"(d) length above --max-request-bytes {MAX_REQUEST_BYTES}"):
        for n in (MAX_REQUEST_BYTES + 1, 2147483647):
            c = w.Conn(port)
            c.send(w.i32(n) + w.request_header(0, 3, 7))
            expect_close(c, f"length {n}")
        sanity("(d) huge length")

    with step("(e) unknown api key 999 with a valid header"):
        c = w.Conn(port)
        c.send(w.frame(w.request_header(999, 0, 4242)))
        expect_close_or_answer(c, 4242, "api key 999")
        sanity("(e) unknown api key")

    with step("(f) unsupported versions: ApiVersions v99 -> error 35 in v0 shape; Produce v1"):
        c = w.Conn(port)
        c.send(w.api_versions_request(9999, 99))
        body = c.recv_frame()
        check(body is not None, "ApiVersions v99: server closed the connection instead of "
              "answering UNSUPPORTED_VERSION")
        try:
            corr, err, apis = w.parse_api_versions_v0(body)
        except ValueError as e:
            raise harness.TestFailure(f"ApiVersions v99 answer is not in the v0 shape: {e}; "
                                      f"body {body[:64].hex()}")
        check_eq(corr, 9999, "ApiVersions v99 correlation id")
        check_eq(err, ERR_UNSUPPORTED_VERSION, "ApiVersions v99 error_code")
        check(18 in apis and apis[18][0] == 0 and apis[18][1] >= 3,
              f"ApiVersions v99 answer lists ApiVersions 0..3+ (got {apis.get(18)})")
        check(0 in apis and 1 in apis and 3 in apis,
              f"ApiVersions v99 answer lists Produce, Fetch, Metadata: {sorted(apis)}")
        c.close()
        print(f"   ApiVersions v99 -> error 35 with {len(apis)} apis (v0 shape)")
        # Produce v1 (below the supported 3): body acks, timeout, [] topics.
        c = w.Conn(port)
        c.send(w.frame(w.request_header(0, 1, 4343) + w.i16(-1) + w.i32(1000) + w.i32(0)))
        expect_close_or_answer(c, 4343, "Produce v1")
        sanity("(f) unsupported versions")

    with step("(g) Produce v3 with hand-built RecordBatches: valid accepted, bad CRC -> "
              "CORRUPT_MESSAGE, nothing of it stored"):
        now = int(time.time() * 1000)
        good = [(b"gk%d" % i, b"good-value-%d-" % i + rng.randbytes(40), [("h", b"%d" % i)])
                for i in range(5)]
        res = produce_raw(port, 201, {CRC_TOPIC: [(0, w.record_batch(good, now))]})
        check_eq(list(res), [CRC_TOPIC], "topics in the Produce v3 response")
        check_eq(list(res[CRC_TOPIC]), [0], "partitions in the Produce v3 response")
        check_eq(res[CRC_TOPIC][0][:2], (ERR_NONE, 0),
                 "valid hand-built batch: (error_code, base_offset)")
        print("   valid hand-built batch accepted at offset 0")

        bad_recs = [(b"bad%d" % i, b"corrupt-me-%d-" % i + b"z" * 64, []) for i in range(3)]
        bad_payload = bytearray(w.record_batch(bad_recs, now))
        bad_payload[-20] ^= 0x01          # inside the last record's value
        res = produce_raw(port, 202, {CRC_TOPIC: [(0, bytes(bad_payload))]})
        check_eq(res.get(CRC_TOPIC, {}).get(0, (None,))[0], ERR_CORRUPT_MESSAGE,
                 "payload byte flipped: partition 0 error_code")

        bad_crc = bytearray(w.record_batch(bad_recs, now))
        bad_crc[w.CRC_OFFSET] ^= 0x80      # the CRC field itself
        res = produce_raw(port, 203, {CRC_TOPIC: [(0, bytes(bad_crc))]})
        check_eq(res.get(CRC_TOPIC, {}).get(0, (None,))[0], ERR_CORRUPT_MESSAGE,
                 "CRC field flipped: partition 0 error_code")

        good2 = [(b"gk2-%d" % i, b"good2-%d" % i, []) for i in range(4)]
        res = produce_raw(port, 204, {CRC_TOPIC: [(0, w.record_batch(good2, now)),
                                                  (1, bytes(bad_payload))]})
        check_eq(sorted(res.get(CRC_TOPIC, {})), [0, 1], "partitions in the mixed response")
        p0, p1 = res[CRC_TOPIC][0], res[CRC_TOPIC][1]
        check_eq(p0[:2], (ERR_NONE, 5), "mixed request: valid partition 0 (error, base offset)")
        check_eq(p1[0], ERR_CORRUPT_MESSAGE, "mixed request: corrupt partition 1 error_code")
        print("   corrupt batches rejected with CORRUPT_MESSAGE (2), valid neighbour accepted")

        cons = harness.ck_consumer(server.bootstrap, {"check.crcs": True})
        lo_hi = [cons.get_watermark_offsets(ck.TopicPartition(CRC_TOPIC, p), timeout=10,
                                            cached=False) for p in (0, 1)]
        check_eq(lo_hi, [(0, 9), (0, 0)], "watermarks of crc topic partitions 0 and 1")
        msgs = harness.ck_consume_exact(cons, [ck.TopicPartition(CRC_TOPIC, 0, 0),
                                               ck.TopicPartition(CRC_TOPIC, 1, 0)], 9, 15)
        cons.close()
        got = [(m.partition(), m.offset(), m.key(), m.value(), m.headers() or []) for m in msgs]
        want = ([(0, i, k, v, [(hk, hv) for hk, hv in h]) for i, (k, v, h) in enumerate(good)]
                + [(0, 5 + i, k, v, []) for i, (k, v, _) in enumerate(good2)])
        check_eq(got, want, "records of crc topic read back by librdkafka (check.crcs=true)")
        print("   librdkafka (check.crcs) reads exactly the 9 valid records; nothing corrupt stored")
        sanity("(g) corrupt CRC")


if __name__ == "__main__":
    harness.run(test, extra_args=["--max-request-bytes", str(MAX_REQUEST_BYTES)],
                budget_s=100, name="badinput", description=__doc__)
