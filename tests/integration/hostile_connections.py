#!/usr/bin/python3
"""Hostile connection conditions (issue 11), each against a real `kairo serve`.

One server and one data dir throughout; between steps it is restarted with the flags
the step is about.

1. Two servers on one data dir: the second exits non-zero at once naming the first's
   pid and touches nothing; the first keeps serving; after a SIGKILL restart of the
   first, every acknowledged message is read back.
2. Slowloris: 1,000 connections each announce a 100 MiB frame, send 6 bytes of it and
   stall. RSS and kairo_kafka_partial_frame_bytes stay bounded, a real client is served
   meanwhile, and the stalled ones are closed after --request-read-timeout-ms (not
   before), counted in kairo_kafka_connections_timed_out_total. Lines about single
   clients are rate-limited (20 per 5 s): of the 1,000 closes few are written, and the
   next line written says how many were suppressed; written + suppressed = closes.
3. --max-buffered-request-bytes 8 MiB: a frame larger than the budget is refused at once;
   the frame buffer grows with the bytes that came; six connections sending 3 MiB
   produce requests in lockstep exhaust the budget: frames that could not grow for 1 s
   are refused (connection closed, one log line each), the others' produce requests
   succeed and are stored, the peak stays within the budget. While big frames hold the
   whole budget a small request waits (unanswered, connection open) and is answered as
   soon as memory frees; its read timeout still runs while it waits.
4. --max-connections-per-ip 50, --max-connections 60: the connections over either cap are
   closed at once (EOF), counted, logged at most once per 5 s with the count; once
   connections close, new ones are admitted again.
5. RLIMIT_NOFILE 256 (soft and hard, so the raise to the hard limit cannot lift it) and
   2,000 connections: the acceptor backs off instead of spinning (CPU seconds measured),
   logs a bounded number of lines, counts kairo_kafka_accept_errors_total; once the
   connections close, a connection that queued behind them is served, and so is a real
   client.
6. --connections-max-idle-ms 2000: an idle raw connection is closed after ~2 s (not
   before), one that keeps sending requests stays, and a long-polling consumer
   (fetch.wait.max.ms 3000, longer than the idle timeout) keeps its connection and
   receives everything.

Resource bounds only (RSS, CPU seconds, log line counts), with wide margins; no
throughput or latency thresholds. Timeouts are only checked from below (never closed
early) and with generous upper bounds. Regressions of the bugs these steps found (admin
listener out of fds, budget bystanders, slow-but-steady frames, a half-sent size prefix,
silent admin sessions) are in hostile_regressions.py.
"""

import datetime
import errno
import json
import os
import re
import resource
import select
import shutil
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import kafka_wire as w  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

KiB = 1 << 10
MiB = 1 << 20
CHUNK = 64 * KiB                 # kairo reads frames in 64 KiB chunks

SLOWLORIS_CONNS = 1000
SLOWLORIS_FRAME = 100 * MiB      # = the default --max-request-bytes, so it is not refused outright
SLOWLORIS_TIMEOUT_MS = 5000
# Measured on the snapshot: ~10 MB RSS before, ~80 MB with the 1,000 stalled frames (each
# holds its first 64 KiB chunk: 62.5 MiB, plus per-connection state). Before the fix the
# same attack would have asked for 1,000 x 100 MiB (the issue saw 2 GB from 20 of them).
# 300 MB is ~4x what is needed and still ~300x below what an unbounded server would take.
SLOWLORIS_RSS_BOUND = 300 * 1000 * 1000

BUDGET = 8 * MiB
BIG_SENDERS = 6
BIG_RECORDS = 48                 # x 64 KiB values: a ~3 MiB batch, a ~3 MiB frame
BIG_GRACE_S = 1.0                # a frame holding memory that cannot grow for this long is refused
BUDGET_READ_TIMEOUT_MS = 3000
HOLDERS = 4                      # x 2 MiB (1 MiB + 1 byte arrived of a 3 MiB frame) = the budget
WAIT_ANSWER_BOUND_S = 10.0       # a small request waiting for memory, once memory is free

# kairo writes at most 20 lines about single clients ("closing connection from ...") per
# 5 s window, windows back to back; the next line written after drops counts them.
CLIENT_LINES_PER_WINDOW = 20
CLIENT_LINE_WINDOW_S = 5.0

CAP_PER_IP = 50
CAP_TOTAL = 60

FD_LIMIT = 256
FD_CONNS = 2000
FD_HOLD_S = 5.0
# A spinning acceptor burns ~1 CPU second per second (the issue saw a whole core). The
# backing-off one measured 0.00-0.02 s over the 5 s; 1.5 s leaves room for a loaded CI box.
FD_CPU_BOUND_S = 1.5
FD_LOG_BOUND = 5                 # "accept failed" lines in the hold (1 per 5 s expected)

IDLE_MS = 2000


# ---------------------------------------------------------------------------
# Process and log probes.

def raise_own_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    check(target >= need, f"this test needs {need} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def proc_status(pid, field):
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM) in bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise harness.TestFailure(f"/proc/{pid}/status has no {field}")


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def log_offset(server):
    return os.path.getsize(server.log_path)


def log_lines(server, since, pattern):
    """Lines of the server log after byte offset `since` that match the regex."""
    with open(server.log_path, "rb") as f:
        f.seek(since)
        text = f.read().decode("utf-8", "replace")
    rx = re.compile(pattern)
    return [line for line in text.splitlines() if rx.search(line)]


LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]")
CLIENT_LINE = re.compile(r"\] closing connection from [0-9.]+:(\d+): (.*)$")
SUPPRESSED = re.compile(r" \((\d+) similar line\(s\) suppressed\)$")


def log_time(line):
    m = LOG_TIME.match(line)
    check(m, f"log line without a timestamp: {line}")
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()


def client_lines(server, since):
    """The 'closing connection from <peer>: <why>' lines after byte offset `since`."""
    return log_lines(server, since, CLIENT_LINE.pattern)


def client_line_ports(lines, why):
    """{client port: line} of the client lines whose reason contains `why`."""
    out = {}
    for line in lines:
        m = CLIENT_LINE.search(line)
        if m and why in m.group(2):
            out[int(m.group(1))] = line
    return out


def suppressed_total(lines):
    return sum(int(m.group(1)) for m in map(SUPPRESSED.search, lines) if m)


def check_client_line_rate(lines, what):
    """At most 20 client lines per 5 s window: any span under 5 s touches at most two
    back-to-back windows, so holds at most 40 (4.9 s: log stamps trail the decision).
    Returns the most lines seen in one such span."""
    ts = sorted(log_time(line) for line in lines)
    worst, j = 0, 0
    for i, t in enumerate(ts):
        while t - ts[j] >= CLIENT_LINE_WINDOW_S - 0.1:
            j += 1
        worst = max(worst, i - j + 1)
    check(worst <= 2 * CLIENT_LINES_PER_WINDOW,
          f"{what}: {worst} 'closing connection' lines within {CLIENT_LINE_WINDOW_S - 0.1} s; "
          f"kairo writes at most {CLIENT_LINES_PER_WINDOW} per {CLIENT_LINE_WINDOW_S:.0f} s")
    return worst


def reconfigure(server, args, preexec_fn=None):
    server.stop()
    server.extra_args = list(args)
    server.preexec_fn = preexec_fn
    server.start()


def mb(n):
    return f"{n / 1e6:.1f} MB"


# ---------------------------------------------------------------------------
# Sockets.

class Sockets:
    """Raw sockets that are all closed however the step ends."""

    def __init__(self):
        self.socks = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close_all()

    def add(self, s):
        self.socks.append(s)
        return s

    def connect(self, source="127.0.0.1", port=None, timeout=5.0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.add(s)
        s.settimeout(timeout)
        if source != "127.0.0.1":
            s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def close(self, s):
        try:
            s.close()
        except OSError:
            pass

    def close_all(self):
        for s in self.socks:
            self.close(s)
        self.socks = []


def peer_closed(s):
    """Non-blocking: True if the server closed (EOF or reset), False if still open.

    Fails if the server sent bytes: none of these sockets has an answer outstanding.
    """
    timeout = s.gettimeout()
    s.setblocking(False)   # with a timeout set, Python would wait for readability first
    try:
        data = s.recv(4096)
    except BlockingIOError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.settimeout(timeout)
    check(data == b"", f"unexpected {len(data)} bytes from the server: {data[:32].hex()}")
    return True


def wait_closed(socks, timeout):
    """Wait until the server closed every socket; returns {fileno: monotonic time seen}."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    seen = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(by_fd):
        left = deadline - time.monotonic()
        if left <= 0:
            raise harness.TestFailure(f"the server closed only {len(seen)} of {len(by_fd)} "
                                      f"connections within {timeout:.0f} s")
        for fd, _ in poller.poll(min(left, 0.5) * 1000):
            if fd in seen:
                continue
            if peer_closed(by_fd[fd]):
                seen[fd] = time.monotonic()
                poller.unregister(fd)
    return seen


def api_versions(s, corr, timeout=10.0):
    """ApiVersions v0 on a raw socket; returns the api table (fails on anything else)."""
    s.settimeout(timeout)
    s.sendall(w.api_versions_request(corr, 0))
    head = recv_exact(s, 4)
    body = recv_exact(s, struct.unpack(">i", head)[0])
    got, err, apis = w.parse_api_versions_v0(body)
    check_eq((got, err), (corr, 0), "ApiVersions v0 correlation id and error code")
    return apis


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        check(chunk, f"server closed the connection after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


# ---------------------------------------------------------------------------
# A real client.

def producer(server, extra=None):
    conf = {"bootstrap.servers": server.bootstrap, "broker.address.family": "v4",
            "acks": "all", "linger.ms": 2, "message.timeout.ms": 20000,
            "log.connection.close": False}
    conf.update(extra or {})
    return ck.Producer(conf)


def produce_acked(server, topic, values, partitions=1):
    """Produce values round-robin over partitions; all must be acknowledged.

    Returns {(partition, offset): value}."""
    acked = {}
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked[(msg.partition(), msg.offset())] = msg.value()
    prod = producer(server)
    for i, v in enumerate(values):
        prod.produce(topic, value=v, partition=i % partitions, on_delivery=cb)
    prod.flush(30)
    check(not errors, f"delivery errors producing to {topic}: {errors[:3]}")
    check_eq(len(acked), len(values), f"acknowledged messages produced to {topic} within 30 s")
    return acked


def read_back(server, topic, partitions, expected):
    """Read everything from offset 0 and compare with {(p, o): value}."""
    cons = harness.ck_consumer(server.bootstrap, {"log.connection.close": False})
    try:
        msgs = harness.ck_consume_exact(
            cons, [ck.TopicPartition(topic, p, 0) for p in range(partitions)], len(expected), 30)
    finally:
        cons.close()
    got = {(m.partition(), m.offset()): m.value() for m in msgs}
    missing = [po for po in expected if po not in got]
    check(not missing, f"{topic}: {len(missing)} acknowledged messages missing, first "
          f"{sorted(missing)[:5]}")
    differ = [po for po in expected if got[po] != expected[po]]
    check(not differ, f"{topic}: {len(differ)} messages differ from what was acknowledged, "
          f"first at {differ[:3]}")


class RealClient:
    """confluent-kafka produces a few messages and reads them back."""

    TOPIC = "real-client"

    def __init__(self):
        self.rounds = 0

    def __call__(self, server, when):
        server.assert_alive()
        self.rounds += 1
        values = [f"real-{self.rounds}-{i}".encode() for i in range(20)]
        t0 = time.monotonic()
        acked = produce_acked(server, self.TOPIC, values)
        first = min(o for _, o in acked)
        cons = harness.ck_consumer(server.bootstrap, {"log.connection.close": False})
        try:
            msgs = harness.ck_consume_exact(cons, [ck.TopicPartition(self.TOPIC, 0, first)],
                                            len(values), 20)
        finally:
            cons.close()
        check_eq([m.value() for m in msgs], values, f"real client {when}: messages read back")
        took = time.monotonic() - t0
        print(f"   real client served {when}: 20 produced (acks=all) and read back "
              f"(offsets {first}..{first + 19}, {took:.2f} s)")
        return took


# ---------------------------------------------------------------------------
# Steps.

def step_two_servers(server, real):
    topic = "locked"
    harness.ck_admin_create(server.bootstrap, topic, 3)
    acked = produce_acked(server, topic, [f"before-{i}".encode() for i in range(300)], 3)
    print(f"   first server (pid {server.proc.pid}) acknowledged {len(acked)} messages")
    lock_path = os.path.join(server.data_dir, "LOCK")
    with open(lock_path) as f:
        check_eq(f.read().strip(), str(server.proc.pid), "pid written into the LOCK file")

    def listing():
        out = {}
        for root, _, files in os.walk(server.data_dir):
            for name in files:
                st = os.stat(os.path.join(root, name))
                out[os.path.relpath(os.path.join(root, name), server.data_dir)] = (
                    st.st_size, st.st_mtime_ns)
        return out
    before = listing()
    second = harness.Kairo(server.binary, name="second", data_dir=server.data_dir)
    try:
        rc, took = second.start_expect_exit(timeout=15)
        check(rc != 0, f"the second server on the same data dir exited with code {rc}; "
              "expected non-zero")
        refusal = [line for line in second.log_tail(200).splitlines() if "in use by another kairo" in line]
        check(refusal, "the second server's log has no 'in use by another kairo' line:\n"
              + second.log_tail(20))
        check("[critical]" in refusal[0], f"the refusal is not logged as critical: {refusal[0]}")
        check(f"(pid {server.proc.pid})" in refusal[0],
              f"the refusal does not name the first server's pid {server.proc.pid}: {refusal[0]}")
        print(f"   second server: exit code {rc} after {took:.2f} s: {refusal[0]}")
    finally:
        second.force_cleanup()
    check_eq(listing(), before, "data dir files (size, mtime) after the second server's attempt")
    shutil.rmtree(second.tmp, ignore_errors=True)

    server.assert_alive()
    more = produce_acked(server, topic, [f"after-{i}".encode() for i in range(300)], 3)
    acked.update(more)
    print(f"   first server still serving: {len(more)} more acknowledged")
    read_back(server, topic, 3, acked)

    # SIGKILL: the kernel drops the flock with the process, so no stale lock blocks the
    # restart; then every acknowledged message must be there.
    server.restart(hard=True)
    with open(lock_path) as f:
        check_eq(f.read().strip(), str(server.proc.pid), "pid in the LOCK file after the restart")
    read_back(server, topic, 3, acked)
    print(f"   after SIGKILL and restart: all {len(acked)} acknowledged messages read back")
    real(server, "after the restart")


def step_slowloris(server, real):
    reconfigure(server, ["--request-read-timeout-ms", str(SLOWLORIS_TIMEOUT_MS)])
    pid = server.proc.pid
    m0 = server.metrics()
    rss0 = proc_status(pid, "VmRSS")
    log0 = log_offset(server)
    prefix = w.i32(SLOWLORIS_FRAME)
    with Sockets() as pool:
        sent_at = {}
        t0 = time.monotonic()
        for i in range(SLOWLORIS_CONNS):
            s = pool.connect(port=server.port)
            # The size prefix and the first 6 bytes of a Produce v3 header, then nothing.
            s.sendall(prefix + w.request_header(w.API_PRODUCE, 3, i)[:6])
            sent_at[s.fileno()] = time.monotonic()
        print(f"   {SLOWLORIS_CONNS} connections opened in {time.monotonic() - t0:.2f} s, "
              f"each sent 10 bytes announcing {SLOWLORIS_FRAME} ({SLOWLORIS_CONNS * 10} bytes "
              f"in all, {SLOWLORIS_CONNS * SLOWLORIS_FRAME / 1e9:.0f} GB announced)")

        def all_reading():
            m = server.metrics()
            return (m["kairo_kafka_connections_open"] >= SLOWLORIS_CONNS
                    and m["kairo_kafka_partial_frame_bytes"] >= SLOWLORIS_CONNS * CHUNK)
        harness.wait_until(all_reading, 20, 0.1, "all stalled connections open and mid-frame")
        m1 = server.metrics()
        rss1 = proc_status(pid, "VmRSS")
        partial = m1["kairo_kafka_partial_frame_bytes"]
        print(f"   while stalled: RSS {mb(rss1)} (was {mb(rss0)}), partial_frame_bytes "
              f"{partial:.0f}, open {m1['kairo_kafka_connections_open']:.0f}, "
              f"process metric {mb(m1['kairo_process_resident_memory_bytes'])}")
        check(rss1 < SLOWLORIS_RSS_BOUND, f"server RSS {mb(rss1)} with {SLOWLORIS_CONNS} stalled "
              f"frames; bound {mb(SLOWLORIS_RSS_BOUND)}")
        check(partial <= SLOWLORIS_CONNS * CHUNK,
              f"kairo_kafka_partial_frame_bytes {partial:.0f} > {SLOWLORIS_CONNS} x 64 KiB")

        took = real(server, f"while {SLOWLORIS_CONNS} frames are stalled")
        now = time.monotonic()
        young = [s for s in pool.socks if now - sent_at[s.fileno()] < SLOWLORIS_TIMEOUT_MS / 1000 - 0.2]
        check(len(young) == SLOWLORIS_CONNS,
              f"the real client took {took:.1f} s, so only {len(young)} stalled connections were "
              f"younger than the read timeout when it finished; cannot show it was served meanwhile")
        early = [s for s in young if peer_closed(s)]
        check(not early, f"{len(early)} stalled connections were closed before "
              f"--request-read-timeout-ms {SLOWLORIS_TIMEOUT_MS}")
        m2 = server.metrics()
        check(m2["kairo_kafka_connections_open"] >= SLOWLORIS_CONNS,
              "the stalled connections were not all open while the real client ran")

        closed = wait_closed(pool.socks, SLOWLORIS_TIMEOUT_MS / 1000 + 30)
        delays = sorted(t - sent_at[fd] for fd, t in closed.items())
        print(f"   all {len(closed)} closed by the server {delays[0]:.2f}..{delays[-1]:.2f} s after "
              f"their last byte (timeout {SLOWLORIS_TIMEOUT_MS} ms)")
        check(delays[0] >= SLOWLORIS_TIMEOUT_MS / 1000 - 0.1,
              f"a stalled connection was closed {delays[0]:.2f} s after its last byte, before "
              f"the {SLOWLORIS_TIMEOUT_MS} ms read timeout")
    hwm = proc_status(pid, "VmHWM")
    m3 = server.metrics()
    timed_out = m3["kairo_kafka_connections_timed_out_total"] - m0["kairo_kafka_connections_timed_out_total"]
    print(f"   timed_out_total +{timed_out:.0f}; partial_frame_bytes now "
          f"{m3['kairo_kafka_partial_frame_bytes']:.0f}, peak {m3['kairo_kafka_partial_frame_peak_bytes']:.0f}; "
          f"peak RSS (VmHWM) {mb(hwm)}")
    # Nothing else times out here: the real client's connections are neither idle 10 min nor
    # mid-frame.
    check_eq(timed_out, SLOWLORIS_CONNS, "kairo_kafka_connections_timed_out_total increase")
    check(hwm < SLOWLORIS_RSS_BOUND, f"peak RSS (VmHWM) {mb(hwm)}, bound {mb(SLOWLORIS_RSS_BOUND)}")
    # The peak also saw the real client's (small) requests arriving next to the stalled ones.
    check(m3["kairo_kafka_partial_frame_peak_bytes"] <= SLOWLORIS_CONNS * CHUNK + MiB,
          f"partial_frame_peak_bytes {m3['kairo_kafka_partial_frame_peak_bytes']:.0f} > "
          f"{SLOWLORIS_CONNS} x 64 KiB + 1 MiB for the real client")
    harness.wait_until(lambda: server.metrics()["kairo_kafka_partial_frame_bytes"] == 0, 10,
                       0.1, "kairo_kafka_partial_frame_bytes back to 0")
    real(server, "after the stalled connections were closed")

    # 1,000 closes, but at most 20 lines per 5 s window. The ones dropped are counted by the
    # next client line written once a new window opens: provoke it with probes (a frame size
    # of 0, closed at once with a line), one at a time, until a line reports the count.
    probes = 0
    deadline = time.monotonic() + 2 * CLIENT_LINE_WINDOW_S + 5
    while not any(SUPPRESSED.search(line) for line in client_lines(server, log0)):
        check(time.monotonic() < deadline, "no 'similar line(s) suppressed' line "
              f"{2 * CLIENT_LINE_WINDOW_S + 5:.0f} s after the closes ({probes} probes closed since)")
        with Sockets() as probe:
            s = probe.connect(port=server.port)
            s.sendall(w.i32(0))
            wait_closed([s], 5)   # closed (and logged, or counted) before the next one
        probes += 1
        time.sleep(0.2)
    lines = client_lines(server, log0)
    stopped = client_line_ports(lines, "a request frame stopped arriving for more than "
                                f"{SLOWLORIS_TIMEOUT_MS} ms")
    probe_lines = client_line_ports(lines, "request frame size 0 is outside 8..")
    suppressed = suppressed_total(lines)
    worst = check_client_line_rate(lines, "slowloris closes")
    print(f"   client log lines: {len(lines)} written ({len(stopped)} 'stopped arriving', "
          f"{len(probe_lines)} of {probes} probes), {suppressed} reported suppressed, at most "
          f"{worst} within 5 s")
    print(f"   e.g. {[line for line in lines if SUPPRESSED.search(line)][0].split('] ', 2)[-1]}")
    check(len(lines) <= 2 * CLIENT_LINES_PER_WINDOW, f"{len(lines)} client log lines for "
          f"{SLOWLORIS_CONNS} closes and {probes} probes (bound {2 * CLIENT_LINES_PER_WINDOW})")
    check(len(stopped) >= 1, "no 'a request frame stopped arriving' line at all")
    # Every close is either written or counted: the lines plus the suppressed counts.
    check_eq(len(lines) + suppressed, SLOWLORIS_CONNS + probes,
             "client log lines written + reported suppressed (= slowloris closes + probes)")


def big_produce_batch():
    records = [(f"big-{i}".encode(), bytes([65 + i % 26]) * (64 * KiB), [])
               for i in range(BIG_RECORDS)]
    return w.record_batch(records, base_timestamp=int(time.time() * 1000))


def watermarks(server, topic, partition=0):
    cons = harness.ck_consumer(server.bootstrap, {"log.connection.close": False})
    try:
        return cons.get_watermark_offsets(ck.TopicPartition(topic, partition), timeout=10,
                                          cached=False)
    finally:
        cons.close()


def read_produce_answer(s, corr, topic, timeout):
    """One Produce v3 answer on s -> (error code, base offset); None if the server closed."""
    s.settimeout(timeout)
    try:
        head = s.recv(4, socket.MSG_WAITALL)
    except ConnectionResetError:
        return None
    if len(head) < 4:
        return None
    body = recv_exact(s, struct.unpack(">i", head)[0])
    got, res, _ = w.parse_produce_v3_response(body)
    check_eq(got, corr, "Produce v3 response correlation id")
    return res[topic][0][:2]


class Lockstep:
    """BIG_SENDERS connections send ~3 MiB Produce requests to `topic` partition 0 in
    lockstep, one 64 KiB piece per sender per round, so every sender has 1 MiB in before
    any has 2 MiB: growing to 2 MiB and then 3 MiB, 6 frames ask ~18 MiB of an 8 MiB budget.

    Sends never block (a frame waiting for memory is not read, and its socket fills): a
    sender that lags keeps its backlog and the round goes on. between(round), if given,
    runs after every round. run() leaves:
      size        bytes of each frame, its 4-byte size prefix included
      ports       each sender's local port (the peer port in kairo's log lines)
      refused     {sender: monotonic time its close was seen}
      answered    {sender: (error code, base offset)}
      started     monotonic time the first piece was sent
    """

    def __init__(self, pool, server, topic, corr0=100):
        batch = big_produce_batch()
        self.topic = topic
        self.corr0 = corr0
        self.frames = [w.produce_v3_request(corr0 + i, {topic: [(0, batch)]}, acks=-1,
                                            timeout_ms=15000) for i in range(BIG_SENDERS)]
        self.size = len(self.frames[0])
        self.senders = [pool.connect(port=server.port, timeout=15) for _ in range(BIG_SENDERS)]
        self.ports = [s.getsockname()[1] for s in self.senders]
        self.refused = {}
        self.answered = {}

    def run(self, between=None, timeout=30.0):
        views = [memoryview(f) for f in self.frames]
        sent = [0] * BIG_SENDERS
        for s in self.senders:
            s.setblocking(False)
        self.started = time.monotonic()
        target = 0
        rounds = 0
        while True:
            target = min(self.size, target + CHUNK)
            for i, s in enumerate(self.senders):
                if i in self.refused:
                    continue
                try:
                    while sent[i] < target:
                        sent[i] += s.send(views[i][sent[i]:target])
                except BlockingIOError:
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    self.refused[i] = time.monotonic()
            rounds += 1
            if between:
                between(rounds)
            if all(i in self.refused or sent[i] == self.size for i in range(BIG_SENDERS)):
                break
            check(time.monotonic() - self.started < timeout,
                  f"the lockstep senders did not get their frames out within {timeout:.0f} s "
                  f"(sent {sent}, refused {sorted(self.refused)})")
            time.sleep(0.005)
        self.rounds = rounds
        for i, s in enumerate(self.senders):
            if i in self.refused:
                continue
            got = read_produce_answer(s, self.corr0 + i, self.topic, 20)
            if got is None:
                self.refused[i] = time.monotonic()
            else:
                self.answered[i] = got

    def refusal_text(self):
        return (f"request frames being received hold all of --max-buffered-request-bytes "
                f"{BUDGET} and this {self.size - 4}-byte frame could not grow for "
                f"{BIG_GRACE_S:.0f} s; refused")

    def check(self, lines):
        """Refused ones logged with the refusal text, answered ones stored in order."""
        logged = client_line_ports(lines, self.refusal_text())
        refused_ports = sorted(self.ports[i] for i in self.refused)
        check_eq(sorted(logged), refused_ports,
                 "client ports in the 'could not grow for 1 s; refused' lines vs the senders "
                 "whose connection was closed")
        first = min(self.refused.values(), default=None)
        if first is not None:
            check(first - self.started >= BIG_GRACE_S - 0.05,
                  f"a lockstep sender was closed {first - self.started:.2f} s after the first "
                  f"byte, before the {BIG_GRACE_S:.0f} s grace could have run out")
        check(self.answered, "no big produce request got through")
        for i, (err, _) in self.answered.items():
            check_eq(err, 0, f"error code of the big produce request of sender {i}")
        check_eq(sorted(base for _, base in self.answered.values()),
                 [BIG_RECORDS * k for k in range(len(self.answered))],
                 "base offsets of the answered big produce requests")


def hold_budget(pool, server):
    """HOLDERS connections, each with 1 MiB + 1 byte of a 3 MiB frame in: 2 MiB each (the
    buffer doubles at 1 MiB), the whole budget. Returns the sockets."""
    holders = []
    for i in range(HOLDERS):
        s = pool.connect(port=server.port)
        head = w.i32(3 * MiB) + w.request_header(w.API_PRODUCE, 3, 900 + i)
        s.sendall(head + bytes(MiB + 1 - (len(head) - 4)))
        holders.append(s)
    harness.wait_until(lambda: server.metrics()["kairo_kafka_partial_frame_bytes"] == BUDGET,
                       10, 0.05, f"{HOLDERS} partial frames holding the whole {BUDGET}-byte budget")
    return holders


def unanswered(s):
    """True if nothing came back on s and the server did not close it."""
    timeout = s.gettimeout()
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)
        return False
    except BlockingIOError:
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False
    finally:
        s.settimeout(timeout)


def step_budget(server, real):
    reconfigure(server, ["--max-buffered-request-bytes", str(BUDGET),
                         "--max-message-bytes", str(4 * MiB),
                         "--request-read-timeout-ms", str(BUDGET_READ_TIMEOUT_MS)])
    topic, small_topic = "big", "small"
    harness.ck_admin_create(server.bootstrap, topic, 1)
    harness.ck_admin_create(server.bootstrap, small_topic, 1)
    log0 = log_offset(server)
    m0 = server.metrics()

    with Sockets() as pool:
        # A frame larger than the whole budget could never be buffered: refused at once.
        s = pool.connect(port=server.port)
        too_big_port = s.getsockname()[1]
        t0 = time.monotonic()
        s.sendall(w.i32(BUDGET + 1) + w.request_header(w.API_PRODUCE, 3, 1))
        wait_closed([s], 5)
        took = time.monotonic() - t0
        print(f"   a frame announcing {BUDGET + 1} bytes (budget {BUDGET}): closed after {took:.3f} s")
        check(took < 2, f"a frame larger than the budget was closed only after {took:.2f} s")
        pool.close(s)

        # Growth with the bytes that came: 1 MiB of an announced 8 MiB frame (exactly the
        # budget, so not refused) holds at most twice that plus a chunk, not 8 MiB.
        s = pool.connect(port=server.port)
        part = w.request_header(w.API_PRODUCE, 3, 1) + bytes(MiB - 12)
        s.sendall(w.i32(BUDGET) + part)
        harness.wait_until(lambda: server.metrics()["kairo_kafka_partial_frame_bytes"] >= len(part),
                           10, 0.05, "the 1 MiB partial frame to be buffered")
        held = server.metrics()["kairo_kafka_partial_frame_bytes"]
        print(f"   1 MiB sent of an announced {BUDGET}-byte frame: partial_frame_bytes {held:.0f}")
        check(held <= 2 * len(part) + CHUNK, f"partial_frame_bytes {held:.0f} for {len(part)} bytes "
              "that arrived (expected at most twice that plus a 64 KiB chunk)")
        check(not peer_closed(s), "the frame of exactly the budget was closed")
        pool.close_all()
        harness.wait_until(lambda: server.metrics()["kairo_kafka_partial_frame_bytes"] == 0, 10,
                           0.05, "partial_frame_bytes back to 0 after closing")

        # The fight: frames that hold memory and cannot grow for 1 s are refused, freeing
        # their share; the others complete.
        fight = Lockstep(pool, server, topic)
        fight.run()
        pool.close_all()
    lines = client_lines(server, log0)
    peak = server.metrics()["kairo_kafka_partial_frame_peak_bytes"]
    refused_after = sorted(round(t - fight.started, 2) for t in fight.refused.values())
    print(f"   {BIG_SENDERS} lockstep senders of {fight.size}-byte frames: {len(fight.refused)} "
          f"refused (seen {refused_after} s after the start), {len(fight.answered)} answered "
          f"{sorted(fight.answered.values())}; partial_frame_peak {peak:.0f} (budget {BUDGET})")
    refusals = client_line_ports(lines, fight.refusal_text())
    if refusals:
        print(f"   e.g. {next(iter(refusals.values())).split('] ', 2)[-1]}")
    check(peak <= BUDGET, f"kairo_kafka_partial_frame_peak_bytes {peak:.0f} > budget {BUDGET}")
    check(peak >= BUDGET // 2, f"kairo_kafka_partial_frame_peak_bytes {peak:.0f}: the budget was "
          "never under pressure, the test did not test it")
    check(fight.refused, f"none of {BIG_SENDERS} lockstep senders was refused; {BIG_SENDERS} x "
          f"3 MiB cannot fit an {BUDGET >> 20} MiB budget at once")
    fight.check(lines)
    too_big = client_line_ports(lines, f"request frame size {BUDGET + 1} is larger than "
                                f"--max-buffered-request-bytes {BUDGET}")
    check(too_big_port in too_big, f"no 'is larger than --max-buffered-request-bytes' line for "
          f"port {too_big_port}")
    harness.wait_until(lambda: server.metrics()["kairo_kafka_partial_frame_bytes"] == 0, 10,
                       0.05, "partial_frame_bytes back to 0")
    check_eq(watermarks(server, topic), (0, BIG_RECORDS * len(fight.answered)),
             "watermarks of the big topic (every answered request stored, nothing else)")

    # A small request while big frames hold the whole budget: it waits (no answer, the
    # connection stays open), its read timeout running; once memory frees it is answered.
    log1 = log_offset(server)
    with Sockets() as pool:
        holders = hold_budget(pool, server)
        last_trickle = [time.monotonic()]

        def trickle():
            # A byte now and then keeps the holders' own read timeout from closing them
            # (their buffers have room: no growth, so they are never refused).
            if time.monotonic() - last_trickle[0] >= 0.5:
                for h in holders:
                    h.sendall(b"\0")
                last_trickle[0] = time.monotonic()

        def hold_for(seconds, until=None):
            end = time.monotonic() + seconds
            while time.monotonic() < end and not (until and until()):
                trickle()
                time.sleep(0.02)

        first = pool.connect(port=server.port)
        first_port = first.getsockname()[1]
        first.sendall(w.api_versions_request(1, 0))
        t1 = time.monotonic()
        hold_for(1.5)
        check(unanswered(first), "a small request was answered (or closed) within 1.5 s while "
              "partial frames held the whole budget: it did not wait")
        hold_for(BUDGET_READ_TIMEOUT_MS / 1000 + 6, until=lambda: not unanswered(first))
        waited = time.monotonic() - t1
        check(peer_closed(first), f"the waiting small request was neither answered nor closed "
              f"{waited:.1f} s in (read timeout {BUDGET_READ_TIMEOUT_MS} ms)")
        print(f"   budget held by {HOLDERS} partial frames: a waiting ApiVersions was closed by "
              f"its read timeout after {waited:.2f} s (timeout {BUDGET_READ_TIMEOUT_MS} ms)")
        check(waited >= BUDGET_READ_TIMEOUT_MS / 1000 - 0.1,
              f"the waiting small request was closed after {waited:.2f} s, before its read timeout")
        check(not any(peer_closed(h) for h in holders), "a holder (sending a byte every 0.5 s) was "
              "closed")

        second = pool.connect(port=server.port)
        second.sendall(w.api_versions_request(2, 0))
        small = pool.connect(port=server.port)
        small.sendall(w.produce_v3_request(3, {small_topic: [(0, w.record_batch(
            [(b"k", b"small", [])], base_timestamp=int(time.time() * 1000)))]}, acks=-1))
        hold_for(0.5)
        check(unanswered(second) and unanswered(small),
              "a small request was answered while partial frames held the whole budget")
        pool.close(holders[0])
        t2 = time.monotonic()
        head = recv_exact_timeout(second, 4, WAIT_ANSWER_BOUND_S)
        body = recv_exact(second, struct.unpack(">i", head)[0])
        check_eq(w.parse_api_versions_v0(body)[:2], (2, 0), "ApiVersions answer after memory freed")
        got = read_produce_answer(small, 3, small_topic, WAIT_ANSWER_BOUND_S)
        answer_s = time.monotonic() - t2
        check(got is not None, "the small produce request's connection was closed")
        check_eq(got, (0, 0), "small produce request (error code, base offset)")
        print(f"   one holder closed: the waiting ApiVersions and small Produce answered "
              f"{answer_s:.3f} s later (error 0)")
        for h in holders[1:]:
            pool.close(h)
        api_versions(second, 4)
    harness.wait_until(lambda: server.metrics()["kairo_kafka_partial_frame_bytes"] == 0, 10,
                       0.05, "partial_frame_bytes back to 0")
    check_eq(watermarks(server, small_topic), (0, 1), "watermarks of the small topic")
    waited_lines = client_line_ports(client_lines(server, log1), "a request frame waited more than ")
    check_eq(sorted(waited_lines), [first_port],
             "client ports in 'waited ... for memory' lines (the one small request that waited out "
             "its read timeout, no holder)")
    lines1 = client_lines(server, log1)
    check(not client_line_ports(lines1, "a request frame stopped arriving"),
          "a request whose bytes had all arrived but waited for memory was called 'stopped arriving'")

    # Fewer than 20 client lines in this server's life, so none was dropped: each close
    # above has exactly its one line.
    lines = client_lines(server, log0)
    check(not suppressed_total(lines), f"client lines suppressed in the budget step: {lines}")
    check_eq(len(lines), 1 + len(fight.refused) + 1,
             "client log lines (too big, refused lockstep senders, timed-out waiter)")
    m1 = server.metrics()
    check_eq(m1["kairo_kafka_connections_timed_out_total"] - m0["kairo_kafka_connections_timed_out_total"],
             1, "kairo_kafka_connections_timed_out_total increase (the waiter)")
    real(server, "after the budget fight")


def recv_exact_timeout(s, n, timeout):
    s.settimeout(timeout)
    try:
        return recv_exact(s, n)
    except socket.timeout:
        raise harness.TestFailure(f"no answer within {timeout:.0f} s")


def step_caps(server, real):
    reconfigure(server, ["--max-connections-per-ip", str(CAP_PER_IP),
                         "--max-connections", str(CAP_TOTAL)])
    harness.wait_until(lambda: server.metrics()["kairo_kafka_connections_open"] == 0, 10, 0.05,
                       "no connection open (the harness's start probe has gone)")
    m0 = server.metrics()
    log0 = log_offset(server)

    def refused_total():
        return server.metrics()["kairo_kafka_connections_refused_total"] - m0["kairo_kafka_connections_refused_total"]

    def split(socks, settle=1.0):
        """(admitted, refused): refused ones see EOF at once; admitted ones stay open."""
        deadline = time.monotonic() + settle
        closed = set()
        while time.monotonic() < deadline:
            for s in socks:
                if s not in closed and peer_closed(s):
                    closed.add(s)
            time.sleep(0.05)
        return [s for s in socks if s not in closed], [s for s in socks if s in closed]

    with Sockets() as pool:
        first = [pool.connect(port=server.port) for _ in range(100)]
        t_first = time.monotonic()
        admitted, refused = split(first)
        for i, s in enumerate(admitted):
            api_versions(s, 1000 + i)
        print(f"   100 connections from 127.0.0.1: {len(admitted)} admitted (each answered "
              f"ApiVersions), {len(refused)} closed at once")
        check_eq(len(admitted), CAP_PER_IP, "connections admitted from 127.0.0.1")
        check_eq(refused_total(), 100 - CAP_PER_IP, "kairo_kafka_connections_refused_total increase")
        lines = log_lines(server, log0, r"refused a connection")
        check_eq(len(lines), 1, "'refused a connection' log lines for a burst of 50 (one per 5 s)")
        check(f"--max-connections-per-ip {CAP_PER_IP}" in lines[0] and "(1 refused since" in lines[0],
              f"the refusal line names the per-ip cap and its count: {lines[0]}")
        print(f"   log: {lines[0]}")
        for s in refused:
            pool.close(s)

        # Closing 10 admits 10 new ones, and the 11th is refused again.
        for s in admitted[:10]:
            pool.close(s)
        admitted = admitted[10:]
        harness.wait_until(lambda: server.metrics()["kairo_kafka_connections_open"] == CAP_PER_IP - 10,
                           10, 0.05, f"{CAP_PER_IP - 10} connections open after closing 10")
        again = [pool.connect(port=server.port) for _ in range(11)]
        ok, no = split(again)
        check_eq((len(ok), len(no)), (10, 1), "admitted and refused of 11 new connections after "
                 "closing 10 (cap 50)")
        for i, s in enumerate(ok):
            api_versions(s, 2000 + i)
        admitted += ok
        print("   after closing 10: 10 new ones admitted and served, the 11th refused")

        # The global cap, from another source address, after the 5 s log interval.
        time.sleep(max(0.0, t_first + 5.2 - time.monotonic()))
        before = refused_total()
        other = [pool.connect(source="127.0.0.2", port=server.port) for _ in range(20)]
        ok2, no2 = split(other)
        for i, s in enumerate(ok2):
            api_versions(s, 3000 + i)
        print(f"   20 connections from 127.0.0.2: {len(ok2)} admitted, {len(no2)} closed")
        check_eq(len(ok2), CAP_TOTAL - CAP_PER_IP, "connections admitted from 127.0.0.2 (global cap)")
        check_eq(refused_total() - before, 20 - len(ok2), "refused_total increase from 127.0.0.2")
        lines = log_lines(server, log0, r"refused a connection")
        check_eq(len(lines), 2, "'refused a connection' log lines after the 5 s interval")
        # The first line reported 1 (and reset the count); the second reports every refusal
        # since, itself included: 49 + 1 + 1 = all refusals so far.
        expect = int(before)
        check(f"--max-connections {CAP_TOTAL}" in lines[1] and f"({expect} refused since" in lines[1],
              f"the second refusal line names the global cap and counts {expect}: {lines[1]}")
        print(f"   log: {lines[1]}")
        check_eq(server.metrics()["kairo_kafka_connections_open"], CAP_TOTAL, "connections open")

    harness.wait_until(lambda: server.metrics()["kairo_kafka_connections_open"] == 0, 10, 0.05,
                       "all connections closed")
    with Sockets() as pool:
        for i, src in enumerate(("127.0.0.1", "127.0.0.2")):
            api_versions(pool.connect(source=src, port=server.port), 4000 + i)
    print("   all closed: new connections from both addresses admitted and served")
    real(server, "under the caps")


def limit_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def step_fd_limit(server, real):
    log0 = log_offset(server)
    reconfigure(server, [], preexec_fn=limit_fds)
    pid = server.proc.pid
    lines = log_lines(server, log0, r"file descriptor limit")
    check(lines and f"file descriptor limit {FD_LIMIT} " in lines[-1],
          f"startup log line about the fd limit {FD_LIMIT}: {lines}")
    print(f"   {lines[-1].split('] ')[-1]}; {open_fds(pid)} fds open at start")
    m0 = server.metrics()
    real(server, f"with RLIMIT_NOFILE {FD_LIMIT}")
    harness.wait_until(lambda: server.metrics()["kairo_kafka_connections_open"] == 0, 10, 0.05,
                       "the real client's connections closed")
    # From here until the connections are released the admin port is not touched: its
    # listener would need an fd as well.
    with Sockets() as pool:
        for _ in range(FD_CONNS):
            s = pool.add(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.setblocking(False)
            rc = s.connect_ex(("127.0.0.1", server.port))
            check(rc in (0, errno.EINPROGRESS), f"connect: {os.strerror(rc)}")
        harness.wait_until(lambda: open_fds(pid) >= FD_LIMIT - 1, 10, 0.05,
                           f"the server to reach its {FD_LIMIT} fd limit")
        poller = select.poll()
        for s in pool.socks:
            poller.register(s.fileno(), select.POLLOUT)
        by_fd = {s.fileno(): s for s in pool.socks}
        established = sum(1 for fd, ev in poller.poll(2000) if ev & select.POLLOUT
                          and by_fd[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
        log1 = log_offset(server)
        cpu0 = cpu_seconds(pid)
        t0 = time.monotonic()
        time.sleep(FD_HOLD_S)
        cpu = cpu_seconds(pid) - cpu0
        held = time.monotonic() - t0
        fails = log_lines(server, log1, r"\] accept failed: ")
        print(f"   {FD_CONNS} connections ({established} established), server at {open_fds(pid)} "
              f"fds: {cpu:.2f} CPU s in {held:.1f} s, {len(fails)} 'accept failed' log lines")
        if fails:
            print(f"   e.g. {fails[-1].split('] ', 2)[-1]}")
        check(cpu < FD_CPU_BOUND_S, f"the server used {cpu:.2f} CPU seconds in {held:.1f} s "
              f"while out of fds (bound {FD_CPU_BOUND_S}): the acceptor spins")
        check(len(fails) <= FD_LOG_BOUND, f"{len(fails)} 'accept failed' lines in {held:.1f} s "
              f"(bound {FD_LOG_BOUND})")
        server.assert_alive()
        # A connection queued behind the others, its request already sent: once fds come
        # back it must be accepted and answered, not left hanging.
        late = pool.connect(port=server.port, timeout=30)
        late.sendall(w.api_versions_request(77, 0))
        for s in pool.socks:
            if s is not late:
                pool.close(s)
        t1 = time.monotonic()
        head = recv_exact(late, 4)
        body = recv_exact(late, struct.unpack(">i", head)[0])
        check_eq(w.parse_api_versions_v0(body)[:2], (77, 0), "ApiVersions answer to the queued connection")
        print(f"   all released: the connection queued behind them was answered "
              f"{time.monotonic() - t1:.2f} s later")
    m1 = server.metrics()
    errs = m1["kairo_kafka_accept_errors_total"] - m0["kairo_kafka_accept_errors_total"]
    all_fails = log_lines(server, log1, r"\] accept failed: ")
    print(f"   accept_errors_total +{errs:.0f}; {len(all_fails)} 'accept failed' lines in all")
    check(errs > 0, "kairo_kafka_accept_errors_total did not count the failed accepts")
    real(server, "after the fds came back")
    harness.wait_until(lambda: open_fds(pid) < 64, 10, 0.1, "the server's fds to be released")


def step_idle(server, real):
    reconfigure(server, ["--connections-max-idle-ms", str(IDLE_MS)])
    m0 = server.metrics()
    topic = "idle-poll"
    harness.ck_admin_create(server.bootstrap, topic, 1)

    stats = []
    errors = []
    cons = harness.ck_consumer(server.bootstrap, {
        "fetch.wait.max.ms": 3000,            # a long poll longer than the idle timeout
        "statistics.interval.ms": 500,
        "stats_cb": lambda s: stats.append(json.loads(s)),
        "error_cb": lambda e: errors.append(str(e)),
        "log.connection.close": False})
    prod = producer(server, {"error_cb": lambda e: None})
    got = []
    sent = 0
    acked = []
    with Sockets() as pool:
        try:
            cons.assign([ck.TopicPartition(topic, 0, 0)])
            quiet = pool.connect(port=server.port)
            silent = pool.connect(port=server.port)
            t_silent = time.monotonic()
            busy = pool.connect(port=server.port)
            api_versions(quiet, 1)
            t_quiet = time.monotonic()
            closed = {}
            t_end = time.monotonic() + 3 * IDLE_MS / 1000 + 1
            next_ping = 0.0
            corr = 100
            while time.monotonic() < t_end or len(closed) < 2:
                now = time.monotonic()
                check(now < t_end + 15, f"idle connections not closed 15 s past the test window "
                      f"({sorted(closed)})")
                if now >= next_ping and now < t_end:
                    corr += 1
                    api_versions(busy, corr)       # a request every second keeps it open
                    prod.produce(topic, value=f"poll-{sent}".encode(), partition=0,
                                 on_delivery=lambda e, m: acked.append(e is None))
                    sent += 1
                    next_ping = now + 1.0
                for name, s, t in (("quiet", quiet, t_quiet), ("silent", silent, t_silent)):
                    if name not in closed and peer_closed(s):
                        closed[name] = time.monotonic() - t
                prod.poll(0)
                for m in cons.consume(num_messages=100, timeout=0.1):
                    if m.error() is None:
                        got.append(m.value())
            check(not peer_closed(busy), "the connection sending a request every second was closed")
            prod.flush(15)
            deadline = time.monotonic() + 15
            while len(got) < sent and time.monotonic() < deadline:
                for m in cons.consume(num_messages=100, timeout=0.2):
                    if m.error() is None:
                        got.append(m.value())
            time.sleep(0.6)
            cons.poll(0)                            # one more statistics callback
        finally:
            cons.close()
    print(f"   idle after an answered ApiVersions: closed after {closed['quiet']:.2f} s; "
          f"connected and silent: closed after {closed['silent']:.2f} s (idle {IDLE_MS} ms)")
    for name, t in closed.items():
        check(IDLE_MS / 1000 - 0.1 <= t <= IDLE_MS / 1000 + 8,
              f"the {name} connection was closed after {t:.2f} s, idle timeout {IDLE_MS} ms")
    check_eq(acked, [True] * sent, "delivery reports of the messages produced every second")
    check_eq(got, [f"poll-{i}".encode() for i in range(sent)],
             "messages the long-polling consumer received")
    check(stats, "no librdkafka statistics")
    leader = [b for b in stats[-1]["brokers"].values() if b.get("nodeid") == 0]
    check(leader, f"no broker with node id 0 in the consumer's statistics: {list(stats[-1]['brokers'])}")
    b = leader[0]
    print(f"   long-polling consumer: {len(got)} messages over {3 * IDLE_MS / 1000 + 1:.0f} s; "
          f"its fetch connection: connects {b['connects']}, disconnects {b['disconnects']}; "
          f"client errors {errors[:2]}")
    check_eq((b["connects"], b["disconnects"]), (1, 0),
             "connects and disconnects of the consumer's fetch connection (must not be idled out)")
    m1 = server.metrics()
    check(m1["kairo_kafka_connections_timed_out_total"] - m0["kairo_kafka_connections_timed_out_total"] >= 2,
          "kairo_kafka_connections_timed_out_total did not count the idle closes")
    real(server, f"with --connections-max-idle-ms {IDLE_MS}")


def test(server):
    raise_own_fd_limit(FD_CONNS + 500)
    real = RealClient()
    harness.ck_admin_create(server.bootstrap, RealClient.TOPIC, 1)
    with step("1. two servers on one data dir: the second refuses, the first keeps every ack"):
        step_two_servers(server, real)
    with step(f"2. slowloris: {SLOWLORIS_CONNS} stalled 100 MiB frames, read timeout "
              f"{SLOWLORIS_TIMEOUT_MS} ms"):
        step_slowloris(server, real)
    with step(f"3. --max-buffered-request-bytes {BUDGET}: big frames refused after "
              f"{BIG_GRACE_S:.0f} s without growth, small ones wait"):
        step_budget(server, real)
    with step(f"4. connection caps: --max-connections-per-ip {CAP_PER_IP}, "
              f"--max-connections {CAP_TOTAL}"):
        step_caps(server, real)
    with step(f"5. RLIMIT_NOFILE {FD_LIMIT} and {FD_CONNS} connections: no spin, bounded log, "
              "service resumes"):
        step_fd_limit(server, real)
    with step(f"6. --connections-max-idle-ms {IDLE_MS}: idle closed, long poll kept"):
        step_idle(server, real)


if __name__ == "__main__":
    harness.run(test, budget_s=120, name="hostile", description=__doc__)
