"""Minimal hand-written Kafka wire encoding for the raw-socket tests.

Independent of every client library on purpose: framing (int32 big-endian size
prefix), request header v1/v2, ApiVersions v0/v3, Produce v3, the v2 RecordBatch with
zigzag varints, and CRC-32C (Castagnoli), all in pure Python.
"""

import socket
import struct
import time

# ---------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table driven.

_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Primitive types.

def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def uvarint(v):
    """Unsigned LEB128 (used for compact lengths and tagged-field counts)."""
    assert v >= 0
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(v):
    """Signed zigzag varint (32-bit), as in Kafka records."""
    assert -(1 << 31) <= v < (1 << 31)
    return uvarint(((v << 1) ^ (v >> 31)) & 0xFFFFFFFF)


def varlong(v):
    """Signed zigzag varint (64-bit)."""
    assert -(1 << 63) <= v < (1 << 63)
    return uvarint(((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF)


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def nullable_string(s):
    return i16(-1) if s is None else string(s)


def compact_string(s):
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def kbytes(b):
    return i32(-1) if b is None else i32(len(b)) + b


class Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"response truncated: need {n} bytes at {self.pos}, "
                             f"have {len(self.data) - self.pos}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        shift = 0
        v = 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def remaining(self):
        return len(self.data) - self.pos


# ---------------------------------------------------------------------------
# v2 RecordBatch (magic 2), uncompressed.

RECORD_BATCH_HEADER_LEN = 61  # baseOffset .. recordsCount
CRC_OFFSET = 17               # baseOffset(8) batchLength(4) partitionLeaderEpoch(4) magic(1)
CRC_COVERED_FROM = 21         # attributes .. end


def encode_record(offset_delta, timestamp_delta, key, value, headers):
    body = bytearray()
    body += i8(0)                         # attributes (unused)
    body += varlong(timestamp_delta)
    body += varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        hk = hk.encode() if isinstance(hk, str) else hk
        body += varint(len(hk)) + hk
        body += varint(-1) if hv is None else varint(len(hv)) + hv
    return varint(len(body)) + bytes(body)


def record_batch(records, base_timestamp, partition_leader_epoch=-1, timestamp_step=1):
    """records: list of (key, value, headers); headers a list of (str|bytes, bytes|None).

    The i-th record gets offsetDelta i and timestamp base_timestamp + i*timestamp_step.
    """
    assert records
    recs = b"".join(encode_record(i, i * timestamp_step, k, v, h)
                    for i, (k, v, h) in enumerate(records))
    n = len(records)
    after_crc = (i16(0)                                     # attributes: no codec
                 + i32(n - 1)                               # lastOffsetDelta
                 + i64(base_timestamp)                      # baseTimestamp
                 + i64(base_timestamp + (n - 1) * timestamp_step)  # maxTimestamp
                 + i64(-1)                                  # producerId
                 + i16(-1)                                  # producerEpoch
                 + i32(-1)                                  # baseSequence
                 + i32(n)                                   # records count
                 + recs)
    crc = crc32c(after_crc)
    after_len = i32(partition_leader_epoch) + i8(2) + struct.pack(">I", crc) + after_crc
    return i64(0) + i32(len(after_len)) + after_len


# ---------------------------------------------------------------------------
# Requests and responses.

API_PRODUCE = 0
API_FETCH = 1
API_METADATA = 3
API_VERSIONS = 18


def request_header(api_key, api_version, correlation_id, client_id="kairo-it-raw",
                   flexible=False):
    h = i16(api_key) + i16(api_version) + i32(correlation_id) + nullable_string(client_id)
    if flexible:
        h += uvarint(0)  # header v2: empty tagged fields
    return h


def frame(payload):
    return i32(len(payload)) + payload


def api_versions_request(correlation_id, version):
    flexible = version >= 3
    body = b""
    if flexible:
        # v3+: client_software_name, client_software_version, tagged fields
        body = compact_string("kairo-it") + compact_string("1.0") + uvarint(0)
    return frame(request_header(API_VERSIONS, version, correlation_id, flexible=flexible) + body)


def parse_api_versions_v0(body):
    """v0 shape: correlation_id, error_code, [api_key, min, max]. Must consume all bytes."""
    r = Reader(body)
    corr = r.i32()
    err = r.i16()
    n = r.i32()
    apis = {}
    for _ in range(max(n, 0)):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        apis[k] = (lo, hi)
    if r.remaining():
        raise ValueError(f"ApiVersions v0-shaped response has {r.remaining()} trailing bytes")
    return corr, err, apis


def parse_api_versions_v3(body):
    r = Reader(body)
    corr = r.i32()          # response header v0 (always, for ApiVersions)
    err = r.i16()
    n = r.uvarint() - 1     # compact array
    apis = {}
    for _ in range(max(n, 0)):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        r.tagged_fields()
        apis[k] = (lo, hi)
    throttle = r.i32()
    r.tagged_fields()
    if r.remaining():
        raise ValueError(f"ApiVersions v3 response has {r.remaining()} trailing bytes")
    return corr, err, apis, throttle


def produce_v3_request(correlation_id, topic_data, acks=-1, timeout_ms=10000):
    """topic_data: {topic: [(partition, records_bytes)]}"""
    body = nullable_string(None)            # v3+: transactional_id
    body += i16(acks) + i32(timeout_ms)
    body += i32(len(topic_data))
    for topic, parts in topic_data.items():
        body += string(topic) + i32(len(parts))
        for p, recs in parts:
            body += i32(p) + kbytes(recs)
    return frame(request_header(API_PRODUCE, 3, correlation_id) + body)


def parse_produce_v3_response(body):
    """-> (correlation_id, {topic: {partition: (error_code, base_offset, log_append_time)}}, throttle)"""
    r = Reader(body)
    corr = r.i32()
    out = {}
    for _ in range(r.i32()):
        t = r.string()
        parts = out.setdefault(t, {})
        for _ in range(r.i32()):
            p = r.i32()
            err = r.i16()
            base = r.i64()
            lat = r.i64()            # v2+: log_append_time_ms
            parts[p] = (err, base, lat)
    throttle = r.i32()               # v1+: throttle_time_ms
    if r.remaining():
        raise ValueError(f"Produce v3 response has {r.remaining()} trailing bytes")
    return corr, out, throttle


# ---------------------------------------------------------------------------
# A blocking socket with bounded reads.

class Conn:
    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, data):
        """sendall; returns False if the server had already closed/reset the connection
        (it may legitimately do so as soon as it sees a bad size prefix)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
            return True
        except OSError:  # ENOTCONN: the server already closed and reset it
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _recv_exact(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete data within the time limit ({len(buf)}/{n} bytes)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return bytes(buf), True
            buf += chunk
        return bytes(buf), False

    def recv_frame(self, timeout=10.0):
        """One response frame body, or None if the server closed the connection first.

        Raises TimeoutError if neither happens within timeout.
        """
        deadline = time.monotonic() + timeout
        head, eof = self._recv_exact(4, deadline)
        if eof:
            if head:
                raise ValueError(f"connection closed inside a response size prefix ({head!r})")
            return None
        size = struct.unpack(">i", head)[0]
        if size < 4 or size > 64 << 20:
            raise ValueError(f"implausible response size {size}")
        body, eof = self._recv_exact(size, deadline)
        if eof:
            raise ValueError(f"connection closed inside a response ({len(body)}/{size} bytes)")
        return body

    def read_until_eof(self, timeout=10.0):
        """All bytes until the server closes; raises TimeoutError if it does not."""
        deadline = time.monotonic() + timeout
        data = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"server did not close the connection within {timeout:.0f} s "
                                   f"(received {len(data)} bytes meanwhile)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return bytes(data)
            if not chunk:
                return bytes(data)
            data += chunk
