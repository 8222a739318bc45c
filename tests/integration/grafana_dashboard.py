#!/usr/bin/python3
"""The Grafana dashboard (deploy/grafana/kairo-dashboard.json) against a live kairo and a real Prometheus.

- every metric a dashboard query names is one kairo exports (read from a scrape taken after
  produce, fetch and a consumer group's commits, so that labelled series exist);
- a real Prometheus (the Debian package) scrapes kairo's admin port, and a query through its
  HTTP API returns kairo series;
- every dashboard query is valid PromQL to that Prometheus and returns data while kairo is
  under load.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "grafana",
                         "kairo-dashboard.json")
TOPIC = "dash"


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def exported_families(server):
    status, text = get(f"http://127.0.0.1:{server.admin_port}/metrics")
    check_eq(status, 200, "GET /metrics status")
    families = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            families[name] = kind
    return families


def dashboard_queries():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    return out


def metric_names(expr):
    # Identifiers that start with kairo_ (label names and values never do in these queries).
    return set(re.findall(r"\bkairo_[a-z0-9_]+", expr))


def family_of(name, families):
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and families.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return None


class Load:
    """A producer that keeps sending until stopped, so that rates are non-zero while Prometheus scrapes."""

    def __init__(self, server):
        self.p = ck.Producer({"bootstrap.servers": server.bootstrap, "broker.address.family": "v4",
                              "acks": "all", "linger.ms": 1})
        self.stop = threading.Event()
        self.errors = []
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        while not self.stop.is_set():
            try:
                self.p.produce(TOPIC, key=str(i).encode(), value=b"v" * 200,
                               on_delivery=lambda err, _m: err and self.errors.append(err))
                i += 1
            except BufferError:
                pass
            self.p.poll(0.001 if i % 100 == 0 else 0)
        self.p.flush(30)


def commit_group(server):
    c = ck.Consumer({"bootstrap.servers": server.bootstrap, "broker.address.family": "v4", "group.id": "dash-group",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([TOPIC])
    got = 0
    deadline = time.monotonic() + 30
    while got < 50 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got += 1
    check(got >= 50, f"the group read 50 messages (got {got})")
    c.commit(asynchronous=False)
    c.close()


def test(server):
    harness.ck_admin_create(server.bootstrap, TOPIC, 3)
    load = Load(server)
    load.t.start()
    try:
        with step("a consumer group reads and commits, so that its lag series exist"):
            commit_group(server)

        queries = dashboard_queries()
        with step(f"every metric the dashboard's {len(queries)} queries name is exported by kairo"):
            check(len(queries) >= 15, "the dashboard has its panels")
            families = exported_families(server)
            unknown = sorted({(title, n) for title, e in queries for n in metric_names(e)
                              if family_of(n, families) is None})
            check(not unknown, f"queries name metrics kairo does not export: {unknown}")
            named = {family_of(n, families) for _, e in queries for n in metric_names(e)}
            check(len(named) >= 20, f"the dashboard covers the main families (named {len(named)})")

        prom_port, = harness.free_ports(1)
        tmp = tempfile.mkdtemp(prefix="kairo-prom-")
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: kairo\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{server.admin_port}']\n")
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        prom = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{prom_port}"

        def query(q):
            status, body = get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": q}))
            check_eq(status, 200, f"Prometheus query status for {q}")
            return json.loads(body)

        try:
            with step("a real Prometheus scrapes kairo; its HTTP API returns kairo series"):
                def ready():
                    try:
                        return get(f"{base}/-/ready", timeout=2)[0] == 200
                    except OSError:
                        return False
                harness.wait_until(ready, 30, what="Prometheus ready")

                def scraped():
                    r = query('up{job="kairo"}')["data"]["result"]
                    return bool(r) and r[0]["value"][1] == "1"
                harness.wait_until(scraped, 30, what="Prometheus scraped kairo (up == 1)")
                r = query("kairo_wal_groups_total")
                check_eq(r["status"], "success", "query status")
                check(r["data"]["result"], "kairo_wal_groups_total has a series in Prometheus")
                check(float(r["data"]["result"][0]["value"][1]) > 0, "and it counts groups")

            with step("every dashboard query is valid PromQL and returns data under load"):
                pending = {e for _, e in queries}
                failures = {}

                def all_answer():
                    for e in sorted(pending):
                        r = query(e.replace("$__rate_interval", "10s"))
                        if r["status"] != "success":
                            failures[e] = r
                            pending.discard(e)
                        elif r["data"]["result"]:
                            pending.discard(e)
                    return not pending
                try:
                    harness.wait_until(all_answer, 40, interval=1.0, what="every dashboard query returning data")
                except harness.TestFailure as e:
                    raise harness.TestFailure(f"{e}; still empty: {sorted(pending)}") from None
                check(not failures, f"queries Prometheus refused: {failures}")
        finally:
            prom.terminate()
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
            log.close()
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        load.stop.set()
        load.t.join(60)
    check(not load.errors, f"produce errors under the load: {load.errors[:3]}")


if __name__ == "__main__":
    harness.run(test, budget_s=150, name="grafana", description=__doc__)
