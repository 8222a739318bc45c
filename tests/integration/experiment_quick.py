#!/usr/bin/python3
"""`kairo-lab experiment run --quick` end to end: profile-sweep (a sweep) and step-load (a phased run).

For each: exit code 0; points.csv has one row per expected point (targets x storage classes x
message sizes x concurrencies, from the file's quick block) and every row has every column;
points.jsonl agrees; every point has a time series; the expected plots exist and are PNG files;
summary.md lists the points; no `kairo serve` started by the runner is left behind.
The sweep is given --kairo; the phased run finds the broker itself (../server/kairo from the
kairo-lab binary), and its run.json must name the kairo under test.
For the phased run: the time series cover the phases and show the load steps (8 and 128 active
senders). Assertions are about files and points, never about the numbers measured.
"""

import argparse
import csv
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestFailure, check, check_eq, step  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXPERIMENTS = os.path.join(REPO, "experiments")
RUN_TIMEOUT_S = 150
BUDGET_S = 280
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REQUIRED_COLUMNS = ["experiment", "point", "target", "profile", "storage", "producers", "concurrency",
                    "message_size", "status", "messages", "msgs_per_sec", "p50_us", "p99_us", "p999_us",
                    "batches_per_flush", "mean_sync_ms", "peak_rss_bytes"]


def merge_patch(target, patch):
    """RFC 7386, as the runner applies the quick block."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def quick_spec(name):
    with open(os.path.join(EXPERIMENTS, name + ".json")) as f:
        doc = json.load(f)
    check("quick" in doc, f"experiments/{name}.json has no quick block")
    return merge_patch(doc, doc["quick"])


def as_list(v, default):
    if v is None:
        return default
    return v if isinstance(v, list) else [v]


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG_MAGIC


def run_experiment(lab, kairo, name, out):
    """kairo=None: leave the broker to the runner's own lookup."""
    cmd = [lab, "experiment", "run", os.path.join(EXPERIMENTS, name + ".json"), "--quick", "--out", out]
    if kairo is not None:
        cmd += ["--kairo", kairo]
    print("   $ " + " ".join(cmd), flush=True)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S, text=True)
    except subprocess.TimeoutExpired as e:
        print(e.stdout or "")
        raise TestFailure(f"{name} --quick did not finish within {RUN_TIMEOUT_S} s")
    print("   | " + p.stdout.strip().replace("\n", "\n   | "), flush=True)
    check_eq(p.returncode, 0, f"exit code of `kairo-lab experiment run {name}.json --quick`")
    print(f"   ran in {time.monotonic() - t0:.1f} s", flush=True)


def read_points(out, expected_rows):
    with open(os.path.join(out, "points.csv"), newline="") as f:
        rows = list(csv.reader(f))
    check(len(rows) >= 1, "points.csv is empty (no header)")
    header, body = rows[0], rows[1:]
    for c in REQUIRED_COLUMNS:
        check(c in header, f"points.csv has no column {c!r}; header: {header}")
    check_eq(len(body), expected_rows, "rows in points.csv")
    for i, r in enumerate(body):
        check_eq(len(r), len(header), f"columns in points.csv row {i + 1}")
    points = [dict(zip(header, r)) for r in body]
    for p in points:
        check_eq(p["status"], "ok", f"status of point {p['point']} (error: {p.get('error')})")
        check(int(p["messages"]) > 0, f"point {p['point']} measured no acknowledged message")
    with open(os.path.join(out, "points.jsonl")) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    check_eq([j["point"] for j in lines], [p["point"] for p in points], "points in points.jsonl vs points.csv")
    for p in points:
        ts = os.path.join(out, "timeseries", p["point"] + ".csv")
        check(os.path.isfile(ts), f"no time series {ts}")
    with open(os.path.join(out, "summary.md")) as f:
        summary = f.read()
    for p in points:
        check(p["point"] in summary, f"summary.md does not list point {p['point']}")
    return points


def check_pngs(out, names):
    for n in names:
        path = os.path.join(out, "plots", n)
        check(os.path.isfile(path), f"plot {n} was not drawn (see plots/*.gp.log in {out})")
        check(is_png(path), f"plots/{n} is not a PNG file")


def no_server_left(tmp):
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if " serve " in cmd and tmp in cmd:
            left.append(f"{pid}: {cmd}")
    check(not left, "kairo serve processes left running: " + "; ".join(left))


def test_sweep(lab, kairo, tmp):
    spec = quick_spec("profile-sweep")
    out = os.path.join(tmp, "profile-sweep")
    load = spec.get("load", {})
    targets = [t["label"] for t in spec["targets"]]
    storages = as_list(spec.get("storage"), ["native"])
    sizes = as_list(load.get("message_size"), [256])
    concs = as_list(load.get("concurrency"), [1])
    check(len(targets) >= 2 and len(concs) >= 2, "the quick sweep should compare >= 2 targets at >= 2 concurrencies")
    with step(f"profile-sweep --quick: {len(targets)} targets x {len(storages)} storage x {len(sizes)} sizes x "
              f"{len(concs)} concurrencies"):
        run_experiment(lab, kairo, "profile-sweep", out)
    with step("profile-sweep: one row per point, every column, time series, summary"):
        points = read_points(out, len(targets) * len(storages) * len(sizes) * len(concs))
        got = sorted((p["target"], p["storage"], int(p["message_size"]), int(p["concurrency"])) for p in points)
        want = sorted(itertools.product(targets, storages, sizes, concs))
        check_eq(got, want, "(target, storage, size, concurrency) of the points")
    with step("profile-sweep: throughput and p99 plots per storage class and size are PNGs"):
        check_pngs(out, [f"{kind}-{st}-{sz}B.png" for kind in ("throughput", "p99") for st in storages for sz in sizes])
    no_server_left(tmp)


def test_phased(lab, kairo, tmp):
    spec = quick_spec("step-load")
    out = os.path.join(tmp, "step-load")
    targets = [t["label"] for t in spec["targets"]]
    phases = spec["phases"]
    total = sum(p["duration_s"] for p in phases)
    levels = sorted({p["concurrency"] for p in phases if "concurrency" in p})
    # The runner's default broker is the build tree's, beside kairo-lab; pass --kairo only when
    # the kairo under test lives elsewhere.
    found = os.path.realpath(os.path.join(os.path.dirname(lab), "..", "server", "kairo"))
    by_default = found == os.path.realpath(kairo)
    with step(f"step-load --quick: {len(targets)} targets, phases {[p.get('concurrency') for p in phases]}" +
              (" (kairo found by the runner)" if by_default else "")):
        run_experiment(lab, None if by_default else kairo, "step-load", out)
        with open(os.path.join(out, "run.json")) as f:
            served_with = json.load(f)["kairo"]
        check_eq(os.path.realpath(served_with), os.path.realpath(kairo), "kairo binary in run.json")
    with step("step-load: one row per target, time series cover the phases and show the steps"):
        points = read_points(out, len(targets))
        check_eq(sorted(p["target"] for p in points), sorted(targets), "targets of the points")
        for p in points:
            with open(os.path.join(out, "timeseries", p["point"] + ".csv"), newline="") as f:
                rows = list(csv.DictReader(f))
            check(len(rows) >= 5, f"time series of {p['point']} has only {len(rows)} rows")
            for c in ("t_s", "client_msgs_per_sec", "client_p99_ms", "min_batches", "linger_ms", "batches_per_flush"):
                check(c in rows[0], f"time series of {p['point']} has no column {c!r}")
            ts = [float(r["t_s"]) for r in rows]
            check(max(ts) >= total * 0.9, f"time series of {p['point']} ends at {max(ts):.1f} s of {total} s")
            seen = {int(float(r["active_senders"])) for r in rows if r["active_senders"]}
            for lv in levels:
                check(lv in seen, f"{p['point']}: no interval with {lv} active senders (saw {sorted(seen)})")
    with step("step-load: a stacked time series plot per point and an overview are PNGs"):
        check_pngs(out, [f"timeseries-{p['point']}.png" for p in points] +
                   ([f"phased-overview-{points[0]['storage']}-{points[0]['message_size']}B.png"] if len(points) > 1 else []))
    no_server_left(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lab", required=True, help="path to the kairo-lab binary (the experiment runner)")
    ap.add_argument("--kairo", required=True, help="path to the kairo binary the experiments serve with")
    ap.add_argument("--keep", action="store_true", help="keep the result folders even on success")
    args = ap.parse_args()
    lab = os.path.abspath(args.lab)
    kairo = os.path.abspath(args.kairo)
    check(os.access(lab, os.X_OK), f"--lab {lab!r} is not an executable file; build it first")
    check(os.access(kairo, os.X_OK), f"--kairo {kairo!r} is not an executable file; build it first")
    tmp = tempfile.mkdtemp(prefix="kairo-experiment-it-")

    def watchdog():
        print(f"\nFAIL: test exceeded its time budget of {BUDGET_S} s; kept {tmp}", flush=True)
        os._exit(3)
    timer = threading.Timer(BUDGET_S, watchdog)
    timer.daemon = True
    timer.start()
    t0 = time.monotonic()
    try:
        test_sweep(lab, kairo, tmp)
        test_phased(lab, kairo, tmp)
    except BaseException as e:  # noqa: BLE001 - report, keep the evidence, exit non-zero
        print(f"\nFAIL: {type(e).__name__}: {e}\nkept result folders: {tmp}", flush=True)
        os._exit(1)
    timer.cancel()
    if args.keep:
        print(f"kept result folders: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"PASS ({time.monotonic() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
