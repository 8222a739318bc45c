#!/usr/bin/python3
"""kcat round trip: 10,000 keyed messages with headers to an auto-created topic.

Checks: every message comes back byte-identical (key, value, headers), offsets per
partition are contiguous from 0, per-partition order equals produce order, and
`kcat -L -J` lists our broker and the topic with the default 3 partitions.
"""

import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

SEED = 20240611
N = 10_000
INVOCATIONS = 4  # kcat -H applies to every message of one run: vary headers across runs
TOPIC = "kcat-roundtrip"
# Characters allowed in keys/values: no ':' (key delimiter), no tab/newline (our
# output separators), no ',' (kcat's header separator). Includes multi-byte UTF-8.
ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            " !\"#$%&'()*+-./;<=>?@[]^_`{|}~" "éßøÅ日本語κόσμε")


def kcat(args, input_bytes=None, timeout=60):
    cmd = ["kcat", "-X", "broker.address.family=v4"] + args
    try:
        r = subprocess.run(cmd, input=input_bytes, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise harness.TestFailure(f"kcat did not finish within {timeout} s: {' '.join(cmd)}")
    return r


def make_messages(rng):
    msgs = []
    for i in range(N):
        key = f"key-{i:05d}-{rng.randrange(1 << 30):08x}"
        n = rng.randint(1, 200)
        value = f"v{i}_" + "".join(rng.choice(ALPHABET) for _ in range(n))
        msgs.append((key.encode(), value.encode("utf-8")))
    return msgs


def headers_for(run_idx):
    # Two headers on every message, values differ per kcat run; one has '=' and a space.
    return [(b"h1", f"run-{run_idx}".encode()),
            (b"trace", f"id=abc {run_idx * 7919} é".encode("utf-8"))]


def test(server):
    rng = random.Random(SEED)
    msgs = make_messages(rng)
    per_run = N // INVOCATIONS
    expected = {}  # key -> (value, headers, global index)

    with step(f"kcat -P: {N} keyed messages with 2 headers each, in {INVOCATIONS} runs, "
              f"to auto-created topic {TOPIC}"):
        for r in range(INVOCATIONS):
            chunk = msgs[r * per_run:(r + 1) * per_run]
            hdrs = headers_for(r)
            args = ["-P", "-b", server.bootstrap, "-t", TOPIC, "-K:",
                    "-X", "acks=all", "-X", "linger.ms=5"]
            for hk, hv in hdrs:
                args += ["-H", (hk + b"=" + hv).decode("utf-8")]
            data = b"".join(k + b":" + v + b"\n" for k, v in chunk)
            res = kcat(args, data)
            err = res.stderr.decode("utf-8", "replace")
            check(res.returncode == 0,
                  f"kcat -P run {r} exited {res.returncode}; stderr:\n{err[-2000:]}")
            check("delivery failed" not in err.lower(),
                  f"kcat -P run {r} reported failed deliveries:\n{err[-2000:]}")
            if err.strip():
                print(f"   (kcat -P run {r} stderr: {err.strip()[-500:]})")
            for j, (k, v) in enumerate(chunk):
                expected[k] = (v, hdrs, r * per_run + j)
        check_eq(len(expected), N, "distinct keys produced")

    with step("kcat -L -J lists the broker and the topic with 3 partitions"):
        res = kcat(["-L", "-J", "-b", server.bootstrap, "-t", TOPIC], timeout=30)
        check(res.returncode == 0, f"kcat -L exited {res.returncode}: {res.stderr[-2000:]!r}")
        md = json.loads(res.stdout)
        brokers = md.get("brokers", [])
        names = [b.get("name") for b in brokers]
        check(f"127.0.0.1:{server.port}" in names,
              f"metadata brokers {names} do not include the advertised 127.0.0.1:{server.port}")
        topics = {t["topic"]: t for t in md.get("topics", [])}
        check(TOPIC in topics, f"topic {TOPIC} missing from kcat -L: {list(topics)}")
        t = topics[TOPIC]
        check("error" not in t, f"topic {TOPIC} has a metadata error: {t.get('error')}")
        parts = sorted(p["partition"] for p in t["partitions"])
        check_eq(parts, [0, 1, 2], f"partitions of auto-created {TOPIC}")
        ids = {b["id"] for b in brokers}
        for p in t["partitions"]:
            check("error" not in p, f"partition {p['partition']} has error {p.get('error')}")
            check(p["leader"] in ids,
                  f"partition {p['partition']} leader {p['leader']} is not a listed broker {ids}")
        print(f"   brokers={names} partitions={parts}")

    with step("kcat -C -e -o beginning reads every message back byte-identical"):
        fmt = "%p\t%o\t%k\t%s\t%h\n"  # real tab/newline characters, not escapes
        res = kcat(["-C", "-b", server.bootstrap, "-t", TOPIC, "-o", "beginning", "-e",
                    "-q", "-f", fmt], timeout=90)
        check(res.returncode == 0,
              f"kcat -C exited {res.returncode}; stderr:\n{res.stderr[-2000:]!r}")
        lines = res.stdout.split(b"\n")
        check_eq(lines[-1], b"", "kcat output ends with a newline")
        lines = lines[:-1]
        check_eq(len(lines), N, "number of messages consumed by kcat")
        seen = set()
        by_partition = {}
        for ln in lines:
            f = ln.split(b"\t")
            check(len(f) == 5, f"unparseable kcat output line: {ln[:300]!r}")
            p, o, k, v, h = int(f[0]), int(f[1]), f[2], f[3], f[4]
            check(k in expected, f"partition {p} offset {o}: unknown key {k!r}")
            check(k not in seen, f"partition {p} offset {o}: key {k!r} delivered twice")
            seen.add(k)
            ev, eh, idx = expected[k]
            check(v == ev, f"key {k!r} (p{p}/o{o}): value differs:\n got {v!r}\n want {ev!r}")
            want_h = b",".join(hk + b"=" + hv for hk, hv in eh)
            check(h == want_h, f"key {k!r} (p{p}/o{o}): headers differ: got {h!r} want {want_h!r}")
            by_partition.setdefault(p, []).append((o, idx))
        check_eq(seen, set(expected), "set of keys consumed")
        counts = harness.contiguous_offsets(
            ((p, o) for p, lst in by_partition.items() for o, _ in lst), "kcat consume")
        check_eq(sorted(counts), [0, 1, 2], "partitions that received messages")
        for p, lst in by_partition.items():
            lst.sort()
            idxs = [i for _, i in lst]
            check(idxs == sorted(idxs),
                  f"partition {p}: offset order differs from produce order")
        print(f"   per-partition counts: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    harness.run(test, extra_args=["--auto-create-topics", "true"], budget_s=100,
                name="kcat", description=__doc__)
