#!/usr/bin/python3
"""Disk full under a real server (confluent-kafka, acks=all, no retries); startup refusals.

Refusals: a data directory that cannot be created, a WAL directory that is a file, a corrupt
sealed segment: kairo exits 1 with a line naming the path, the operation and the cause.

The data directory is a small tmpfs (or, where this process may not mount, the server gets a
file-size limit through prlimit: its writes then fail with EFBIG the same way). A producer
writes until the log fails:

- every message is either acknowledged or reported failed with KAFKA_STORAGE_ERROR (56);
- /healthz and /readyz answer 503 naming the storage failure, kairo_wal_failed is 1, the log
  says the failed group was cut off;
- a consumer still reads every acknowledged message while the log is failed;
- after space returns and a restart, every acknowledged message is there and not one that was
  reported failed, and producing works again.
"""

import os
import resource
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

TOPIC = "full"
FS_BYTES = 24 << 20
LEFT_FREE = 3 << 20      # what the filler leaves for the log once the server runs
VALUE_BYTES = 1024
CHUNK = 200
MAX_MESSAGES = 40_000    # the disk fills long before; a bound so that a bug cannot loop forever


def http(server, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.admin_port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(server, name):
    _, body = http(server, "/metrics")
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise harness.TestFailure(f"metric {name} not exported")


def try_mount(path):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_BYTES}", "tmpfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"   (cannot mount a tmpfs here: {r.stderr.strip()}; using a file-size limit instead)")
    return r.returncode == 0


def produce_until_failed(server):
    p = ck.Producer({"bootstrap.servers": server.bootstrap, "broker.address.family": "v4",
                     "acks": "all", "retries": 0, "enable.idempotence": False,
                     "linger.ms": 0, "batch.num.messages": 1, "message.timeout.ms": 20000})
    acked, failed, other = set(), set(), []

    def report(err, msg):
        v = msg.value().decode()[:16].rstrip("-")
        if err is None:
            acked.add(v)
        elif err.code() == ck.KafkaError.KAFKA_STORAGE_ERROR:
            failed.add(v)
        else:
            other.append((v, err))

    sent, chunks_after_failure = 0, 0
    while sent < MAX_MESSAGES and chunks_after_failure < 2:
        for _ in range(CHUNK):
            v = f"m-{sent:08d}".ljust(16, "-") + "x" * (VALUE_BYTES - 16)
            p.produce(TOPIC, v.encode(), partition=sent % 2, on_delivery=report)
            sent += 1
        check_eq(p.flush(30), 0, "messages still undelivered 30 s after a flush")
        if failed:
            chunks_after_failure += 1
    check(not other, f"deliveries failed with errors other than KAFKA_STORAGE_ERROR: {other[:5]}")
    check(failed, f"the log never failed after {sent} messages of {VALUE_BYTES} B")
    check_eq(len(acked) + len(failed), sent, "every message acknowledged or reported failed")
    return acked, failed


def consume_values(server, expected):
    c = harness.ck_consumer(server.bootstrap)
    msgs = harness.ck_consume_exact(c, [ck.TopicPartition(TOPIC, p, 0) for p in range(2)], expected, timeout=60)
    c.close()
    return [m.value().decode()[:16].rstrip("-") for m in msgs]


def refusal(server, data_dir):
    """Runs a second kairo on `data_dir` (ports of its own) and returns (exit code, output)."""
    port, admin = harness.free_ports(2)
    r = subprocess.run([server.binary, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}",
                        "--admin-listen", f"127.0.0.1:{admin}"], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def test(server):
    with step("startup refusals name the path, the operation and the cause in words"):
        base = os.path.join(server.tmp, "refusals")
        os.makedirs(base)
        blocker = os.path.join(base, "a-file")
        open(blocker, "w").close()
        code, out = refusal(server, os.path.join(blocker, "data"))
        check_eq(code, 1, "exit code when the data directory cannot be created")
        check(f"{blocker}/data" in out and "Not a directory" in out, f"refusal: {out[-400:]!r}")
        wal_is_file = os.path.join(base, "wal-is-a-file")
        os.makedirs(wal_is_file)
        open(os.path.join(wal_is_file, "wal"), "w").close()
        code, out = refusal(server, wal_is_file)
        check_eq(code, 1, "exit code when the WAL directory is a file")
        check(f"{wal_is_file}/wal" in out and "cannot create log directory" in out and "Not a directory" in out,
              f"refusal: {out[-400:]!r}")
        bad_segment = os.path.join(base, "bad-segment")
        os.makedirs(os.path.join(bad_segment, "wal"))
        for name in ("00000000000000000000.wal", "00000000000000000005.wal"):
            with open(os.path.join(bad_segment, "wal", name), "wb") as f:
                f.write(b"not a segment header, not a record" * 4)
        code, out = refusal(server, bad_segment)
        check_eq(code, 1, "exit code on a corrupt sealed segment")
        check("00000000000000000000.wal" in out and "corrupt at byte 0" in out, f"refusal: {out[-400:]!r}")

    mounted = False
    try:
        with step("the data directory on a small filesystem"):
            server.stop()
            shutil.rmtree(server.data_dir)
            os.makedirs(server.data_dir)
            mounted = try_mount(server.data_dir)
            server.start()
            harness.ck_admin_create(server.bootstrap, TOPIC, 2)
            if mounted:
                st = os.statvfs(server.data_dir)
                free = st.f_bavail * st.f_frsize
                with open(os.path.join(server.data_dir, "filler"), "wb") as f:
                    f.write(b"\0" * max(0, free - LEFT_FREE))
                    f.flush()
                    os.fsync(f.fileno())
            else:
                seg = max(os.path.getsize(os.path.join(server.data_dir, "wal", n))
                          for n in os.listdir(os.path.join(server.data_dir, "wal")))
                lim = seg + LEFT_FREE
                resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (lim, lim))

        with step("produce until the disk is full: each message acknowledged or KAFKA_STORAGE_ERROR"):
            acked, failed = produce_until_failed(server)
            print(f"   {len(acked)} acknowledged, {len(failed)} reported KAFKA_STORAGE_ERROR")

        with step("health says so: /healthz and /readyz 503 with the cause, kairo_wal_failed 1, a log line"):
            code, body = http(server, "/healthz")
            check_eq(code, 503, "/healthz status on a failed log")
            check("storage failed" in body and "restart" in body, f"/healthz body: {body!r}")
            check("was cut off the log" in body, f"/healthz says whether the failed group was cut: {body!r}")
            code, body = http(server, "/readyz")
            check_eq(code, 503, "/readyz status on a failed log")
            check_eq(metric(server, "kairo_wal_failed"), 1.0, "kairo_wal_failed")
            with open(server.log_path) as f:
                log = f.read()
            check("was cut off the log" in log, "the log line saying the failed group was cut off")

        with step("a failed log still serves every acknowledged message to consumers"):
            got = consume_values(server, len(acked))
            check_eq(set(got), acked, "values read while failed")

        with step("space returns, restart: every acknowledged message, none reported failed, producing works"):
            server.stop()
            if mounted:
                os.remove(os.path.join(server.data_dir, "filler"))
            server.start()  # a fresh process: no file-size limit
            got = consume_values(server, len(acked))
            check_eq(len(got), len(set(got)), "no value twice")
            check_eq(set(got) & failed, set(), "messages reported failed that came back")
            check_eq(set(got), acked, "acknowledged messages after the restart")
            p = ck.Producer({"bootstrap.servers": server.bootstrap, "broker.address.family": "v4", "acks": "all"})
            errs = []
            for i in range(100):
                p.produce(TOPIC, f"after-{i}".encode(), partition=0,
                          on_delivery=lambda e, m: errs.append(e) if e else None)
            check_eq(p.flush(30), 0, "undelivered after restart")
            check_eq(errs, [], "produce errors after the restart")
            check_eq(http(server, "/healthz")[0], 200, "/healthz after the restart")
    finally:
        if mounted:
            if server.running():
                server.stop()
            subprocess.run(["umount", server.data_dir], check=False)
            # The directory under the mount is empty: the harness's last step needs a server.
            server.start()


if __name__ == "__main__":
    harness.run(test, budget_s=150, name="disk-full", description="disk full under a real server")
