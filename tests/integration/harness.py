"""Shared harness for kairo integration tests.

Starts a real `kairo serve` process on free loopback ports with a fresh data
directory, and gives the test scripts a tiny runner: every step is printed, every
wait is bounded, and on failure the server log tail is printed and the temp
directory is kept for inspection.

Run scripts with Debian's interpreter (/usr/bin/python3): it is the one that has
kafka-python and confluent-kafka installed.
"""

import argparse
import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

LOG_TAIL_LINES = 60
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 20.0


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    """Fail the test with `msg` (a sentence saying what was expected) unless cond."""
    if not cond:
        raise TestFailure(msg)


def check_eq(actual, expected, what):
    if actual != expected:
        raise TestFailure(f"{what}: expected {expected!r}, got {actual!r}")


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return
        if time.monotonic() >= deadline:
            raise TestFailure(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)


class Kairo:
    """One `kairo serve` process. restart() keeps the data dir and the ports.

    extra_args and preexec_fn are read at every start(), so a test may change them
    between stop() and start() to run the same data dir under other settings.
    preexec_fn runs in the child before exec (e.g. resource.setrlimit).
    data_dir: use this existing directory instead of a fresh one (e.g. a second server
    on another server's data dir); the log and ports are still this object's own.
    """

    def __init__(self, binary, extra_args=(), name="kairo", advertised_port=None,
                 preexec_fn=None, data_dir=None):
        check(os.path.isfile(binary) and os.access(binary, os.X_OK),
              f"--kairo {binary!r} is not an executable file; build the server first")
        self.binary = os.path.abspath(binary)
        self.extra_args = list(extra_args)
        self.preexec_fn = preexec_fn
        self.tmp = tempfile.mkdtemp(prefix=f"{name}-it-")
        if data_dir is None:
            self.data_dir = os.path.join(self.tmp, "data")
            os.makedirs(self.data_dir)
        else:
            self.data_dir = data_dir
        self.log_path = os.path.join(self.tmp, "server.log")
        self.port, self.admin_port = free_ports(2)
        # Clients are told to connect here (e.g. a test's proxy in front of kairo).
        self.advertised_port = advertised_port or self.port
        self.proc = None
        self.starts = 0

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def command(self):
        return [self.binary, "serve",
                "--listen", f"127.0.0.1:{self.port}",
                "--advertised-listener", f"127.0.0.1:{self.advertised_port}",
                "--admin-listen", f"127.0.0.1:{self.admin_port}",
                "--data-dir", self.data_dir] + self.extra_args

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self):
        self.starts += 1
        cmd = self.command()
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.tmp,
                                         preexec_fn=self.preexec_fn)

    def start(self):
        check(not self.running(), "start() called while the server is already running")
        self._spawn()
        print(f"  [harness] started kairo pid {self.proc.pid} on {self.bootstrap} "
              f"(admin 127.0.0.1:{self.admin_port}, data {self.data_dir})", flush=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise TestFailure(f"kairo exited with code {rc} during startup "
                                  f"(before accepting on {self.bootstrap})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise TestFailure(f"kairo did not accept connections on {self.bootstrap} "
                                  f"within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.05)

    def start_expect_exit(self, timeout):
        """Start a server that must refuse to run: wait for it to exit on its own.

        Returns (exit code, seconds it took). Fails (and kills it) if it is still running
        after timeout.
        """
        check(not self.running(), "start_expect_exit() called while the server is running")
        t0 = time.monotonic()
        self._spawn()
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.force_cleanup()
            raise TestFailure(f"kairo pid {self.proc.pid} was expected to refuse to start, but was "
                              f"still running {timeout:.0f} s later; its log:\n{self.log_tail()}")
        took = time.monotonic() - t0
        print(f"  [harness] kairo pid {self.proc.pid} exited on its own with code {rc} "
              f"after {took:.2f} s", flush=True)
        return rc, took

    def metrics(self, timeout=10.0):
        """GET /metrics on the admin port -> {series (name plus labels): float}."""
        url = f"http://127.0.0.1:{self.admin_port}/metrics"
        with urllib.request.urlopen(url, timeout=timeout) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
        return values

    def stop(self):
        """SIGTERM, bounded wait, and the exit code must be 0."""
        check(self.running(), "stop(): kairo is not running (it exited on its own?"
              f" exit code {self.proc.poll() if self.proc else None})")
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise TestFailure(f"kairo did not exit within {STOP_TIMEOUT_S:.0f} s of SIGTERM")
        print(f"  [harness] kairo stopped by SIGTERM in {time.monotonic() - t0:.2f} s, "
              f"exit code {rc}", flush=True)
        check_eq(rc, 0, "kairo exit code after SIGTERM")

    def kill(self):
        """SIGKILL (crash simulation)."""
        check(self.running(), "kill(): kairo is not running")
        self.proc.kill()
        self.proc.wait(timeout=10)
        print(f"  [harness] kairo killed with SIGKILL", flush=True)

    def restart(self, hard=False):
        if hard:
            self.kill()
        else:
            self.stop()
        self.start()

    def assert_alive(self):
        check(self.running(), f"kairo is not running any more (exit code {self.proc.poll()})")

    def log_tail(self, n=LOG_TAIL_LINES):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError as e:
            return f"(no server log: {e})"
        return "\n".join(lines[-n:])

    def force_cleanup(self):
        if self.running():
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def _watchdog(budget_s, server_ref):
    """Hard bound: if the test is stuck inside C code past its budget, dump and exit."""
    def fire():
        print(f"\nFAIL: test exceeded its hard time budget of {budget_s + 15:.0f} s "
              "(stuck; killed by watchdog)", flush=True)
        srv = server_ref[0]
        if srv is not None:
            print(f"---- last {LOG_TAIL_LINES} lines of {srv.log_path} ----")
            print(srv.log_tail(), flush=True)
            srv.force_cleanup()
            print(f"kept temp dir: {srv.tmp}", flush=True)
        os._exit(3)
    t = threading.Timer(budget_s + 15, fire)
    t.daemon = True
    t.start()
    return t


class _Budget(Exception):
    pass


@contextlib.contextmanager
def step(name):
    """Print a step header and its duration."""
    print(f"== {name}", flush=True)
    t0 = time.monotonic()
    yield
    print(f"   ok ({time.monotonic() - t0:.2f} s)", flush=True)


def run(test_fn, *, extra_args=(), budget_s=120, name="kairo", description="", advertised_port=None):
    """Parse --kairo, start the server, run test_fn(server), stop it with exit code 0.

    Exit status: 0 on success, 1 on failure (message + log tail printed), 3 on watchdog.
    """
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--kairo", required=True, help="path to the kairo binary")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir even on success")
    args = ap.parse_args()

    server_ref = [None]
    watchdog = _watchdog(budget_s, server_ref)

    def on_alarm(signum, frame):
        raise _Budget(f"test exceeded its time budget of {budget_s} s")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(budget_s)

    t0 = time.monotonic()
    server = None
    try:
        server = Kairo(args.kairo, extra_args, name=name, advertised_port=advertised_port)
        server_ref[0] = server
        atexit.register(server.force_cleanup)
        server.start()
        test_fn(server)
        with step("server still up; SIGTERM gives a clean exit with code 0"):
            server.assert_alive()
            server.stop()
    except BaseException as e:  # noqa: BLE001 - we report everything, then exit non-zero
        signal.alarm(0)
        print("", flush=True)
        traceback.print_exc()
        print(f"\nFAIL: {type(e).__name__}: {e}", flush=True)
        if server is not None:
            if server.proc is not None:
                rc = server.proc.poll()
                state = ("still running" if rc is None else
                         f"DIED with signal {-rc}" if rc < 0 else f"exited with code {rc}")
                print(f"kairo server process (pid {server.proc.pid}): {state}")
            print(f"---- last {LOG_TAIL_LINES} lines of {server.log_path} ----")
            print(server.log_tail(), flush=True)
            print("---- end of server log ----")
            server.force_cleanup()
            print(f"kept temp dir (data + log): {server.tmp}", flush=True)
        sys.stdout.flush()
        os._exit(1)
    signal.alarm(0)
    watchdog.cancel()
    if args.keep:
        print(f"kept temp dir: {server.tmp}")
    else:
        shutil.rmtree(server.tmp, ignore_errors=True)
    print(f"PASS ({time.monotonic() - t0:.1f} s)", flush=True)
    sys.stdout.flush()
    # os._exit: librdkafka handles left behind by a library must not hang interpreter exit.
    os._exit(0)


# ---------------------------------------------------------------------------
# confluent-kafka helpers shared by several scripts

def ck_admin_create(bootstrap, topic, partitions, timeout=15.0):
    import confluent_kafka.admin as cka
    admin = cka.AdminClient({"bootstrap.servers": bootstrap, "broker.address.family": "v4"})
    futs = admin.create_topics([cka.NewTopic(topic, num_partitions=partitions,
                                             replication_factor=1)],
                               request_timeout=timeout)
    futs[topic].result(timeout=timeout)
    # Wait until metadata shows the partitions (creation is synchronous in kairo, but
    # clients must not depend on that).
    def ready():
        md = admin.list_topics(topic=topic, timeout=5)
        t = md.topics.get(topic)
        return t is not None and t.error is None and len(t.partitions) == partitions
    wait_until(ready, timeout, what=f"metadata of new topic {topic} with {partitions} partitions")


def ck_consumer(bootstrap, extra=None):
    import confluent_kafka as ck
    conf = {
        "bootstrap.servers": bootstrap,
        "broker.address.family": "v4",
        # librdkafka needs a group.id to create a consumer; we never join or commit.
        "group.id": "kairo-it-unused",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": False,
    }
    conf.update(extra or {})
    return ck.Consumer(conf)


def ck_consume_exact(consumer, assignments, expected_count, timeout, batch=10000):
    """assign() the TopicPartitions and read until expected_count messages arrived.

    Returns a list of confluent_kafka.Message. Fails on any message error, or if the
    count is not reached within timeout (or more than expected arrive in a short
    grace period afterwards).
    """
    consumer.assign(assignments)
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < expected_count:
        if time.monotonic() >= deadline:
            raise TestFailure(f"consumed only {len(out)} of {expected_count} messages "
                              f"within {timeout:.0f} s")
        for m in consumer.consume(num_messages=batch, timeout=0.5):
            if m.error() is not None:
                raise TestFailure(f"consumer error: {m.error()}")
            out.append(m)
    # Grace: nothing beyond what we expect may show up.
    extra = [m for m in consumer.consume(num_messages=batch, timeout=0.5) if m.error() is None]
    check(not extra, f"{len(extra)} unexpected extra messages after the expected {expected_count}"
          f" (first: partition {extra[0].partition() if extra else None}, "
          f"offset {extra[0].offset() if extra else None})")
    return out


def contiguous_offsets(pairs, what):
    """pairs: iterable of (partition, offset). Each partition's offsets must be 0..n-1."""
    per = {}
    for p, o in pairs:
        per.setdefault(p, []).append(o)
    for p, offs in sorted(per.items()):
        offs.sort()
        if offs != list(range(len(offs))):
            dup = len(offs) - len(set(offs))
            first_gap = next((i for i, o in enumerate(offs) if o != i), None)
            raise TestFailure(f"{what}: partition {p} offsets are not contiguous from 0 "
                              f"({len(offs)} offsets, min {offs[0]}, max {offs[-1]}, "
                              f"{dup} duplicates, first mismatch at index {first_gap})")
    return {p: len(o) for p, o in per.items()}
