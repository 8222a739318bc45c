#!/usr/bin/env python3
"""Writes the seed corpora of the wire-format fuzz targets (docs/fuzzing.md):

  protocol_fuzz      one request: header + body, for every API the broker serves
  framing_fuzz       byte streams of size-prefixed frames, pipelined, with refusals
  record_batch_fuzz  repair flags + RecordBatch v2 sets (keys, headers, varints, transactions)
  admin_http_fuzz    flags + HTTP/1.1 requests of the admin API, or direct method/target/body

Encodings come from tests/integration/kafka_wire.py (pure Python, independent of the broker's
codec) and from the Kafka protocol's field lists. The on-disk formats (WAL segments, topic
catalog) are written by tests/fuzz/make_fuzz_seeds.cc with the broker's own encoders.

Usage: python3 tests/fuzz/make_seeds.py [corpus-dir]   (default: tests/fuzz/corpus)
Deterministic: the same files every run, so a regenerated corpus diffs clean.
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import kafka_wire as kw  # noqa: E402

i8, i16, i32, i64 = kw.i8, kw.i16, kw.i32, kw.i64
uvarint, varint = kw.uvarint, kw.varint


class Enc:
    """Classic or compact (flexible) encodings of one API version."""

    def __init__(self, flex):
        self.flex = flex

    def string(self, s):
        b = s.encode() if isinstance(s, str) else s
        return uvarint(len(b) + 1) + b if self.flex else i16(len(b)) + b

    def nstring(self, s):
        if s is None:
            return uvarint(0) if self.flex else i16(-1)
        return self.string(s)

    def bytes_(self, b):
        return uvarint(len(b) + 1) + b if self.flex else i32(len(b)) + b

    def nbytes(self, b):
        if b is None:
            return uvarint(0) if self.flex else i32(-1)
        return self.bytes_(b)

    def array(self, items):
        items = list(items)
        n = uvarint(len(items) + 1) if self.flex else i32(len(items))
        return n + b"".join(items)

    def narray(self, items):
        if items is None:
            return uvarint(0) if self.flex else i32(-1)
        return self.array(items)

    def tags(self):
        return uvarint(0) if self.flex else b""

    def tags_with_one(self):
        """A tagged-field section with one unknown field, which decoders must skip."""
        return uvarint(1) + uvarint(7) + uvarint(3) + b"abc" if self.flex else b""


# first flexible version of each API, as the broker's codec has them (server/protocol/api_keys.h)
FLEX = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3,
        18: 3, 19: 5, 20: 4, 22: 2, 24: 3, 25: 3, 26: 3, 28: 3, 32: 4, 42: 2, 47: 99, 61: 0,
        65: 0, 66: 0}


def header(key, version, corr=7, client="fuzz-seed"):
    flex = version >= FLEX[key]
    h = i16(key) + i16(version) + i32(corr) + kw.nullable_string(client)
    return h + (uvarint(0) if flex else b"")


def batch(records, attributes=0, producer_id=-1, producer_epoch=-1, base_sequence=-1,
          base_offset=0, raw_records=None, count=None):
    """RecordBatch v2. records: (key, value, headers) tuples, headers [(key, value)]."""
    if raw_records is None:
        raw_records = b"".join(kw.encode_record(i, i * 3, k, v, h) for i, (k, v, h) in enumerate(records))
    n = len(records) if count is None else count
    after_crc = (i16(attributes) + i32(n - 1) + i64(1_700_000_000_000) + i64(1_700_000_000_000 + 3 * max(n - 1, 0))
                 + i64(producer_id) + i16(producer_epoch) + i32(base_sequence) + i32(n) + raw_records)
    after_len = i32(-1) + i8(2) + struct.pack(">I", kw.crc32c(after_crc)) + after_crc
    return i64(base_offset) + i32(len(after_len)) + after_len


def control_batch(producer_id, epoch, commit):
    key = i16(0) + i16(1 if commit else 0)
    value = i16(0) + i32(5)
    rec = kw.encode_record(0, 0, key, value, [])
    return batch([None], attributes=0x30, producer_id=producer_id, producer_epoch=epoch, raw_records=rec, count=1)


SIMPLE = batch([(None, b"hello", [])])
RICH = batch([
    (b"user-1", b"{\"clicks\": 3}", [("trace", b"abc123"), ("empty", b"")]),
    (None, b"value without key", []),
    (b"k", None, [("nullv", None)]),
    (b"\x00\xff" * 40, b"x" * 300, [("h%d" % i, bytes([i]) * i) for i in range(5)]),
])
IDEMPOTENT = batch([(b"a", b"1", []), (b"b", b"2", [])], producer_id=4000, producer_epoch=0, base_sequence=0)
TRANSACTIONAL = batch([(b"t", b"in a txn", [])], attributes=0x10, producer_id=4001, producer_epoch=2, base_sequence=5)


def requests():
    """(name, header+body) for every API and the versions clients send."""
    out = []

    def add(name, key, version, body):
        out.append((name, header(key, version) + body))

    for v in (0, 3):
        e = Enc(v >= 3)
        add(f"api_versions_v{v}", 18, v, (e.string("kcat") + e.string("1.7.0") + e.tags()) if v >= 3 else b"")
    for v in (1, 4, 9, 12):
        e = Enc(v >= 9)
        topic = (kw.i64(0) + kw.i64(0) if v >= 10 else b"") + (e.nstring("orders") if v >= 10 else e.string("orders"))
        body = e.narray([topic + e.tags()])
        if v >= 4:
            body += i8(1)
        if 8 <= v <= 10:
            body += i8(0)
        if v >= 8:
            body += i8(0)
        add(f"metadata_v{v}", 3, v, body + e.tags())
    add("metadata_v1_all_topics", 3, 1, i32(-1))
    for v, recs in ((3, SIMPLE), (7, RICH), (9, RICH + SIMPLE)):
        e = Enc(v >= 9)
        part = i32(0) + e.nbytes(recs) + e.tags()
        body = e.nstring(None) + i16(-1) + i32(30000) + e.array([e.string("orders") + e.array([part]) + e.tags()])
        add(f"produce_v{v}", 0, v, body + e.tags())
    e = Enc(False)
    add("produce_v3_txn", 0, 3, e.nstring("txn-1") + i16(-1) + i32(1000) +
        e.array([e.string("orders") + e.array([i32(1) + e.nbytes(TRANSACTIONAL)])]))
    for v in (4, 11, 12, 13):
        e = Enc(v >= 12)
        part = i32(0) + (i32(-1) if v >= 9 else b"") + i64(0) + (i32(-1) if v >= 12 else b"") + \
            (i64(-1) if v >= 5 else b"") + i32(1 << 20) + e.tags()
        name = (b"\x01" * 16) if v >= 13 else e.string("orders")
        body = i32(-1) + i32(500) + i32(1) + i32(52428800) + i8(1)
        if v >= 7:
            body += i32(0) + i32(-1)
        body += e.array([name + e.array([part]) + e.tags()])
        if v >= 7:
            body += e.array([])
        if v >= 11:
            body += e.string("rack-a")
        add(f"fetch_v{v}", 1, v, body + e.tags_with_one())
    for v in (0, 1, 7):
        e = Enc(v >= 6)
        part = i32(0) + (i32(-1) if v >= 4 else b"") + i64(-1) + (i32(1) if v == 0 else b"") + e.tags()
        body = i32(-1) + (i8(0) if v >= 2 else b"") + e.array([e.string("orders") + e.array([part]) + e.tags()])
        add(f"list_offsets_v{v}", 2, v, body + e.tags())
    for v in (1, 4):
        e = Enc(v >= 3)
        body = (e.string("group-a") if v <= 3 else b"") + i8(0) + (e.array([e.string("group-a"), e.string("g2")]) if v >= 4 else b"")
        add(f"find_coordinator_v{v}", 10, v, body + e.tags())
    consumer_meta = i16(1) + i32(1) + kw.string("orders") + i32(-1)
    for v in (1, 5, 9):
        e = Enc(v >= 6)
        body = e.string("group-a") + i32(10000) + (i32(30000) if v >= 1 else b"") + e.string("") + \
            (e.nstring(None) if v >= 5 else b"") + e.string("consumer") + \
            e.array([e.string("range") + e.bytes_(consumer_meta) + e.tags(), e.string("roundrobin") + e.bytes_(b"") + e.tags()])
        if v >= 8:
            body += e.nstring("rejoin")
        add(f"join_group_v{v}", 11, v, body + e.tags())
    assignment = i16(1) + i32(1) + kw.string("orders") + i32(3) + i32(0) + i32(1) + i32(2) + i32(-1)
    for v in (1, 5):
        e = Enc(v >= 4)
        body = e.string("group-a") + i32(1) + e.string("member-1") + (e.nstring(None) if v >= 3 else b"")
        if v >= 5:
            body += e.nstring("consumer") + e.nstring("range")
        body += e.array([e.string("member-1") + e.bytes_(assignment) + e.tags()])
        add(f"sync_group_v{v}", 14, v, body + e.tags())
    for v in (0, 4):
        e = Enc(v >= 4)
        add(f"heartbeat_v{v}", 12, v, e.string("group-a") + i32(1) + e.string("member-1") +
            (e.nstring("static-1") if v >= 3 else b"") + e.tags())
    e = Enc(False)
    add("leave_group_v0", 13, 0, e.string("group-a") + e.string("member-1"))
    e = Enc(True)
    add("leave_group_v5", 13, 5, e.string("group-a") + e.array([e.string("member-1") + e.nstring(None) +
                                                                  e.nstring("bye") + e.tags()]) + e.tags())
    for v in (2, 8):
        e = Enc(v >= 8)
        part = i32(0) + i64(42) + (i32(-1) if v >= 6 else b"") + e.nstring("meta") + e.tags()
        body = e.string("group-a") + i32(1) + e.string("member-1") + (e.nstring(None) if v >= 7 else b"") + \
            (i64(-1) if 2 <= v <= 4 else b"") + e.array([e.string("orders") + e.array([part]) + e.tags()])
        add(f"offset_commit_v{v}", 8, v, body + e.tags())
    for v in (1, 7, 8):
        e = Enc(v >= 6)
        topics = e.array([e.string("orders") + e.array([i32(0), i32(1)]) + e.tags()])
        if v <= 7:
            body = e.string("group-a") + topics
        else:
            body = e.array([e.string("group-a") + e.narray(None) + e.tags(), e.string("g2") + topics + e.tags()])
        if v >= 7:
            body += i8(1)
        add(f"offset_fetch_v{v}", 9, v, body + e.tags())
    for v in (0, 4):
        e = Enc(v >= 2)
        add(f"list_groups_v{v}", 16, v, (e.array([e.string("Stable")]) if v >= 4 else b"") + e.tags())
    for v in (0, 5):
        e = Enc(v >= 5)
        add(f"describe_groups_v{v}", 15, v, e.array([e.string("group-a")]) + (i8(0) if v >= 3 else b"") + e.tags())
    e = Enc(True)
    add("delete_groups_v2", 42, 2, e.array([e.string("group-a")]) + e.tags())
    e = Enc(False)
    add("offset_delete_v0", 47, 0, e.string("group-a") + e.array([e.string("orders") + e.array([i32(0)])]))
    for v in (1, 4):
        e = Enc(v >= 2)
        add(f"init_producer_id_v{v}", 22, v, e.nstring("txn-1" if v == 4 else None) + i32(60000) +
            (i64(-1) + i16(-1) if v >= 3 else b"") + e.tags())
    for v in (1, 3):
        e = Enc(v >= 3)
        add(f"add_partitions_to_txn_v{v}", 24, v, e.string("txn-1") + i64(4001) + i16(2) +
            e.array([e.string("orders") + e.array([i32(0), i32(2)]) + e.tags()]) + e.tags())
    e = Enc(False)
    add("add_offsets_to_txn_v1", 25, 1, e.string("txn-1") + i64(4001) + i16(2) + e.string("group-a"))
    for v in (1, 3):
        e = Enc(v >= 3)
        add(f"end_txn_v{v}", 26, v, e.string("txn-1") + i64(4001) + i16(2) + i8(1) + e.tags())
    for v in (1, 3):
        e = Enc(v >= 3)
        part = i32(0) + i64(10) + (i32(-1) if v >= 2 else b"") + e.nstring(None) + e.tags()
        body = e.string("txn-1") + e.string("group-a") + i64(4001) + i16(2)
        if v >= 3:
            body += i32(1) + e.string("member-1") + e.nstring(None)
        add(f"txn_offset_commit_v{v}", 28, v, body + e.array([e.string("orders") + e.array([part]) + e.tags()]) + e.tags())
    for v in (2, 5):
        e = Enc(v >= 5)
        topic = e.string("new-topic") + i32(3) + i16(1) + e.array([]) + \
            e.array([e.string("retention.ms") + e.nstring("86400000") + e.tags(),
                     e.string("cleanup.policy") + e.nstring(None) + e.tags()]) + e.tags()
        add(f"create_topics_v{v}", 19, v, e.array([topic]) + i32(30000) + i8(0) + e.tags())
    e = Enc(False)
    add("create_topics_v0_assignment", 19, 0, e.array([e.string("t2") + i32(-1) + i16(-1) +
                                                       e.array([i32(0) + e.array([i32(1)])]) + e.array([])]) + i32(1000))
    for v in (1, 6):
        e = Enc(v >= 4)
        topic = (e.nstring("orders") + b"\x00" * 16 + e.tags()) if v >= 6 else e.string("orders")
        add(f"delete_topics_v{v}", 20, v, e.array([topic]) + i32(30000) + e.tags())
    for v in (1, 4):
        e = Enc(v >= 4)
        res = i8(2) + e.string("orders") + e.narray([e.string("retention.ms")]) + e.tags()
        res2 = i8(4) + e.string("1") + e.narray(None) + e.tags()
        add(f"describe_configs_v{v}", 32, v, e.array([res, res2]) + i8(1) + (i8(0) if v >= 3 else b"") + e.tags())
    e = Enc(True)
    add("describe_producers_v0", 61, 0, e.array([e.string("orders") + e.array([i32(0), i32(1)]) + e.tags()]) + e.tags())
    add("describe_transactions_v0", 65, 0, e.array([e.string("txn-1")]) + e.tags())
    add("list_transactions_v0", 66, 0, e.array([e.string("Ongoing")]) + e.array([i64(4001)]) + e.tags())
    add("list_transactions_v1", 66, 1, e.array([]) + e.array([]) + i64(60000) + e.tags_with_one())
    return out


def frame(payload):
    return i32(len(payload)) + payload


def framing_streams(reqs):
    by = dict(reqs)
    return [
        ("client_startup", frame(by["api_versions_v3"]) + frame(by["metadata_v9"]) + frame(by["produce_v9"])),
        ("pipelined_produce", b"".join(frame(by[n]) for n in ("produce_v3", "produce_v7", "produce_v3_txn"))),
        ("consumer_group", b"".join(frame(by[n]) for n in ("find_coordinator_v4", "join_group_v9", "sync_group_v5",
                                                          "heartbeat_v4", "offset_commit_v8", "offset_fetch_v8",
                                                          "fetch_v12", "leave_group_v5"))),
        ("transactions", b"".join(frame(by[n]) for n in ("init_producer_id_v4", "add_partitions_to_txn_v3",
                                                        "add_offsets_to_txn_v1", "txn_offset_commit_v3", "end_txn_v3"))),
        ("admin", b"".join(frame(by[n]) for n in ("create_topics_v5", "describe_configs_v4", "delete_topics_v6",
                                                 "list_groups_v4", "describe_groups_v5", "list_transactions_v1"))),
        # ApiVersions of a version the broker does not know: answered v0, then the stream goes on.
        ("api_versions_unsupported", frame(header(18, 9) + b"\x00\x00") + frame(by["metadata_v1"])),
        # Refusals that close the connection: unknown key, unsupported version, bad size.
        ("unknown_api_key", frame(i16(999) + i16(0) + i32(1) + kw.nullable_string("x")) + frame(by["metadata_v1"])),
        ("unsupported_version", frame(header(0, 2) + b"\x00" * 8)),
        ("frame_too_small", i32(7) + b"\x00" * 7),
        ("frame_negative", i32(-1) + b"\x00" * 16),
        ("truncated_frame", frame(by["produce_v9"])[:-10]),
        ("malformed_body", frame(header(3, 1) + i32(5))),
    ]


def http(method, target, body=b"", headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:9644"]
    lines += list(headers)
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def admin_inputs():
    ka = ("Connection: keep-alive",)
    close = ("Connection: close",)
    return [
        ("get_metrics", b"\x0e" + http("GET", "/metrics")),
        ("get_status_readyz", b"\x0e" + http("GET", "/v1/status", headers=ka) + http("GET", "/readyz", headers=close)),
        ("not_ready", b"\x1e" + http("GET", "/readyz") + http("GET", "/healthz")),
        ("put_profile", b"\x0e" + http("PUT", "/v1/produce/policy", b'{"profile":"balanced"}')),
        ("put_knobs", b"\x0e" + http("PUT", "/v1/produce/policy", b'{"min_batches":10,"linger_ms":5.5,"buffer_bytes":1048576}')),
        ("put_bad_field", b"\x0e" + http("PUT", "/v1/produce/policy?x=1", b'{"linger":5}', ka) +
         http("GET", "/v1/produce/policy", headers=close)),
        ("put_sync_delay", b"\x0e" + http("PUT", "/v1/experiment/sync-delay", '{"value":"1ms±20%"}'.encode())),
        ("post_sync_delay_hdd", b"\x0e" + http("POST", "/v1/experiment/sync-delay", b'{"value":"hdd"}')),
        ("chunked_body", b"\x0e" + b"PUT /v1/produce/policy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"a\r\n{\"profile\"\r\n9\r\n:\"auto\"}\r\n0\r\n\r\n"),
        ("slow_client", b"\x00" + http("GET", "/v1/tuner", headers=ka) + http("DELETE", "/v1/produce/policy")),
        ("http10", b"\x0e" + b"GET /healthz HTTP/1.0\r\n\r\n"),
        ("direct_policy", b"\x01" + b'PUT /v1/produce/policy\n{"profile":"high-throughput","min_batches":100}'),
        ("direct_sync_delay", b"\x01" + b'PUT /v1/experiment/sync-delay\n{"value":"800us+-5%"}'),
        ("direct_bad_json", b"\x01" + b'PUT /v1/produce/policy\n{"min_batches": 1e400, "linger_ms": -0}'),
        ("direct_status", b"\x01" + b"GET /v1/status?verbose\n"),
        ("topics_lifecycle", b"\x0e" +
         http("POST", "/v1/topics", b'{"name":"t","partitions":3,"configs":{"retention.ms":"3600000"}}', ka) +
         http("POST", "/v1/topics", b'{"name":"t"}', ka) +
         http("PUT", "/v1/topics/t/configs", b'{"set":{"retention.bytes":"1048576"},"delete":["retention.ms"]}', ka) +
         http("POST", "/v1/topics/t/partitions", b'{"count":5}', ka) +
         http("GET", "/v1/topics", headers=ka) + http("DELETE", "/v1/topics/t", headers=close)),
        ("direct_topic_bad_config", b"\x01" + b'POST /v1/topics\n{"name":"u","configs":{"max.message.bytes":"-1"}}'),
        ("direct_topic_bad_name", b"\x01" + b'POST /v1/topics\n{"name":"a/b","partitions":4294967297}'),
        ("direct_partitions_shrink", b"\x01" + b'POST /v1/topics/none/partitions\n{"count":1}'),
        ("groups", b"\x0e" + http("GET", "/v1/groups", headers=ka) + http("GET", "/v1/groups/g", headers=ka) +
         http("GET", "/v1/groups/h", headers=ka) + http("GET", "/", headers=close)),
    ]


def record_batch_inputs():
    flags = b"\x07"
    return [
        ("simple", b"\x07" + SIMPLE),
        ("rich_headers_keys", b"\x07" + RICH),
        ("two_batches", b"\x06" + SIMPLE + RICH),
        ("idempotent", b"\x07" + IDEMPOTENT),
        ("transactional", b"\x07" + TRANSACTIONAL),
        ("control_commit", b"\x07" + control_batch(4001, 2, True)),
        ("control_abort", b"\x06" + control_batch(4001, 2, False) + SIMPLE),
        ("empty_batch", b"\x07" + batch([], count=0)),
        # Compressed (gzip, snappy, lz4, zstd): the validator does not decompress, so the record
        # section is opaque to it; these keep the codec bits in the corpus.
        ("gzip", flags + batch([None] * 3, attributes=1, raw_records=bytes.fromhex("1f8b08000000000000ff") + b"\x03" * 20, count=3)),
        ("snappy", flags + batch([None] * 2, attributes=2, raw_records=b"\x82SNAPPY\x00" + b"\x00" * 12, count=2)),
        ("lz4", flags + batch([None], attributes=3, raw_records=bytes.fromhex("04224d18") + b"\x60\x40\x82" + b"\x00" * 8, count=1)),
        ("zstd", flags + batch([None] * 4, attributes=4, raw_records=bytes.fromhex("28b52ffd") + b"\x20\x00" * 6, count=4)),
        ("unrepaired", b"\x00" + RICH),
    ]


def write(corpus, target, items):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    for name, data in items:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    reqs = requests()
    write(corpus, "protocol_fuzz", reqs)
    write(corpus, "framing_fuzz", framing_streams(reqs))
    write(corpus, "record_batch_fuzz", record_batch_inputs())
    write(corpus, "admin_http_fuzz", admin_inputs())


if __name__ == "__main__":
    main()
