#!/usr/bin/python3
"""Self-test of kafka_wire.py (no server needed; --kairo is accepted and ignored).

Checks the CRC-32C test vector, zigzag varints against known Kafka encodings, and that
our v2 RecordBatch is byte-identical to the one kafka-python's independent
DefaultRecordBatchBuilder produces for the same records, and that kafka-python's
reader accepts its CRC and decodes the same records back.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_wire as w  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kairo", help="ignored")
    ap.parse_args()
    failures = []

    def expect(cond, msg):
        print(("ok   " if cond else "FAIL ") + msg)
        if not cond:
            failures.append(msg)

    expect(w.crc32c(b"123456789") == 0xE3069283, "crc32c(b'123456789') == 0xE3069283")
    expect(w.crc32c(b"") == 0, "crc32c(b'') == 0")
    from kafka.record._crc32c import crc as kp_crc
    data = bytes(range(256)) * 3
    expect(w.crc32c(data) == kp_crc(data), "crc32c agrees with kafka-python's on 768 bytes")

    cases = {0: b"\x00", -1: b"\x01", 1: b"\x02", -2: b"\x03", 63: b"\x7e", -64: b"\x7f",
             64: b"\x80\x01", 300: b"\xd8\x04", 2147483647: b"\xfe\xff\xff\xff\x0f",
             -2147483648: b"\xff\xff\xff\xff\x0f"}
    for v, enc in cases.items():
        expect(w.varint(v) == enc, f"varint({v}) == {enc.hex()}")
    expect(w.varlong(-1) == b"\x01" and w.varlong(1 << 40) == w.uvarint(1 << 41),
           "varlong zigzag")
    expect(w.uvarint(0) == b"\x00" and w.uvarint(128) == b"\x80\x01", "uvarint")
    r = w.Reader(w.uvarint(300) + w.uvarint(1 << 35))
    expect(r.uvarint() == 300 and r.uvarint() == 1 << 35, "Reader.uvarint round trip")

    from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
    ts = 1_700_000_000_123
    records = [
        (b"k0", b"value-0", [("h1", b"v1"), ("h2", b"")]),
        (None, b"x" * 300, []),                   # null key, value needing a 2-byte varint
        (b"k2", None, [("h", None)]),             # null value, null header value
        (b"", b"\x00\xff" * 70, [("bin", bytes(range(200)))]),
    ]
    ours = w.record_batch(records, ts, partition_leader_epoch=0)
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    for i, (k, v, h) in enumerate(records):
        b.append(i, ts + i, k, v, h)
    theirs = bytes(b.build())
    expect(ours == theirs, f"record_batch == kafka-python DefaultRecordBatchBuilder "
           f"({len(ours)} vs {len(theirs)} bytes)")
    if ours != theirs:
        first = next((i for i in range(min(len(ours), len(theirs))) if ours[i] != theirs[i]), None)
        print(f"     first differing byte at {first}: ours {ours[:80].hex()}\n"
              f"                                   theirs {theirs[:80].hex()}")

    ours_default = w.record_batch(records, ts)   # partitionLeaderEpoch -1 as Java clients send
    batch = DefaultRecordBatch(ours_default)
    expect(batch.validate_crc(), "kafka-python validates our batch's CRC")
    got = [(rec.key, rec.value, list(rec.headers), rec.offset, rec.timestamp) for rec in batch]
    want = [(k, v, list(h), i, ts + i) for i, (k, v, h) in enumerate(records)]
    expect(got == want, "kafka-python decodes our records back identically")
    expect(len(ours_default) - 12 == int.from_bytes(ours_default[8:12], "big"),
           "batchLength == total - 12")
    bad = bytearray(ours_default)
    bad[-20] ^= 0x01
    expect(not DefaultRecordBatch(bytes(bad)).validate_crc(), "a flipped byte fails the CRC")

    av = w.api_versions_request(7, 3)
    expect(int.from_bytes(av[:4], "big") == len(av) - 4, "frame size prefix")

    if failures:
        print(f"FAIL: {len(failures)} check(s) failed")
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
