#!/usr/bin/python3
"""The admin commands (`kairo topics|groups|policy|tuner`) against a real server.

Each command runs as a user would run it, with --admin naming the server's admin port; its
table is read back, its --json parsed, and what it did is checked through Kafka clients
(confluent-kafka): a topic the CLI creates is the one clients see, a group a consumer joins
shows its lag, a pinned policy is the one in force.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step, wait_until  # noqa: E402

import confluent_kafka as ck  # noqa: E402
import confluent_kafka.admin  # noqa: E402,F401

BASE = {"broker.address.family": "v4"}


def test(server):
    def kairo(*args, expect=0):
        r = subprocess.run([server.binary, *args, "--admin", f"127.0.0.1:{server.admin_port}"],
                           capture_output=True, text=True, timeout=30)
        check_eq(r.returncode, expect, f"exit code of kairo {' '.join(args)} (stderr: {r.stderr.strip()})")
        return r.stdout if expect == 0 else r.stderr

    def table(out):
        lines = [l for l in out.splitlines() if l.strip()]
        header = lines[0].split("  ")
        return [dict(zip([h.strip() for h in header if h.strip()], l.split())) for l in lines[1:]]

    boot = server.bootstrap
    with step("topics create / list / describe / alter / delete"):
        out = kairo("topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000")
        check("created topic orders with 3 partition(s)" in out, out)
        err = kairo("topics", "create", "orders", expect=1)
        check("already exists" in err, err)
        err = kairo("topics", "create", "bad", "--config", "cleanup.policy=compact", expect=1)
        check("compact" in err, err)
        md = ck.admin.AdminClient(dict(BASE, **{"bootstrap.servers": boot})).list_topics(timeout=10)
        check_eq(len(md.topics["orders"].partitions), 3, "partitions Kafka clients see")
        check("bad" not in md.topics, "a refused create made nothing")

        p = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "linger.ms": 5}))
        for i in range(300):
            p.produce("orders", value=b"x" * 100, partition=i % 3)
        check_eq(p.flush(20), 0, "unflushed")
        rows = {r["TOPIC"]: r for r in table(kairo("topics", "list"))}
        check_eq(rows["orders"]["PARTITIONS"], "3", "topics list partitions")
        check_eq(rows["orders"]["RECORDS"], "300", "topics list records")
        j = json.loads(kairo("topics", "describe", "orders", "--json"))
        check_eq([q["high_watermark"] for q in j["partitions"]], [100, 100, 100], "high watermarks")
        check_eq(j["configs"], {"retention.ms": "3600000"}, "configs")
        out = kairo("topics", "alter", "orders", "--set", "retention.bytes=1000000", "--delete", "retention.ms",
                    "--partitions", "4")
        check("4 partition(s)" in out and "retention.bytes=1000000" in out, out)
        check("retention.ms" not in out.splitlines()[0], out)
        kairo("topics", "alter", "orders", "--partitions", "2", expect=1)
        kairo("topics", "describe", "nope", expect=1)
        kairo("topics", "frobnicate", expect=2)
        kairo("topics", "create", "x", "--partitions", "many", expect=2)

    with step("groups list / describe / lag"):
        c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "cli-group",
                                      "enable.auto.commit": False, "auto.offset.reset": "earliest"}))
        c.assign([ck.TopicPartition("orders", 0, 0)])
        got = 0
        while got < 40:
            m = c.poll(5)
            check(m is not None and m.error() is None, f"poll: {m and m.error()}")
            got += 1
        c.commit(offsets=[ck.TopicPartition("orders", 0, 40)], asynchronous=False)
        rows = {r["GROUP"]: r for r in table(kairo("groups", "list"))}
        check("cli-group" in rows, f"groups list: {rows}")
        check_eq(rows["cli-group"]["LAG"], "60", "the group's lag")
        lag = table(kairo("groups", "lag", "cli-group"))
        check_eq([(r["TOPIC"], r["PARTITION"], r["COMMITTED"], r["LAG"]) for r in lag],
                 [("orders", "0", "40", "60")], "lag per partition")
        j = json.loads(kairo("groups", "describe", "cli-group", "--json"))
        check_eq(j["lag"], 60, "describe --json lag")
        c.close()
        kairo("groups", "describe", "nope", expect=1)

    with step("policy show / pin / auto, tuner decisions"):
        check("profile auto" in kairo("policy", "show"), "starts on auto")
        out = kairo("policy", "pin", "balanced")
        check(out.startswith("profile balanced: min_batches 10"), out)
        out = kairo("policy", "pin", "--min-batches", "4", "--linger-ms", "2")
        check(out.startswith("profile custom: min_batches 4, linger 2 ms"), out)
        j = json.loads(kairo("policy", "show", "--json"))
        check_eq((j["profile"], j["min_batches"], j["linger_ms"]), ("custom", 4, 2.0), "the pinned policy")
        kairo("policy", "pin", "turbo", expect=1)
        out = kairo("policy", "auto")
        check(out.startswith("profile auto"), out)
        wait_until(lambda: len(json.loads(kairo("tuner", "decisions", "--json", "--limit", "5"))) == 5, 10,
                   what="five tuner decisions")
        out = kairo("tuner", "decisions", "--limit", "3")
        check(out.startswith("tuner active"), out)
        rows = table("\n".join(out.splitlines()[1:]))
        check_eq(len(rows), 3, "three decisions")
        changes = json.loads(kairo("tuner", "changes", "--json"))
        check(all(ch["reason"] for ch in changes), "every change carries a reason")

    with step("topics delete; an unreachable server is exit 1 with a sentence"):
        check("deleted topic orders" in kairo("topics", "delete", "orders"), "deleted")
        kairo("topics", "delete", "orders", expect=1)
        r = subprocess.run([server.binary, "topics", "list", "--admin", "127.0.0.1:1"], capture_output=True,
                           text=True, timeout=30)
        check_eq(r.returncode, 1, "exit code against nothing")
        check("cannot reach the admin API" in r.stderr, r.stderr)


if __name__ == "__main__":
    harness.run(test, budget_s=90, name="admin-cli", description="the admin commands against a real server")
