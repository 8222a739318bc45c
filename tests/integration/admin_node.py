#!/usr/bin/python3
"""Admin APIs from Node.js clients (kafkajs 2.2.4, @platformatic/kafka 1.35.0) against kairo.

The clients live in tests/integration/node (installed by scripts/setup-node.sh); each Node
script run below is a separate process given the bootstrap address, printing one
`@@RESULT {json}` line of what the client observed, which this script checks.

kafkajs (DeleteRecords v1, CreatePartitions v1, DescribeConfigs v2, AlterConfigs v1, ListOffsets
v3, Fetch v11; it has no IncrementalAlterConfigs):
 1. deleteTopicRecords to an offset and to -1 (the high watermark) moves fetchTopicOffsets' low
    watermark; an offset below it changes nothing, one beyond the high watermark is
    OFFSET_OUT_OF_RANGE; a fresh fromBeginning consumer starts at the new log start; the emptied
    partition carries on from its old end; a group whose committed offsets fell below the log
    start gets OFFSET_OUT_OF_RANGE on Fetch, resets to earliest and reads exactly what is left;
 2. createPartitions grows a topic (metadata, a producer writing to the new partitions, a
    consumer reading all of it); shrinking or keeping the count is INVALID_PARTITIONS,
    validateOnly changes nothing, an unknown topic is UNKNOWN_TOPIC_OR_PARTITION;
 3. describeConfigs of a topic: each config's value and source (topic override, broker
    default, kairo's own); alterConfigs (which replaces the topic's whole set) and its
    refusals (INVALID_CONFIG for bad values, compaction, unknown names; a refused request
    changes nothing; validateOnly changes nothing); the BROKER resource lists
    log.retention.ms, which alterConfigs changes live (topics without an override follow it),
    other broker configs are refused, and an empty set puts the flags' values back.
@platformatic/kafka (DeleteRecords v2, CreatePartitions v3, DescribeConfigs v4, AlterConfigs v2,
IncrementalAlterConfigs v1, ListOffsets v7, Fetch v17 by topic id):
 4. deleteRecords of two partitions in one request returns their low watermarks; listOffsets
    earliest gives them back; Fetch below the log start (even one below) is
    OFFSET_OUT_OF_RANGE; at the log start it serves no batch wholly below it; consume() from
    earliest reads exactly the records left;
 5. createPartitions (grow, refusals, a replica assignment naming an unknown broker);
 6. incrementalAlterConfigs SET and DELETE on a topic (other overrides stay, unlike
    AlterConfigs), its refusals (values, APPEND on a non-list config, half-bad requests change
    nothing), validateOnly; alterConfigs replacing the set; SET/DELETE of the broker's live
    retention defaults, one at a time, and refusals of other broker configs.
Both:
 7. malformed alters Kafka refuses whole with INVALID_REQUEST before applying anything
    (ConfigAdminManager.preprocess): a config named twice in one resource (both APIs), a
    resource named twice in one request, a null value in the legacy AlterConfigs.
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, step  # noqa: E402

# KAIRO_IT_NODE_DIR: another copy of tests/integration/node (e.g. with other client versions).
NODE_DIR = os.environ.get("KAIRO_IT_NODE_DIR") or \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
KJ = os.path.join(NODE_DIR, "kafkajs_admin.js")
PLT = os.path.join(NODE_DIR, "platformatic_admin.mjs")
PROC_TIMEOUT_S = 45

KJ_N, KJ_DEL, KJ_MORE = 60, 25, 15   # kafkajs records phase
PLT_N, PLT_DEL = 60, 25              # platformatic records phase (batches of 10: 25 is mid-batch)

# DescribeConfigs config sources (Kafka's ConfigSource ids).
TOPIC_CONFIG = 1
DYNAMIC_BROKER = {2, 3}     # DYNAMIC_BROKER_CONFIG (per broker) or DYNAMIC_DEFAULT_BROKER_CONFIG
STATIC_OR_DEFAULT = {4, 5}  # STATIC_BROKER_CONFIG or DEFAULT_CONFIG
DEFAULT_CONFIG = 5

# What a topic without overrides reports under kairo's default flags.
TOPIC_DEFAULTS = {"cleanup.policy": "delete", "retention.ms": "604800000", "retention.bytes": "-1",
                  "max.message.bytes": "1048576"}
# What kairo always does: listed, with this value, as DEFAULT_CONFIG.
TOPIC_FIXED = {"compression.type": "producer", "message.timestamp.type": "CreateTime",
               "min.insync.replicas": "1", "unclean.leader.election.enable": "false"}
BROKER_RETENTION_MS = "604800000"
BROKER_RETENTION_BYTES = "-1"

KAIRO_ARGS = ["--group-initial-rebalance-delay-ms", "0",
              "--auto-create-topics", "false"]


def node_bin():
    node = shutil.which("node")
    check(node is not None, "node is not on PATH; install Node.js >= 20.19.4")
    check(os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kafkajs")) and
          os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@platformatic", "kafka")),
          f"{NODE_DIR}/node_modules lacks kafkajs or @platformatic/kafka; run scripts/setup-node.sh")
    return node


def tail(text, n=40):
    return "\n".join(text.splitlines()[-n:])


def run_node(server, args, what, timeout=PROC_TIMEOUT_S):
    """Run one Node script to completion; return its RESULT json. Fails on @@FAIL, a non-zero
    exit, a missing RESULT, or the timeout, printing the client's own output."""
    cmd = [node_bin()] + args
    t0 = time.monotonic()

    def show(out, err):
        print(f"   ---- {what} stdout (tail) ----\n{tail(out)}\n"
              f"   ---- {what} stderr (tail) ----\n{tail(err)}\n   ----", flush=True)
    try:
        p = subprocess.run(cmd, cwd=NODE_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        show(e.stdout or "", e.stderr or "")
        raise TestFailure(f"{what}: node did not finish within {timeout} s")
    fails, results = [], []
    for line in p.stdout.splitlines():
        if line.startswith("@@FAIL "):
            fails.append(line[len("@@FAIL "):])
        elif line.startswith("@@RESULT "):
            results.append(json.loads(line[len("@@RESULT "):]))
    if fails or p.returncode != 0 or len(results) != 1:
        show(p.stdout, p.stderr)
        server.assert_alive()
        raise TestFailure(f"{what}: " + (fails[0] if fails else
                          f"node exited with code {p.returncode} and {len(results)} RESULT lines"))
    print(f"   {what}: node ran {time.monotonic() - t0:.1f} s", flush=True)
    return results[0]


def int_keys(d):
    return {int(k): v for k, v in d.items()}


def check_ok(res, what):
    check(res["ok"], f"{what}: expected success, the client got {res.get('types')}: "
          f"{res.get('message')}")


def check_refused(res, error, what):
    """The client's call failed with exactly this Kafka error (and no other)."""
    check(not res["ok"], f"{what}: expected {error}, but it succeeded ({res.get('value')})")
    check_eq(res["types"], [error], f"{what}: Kafka errors the client reported "
             f"(message: {res.get('message')})")


def check_topic_configs(desc, overrides, what, dynamic_broker=None):
    """desc['configs']: name -> {value, source, readOnly}. overrides: name -> value set on the
    topic (source TOPIC_CONFIG); the other settable configs are the broker's (the static
    defaults, or `dynamic_broker`: name -> value changed live) or kairo's own."""
    cfg = desc["configs"]
    dynamic_broker = dynamic_broker or {}
    for name, default in TOPIC_DEFAULTS.items():
        check(name in cfg, f"{what}: {name} missing from DescribeConfigs (got {sorted(cfg)})")
        got = cfg[name]
        if name in overrides:
            check_eq((got["value"], got["source"]), (overrides[name], TOPIC_CONFIG),
                     f"{what}: {name} (value, source) of a topic override")
        elif name in dynamic_broker:
            check_eq(got["value"], dynamic_broker[name], f"{what}: {name} following the broker's live default")
            check(got["source"] in DYNAMIC_BROKER, f"{what}: {name} source {got['source']}, expected a "
                  f"dynamic broker source {sorted(DYNAMIC_BROKER)}")
        else:
            check_eq(got["value"], default, f"{what}: {name} (not set on the topic)")
            check(got["source"] in STATIC_OR_DEFAULT, f"{what}: {name} source {got['source']}, expected "
                  f"a static broker or default source {sorted(STATIC_OR_DEFAULT)} (it is not set on the topic)")
        check_eq(got["readOnly"], False, f"{what}: readOnly of {name}")
    for name, value in TOPIC_FIXED.items():
        check(name in cfg, f"{what}: {name} missing from DescribeConfigs")
        check_eq((cfg[name]["value"], cfg[name]["source"]), (value, DEFAULT_CONFIG), f"{what}: {name}")
    stray = sorted(n for n, c in cfg.items() if c["source"] == TOPIC_CONFIG and n not in overrides)
    check(not stray, f"{what}: configs reported as topic overrides that are not set: {stray}")


def check_broker_retention(desc, ms, bytes_, what):
    """ms / bytes_: None for the flags' values (static), else the live value (dynamic)."""
    cfg = desc["configs"]
    for name, live, static in (("log.retention.ms", ms, BROKER_RETENTION_MS),
                               ("log.retention.bytes", bytes_, BROKER_RETENTION_BYTES)):
        check(name in cfg, f"{what}: broker config {name} missing (got {sorted(cfg)})")
        got = cfg[name]
        check_eq(got["readOnly"], False, f"{what}: readOnly of {name} (it can be altered live)")
        if live is None:
            check_eq(got["value"], static, f"{what}: {name} (the flag's value)")
            check(got["source"] in STATIC_OR_DEFAULT, f"{what}: {name} source {got['source']}, expected "
                  f"{sorted(STATIC_OR_DEFAULT)} (not altered)")
        else:
            check_eq(got["value"], live, f"{what}: {name} altered live")
            check(got["source"] in DYNAMIC_BROKER, f"{what}: {name} source {got['source']}, expected "
                  f"a dynamic broker source {sorted(DYNAMIC_BROKER)}")


def check_records(records, expected, what):
    """records: [partition, offset, key]; expected: the same, each exactly once."""
    got = sorted(tuple(r) for r in records)
    want = sorted(tuple(r) for r in expected)
    if got != want:
        extra = sorted(set(got) - set(want))
        missing = sorted(set(want) - set(got))
        dups = len(got) - len(set(got))
        raise TestFailure(f"{what}: {len(got)} records, expected {len(want)}; unexpected "
                          f"{extra[:5]}, missing {missing[:5]}, {dups} duplicates")


def keyed(partition, prefix, first, last, base=0):
    """Records partition/offsets first..last-1 whose keys are prefix-<offset - base>."""
    return [[partition, o, f"{prefix}-{o - base:05d}"] for o in range(first, last)]


def test_kafkajs(server):
    boot = server.bootstrap
    n, d, more = KJ_N, KJ_DEL, KJ_MORE
    topic = "kj-admin-records"
    with step(f"kafkajs: deleteTopicRecords on {topic} (partition 0 to {d}, partition 1 to -1), "
              "then consumers"):
        r = run_node(server, [KJ, boot, "records", topic, str(n), str(d), str(more)], "kafkajs records")
        check(r["created"] is True, f"createTopics returned {r['created']!r}")
        for p in ("0", "1"):
            check(all(a["errorCode"] == 0 for a in r["acks"][p]), f"produce acks: {r['acks'][p]}")
        check_eq(int_keys(r["before"]), {0: {"low": 0, "high": n}, 1: {"low": 0, "high": n}},
                 "fetchTopicOffsets before DeleteRecords")
        check_ok(r["deleteP0"], f"deleteTopicRecords partition 0 to {d}")
        check_eq(int_keys(r["afterP0"]), {0: {"low": d, "high": n}, 1: {"low": 0, "high": n}},
                 f"fetchTopicOffsets after deleting partition 0 to {d}")
        check_ok(r["deleteP1"], "deleteTopicRecords partition 1 to -1 (the high watermark)")
        after = {0: {"low": d, "high": n}, 1: {"low": n, "high": n}}
        check_eq(int_keys(r["afterBoth"]), after, "fetchTopicOffsets after deleting partition 1 to -1")
        check_ok(r["deleteBelow"], "deleteTopicRecords to an offset below the low watermark (a no-op)")
        check_refused(r["deleteBeyond"], "OFFSET_OUT_OF_RANGE",
                      f"deleteTopicRecords to {n + 5}, beyond the high watermark {n}")
        check_eq(int_keys(r["afterRefusals"]), after, "fetchTopicOffsets after the no-op and the refusal")
        check_records(r["fresh"], keyed(0, "p0", d, n),
                      "a fresh fromBeginning group (must start at the new log starts)")
        check_eq([(a["partition"], a["baseOffset"]) for a in r["acks"]["more"]], [(1, n)],
                 "produce to the emptied partition 1 (partition, base offset)")
        check_eq(int_keys(r["afterMore"]), {0: {"low": d, "high": n}, 1: {"low": n, "high": n + more}},
                 f"fetchTopicOffsets after {more} more to partition 1")
        check_eq(sorted(map(tuple, r["staleCommitted"])), [(0, 0), (1, 0)],
                 "offsets setOffsets committed for the stale group")
        check_records(r["stale"], keyed(0, "p0", d, n) + keyed(1, "more", n, n + more, base=n),
                      "a group whose committed offsets are below the log start (must reset to earliest)")
        oor = sorted({l["partition"] for l in r["outOfRangeLogs"]})
        check_eq(oor, [0, 1], "partitions kafkajs reset after OFFSET_OUT_OF_RANGE on Fetch "
                 f"(its log: {r['outOfRangeLogs']})")

    topic = "kj-admin-partitions"
    with step(f"kafkajs: createPartitions grows {topic} from 2 to 4; shrinking is INVALID_PARTITIONS"):
        r = run_node(server, [KJ, boot, "partitions", topic], "kafkajs partitions")
        check_ok(r["grow"], "createPartitions to 4")
        check_eq(r["partitionIds"], [0, 1, 2, 3], "partitions in metadata after the growth")
        check_eq(r["leaders"], [[p, 0, 0] for p in range(4)], "[partition, leader, error] in metadata")
        check_eq([(a["partition"], a["baseOffset"], a["errorCode"]) for a in r["acks3"]], [(3, 0, 0)],
                 "produce to new partition 3")
        check_eq([(a["partition"], a["baseOffset"], a["errorCode"]) for a in r["acks2"]], [(2, 0, 0)],
                 "produce to new partition 2")
        check_eq({p: o["high"] for p, o in int_keys(r["afterProduce"]).items()}, {0: 3, 1: 0, 2: 2, 3: 5},
                 "high watermarks after producing to the old and new partitions")
        check_refused(r["shrink"], "INVALID_PARTITIONS", "createPartitions 4 -> 3 (shrink)")
        check_refused(r["same"], "INVALID_PARTITIONS", "createPartitions 4 -> 4 (no growth)")
        check_ok(r["validateOnly"], "createPartitions to 6 with validateOnly")
        check_refused(r["badAssignment"], "INVALID_REPLICA_ASSIGNMENT",
                      "createPartitions with a replica assignment naming broker 5")
        check_eq(r["countAfter"], 4, "partitions after the refusals and validateOnly")
        check_refused(r["unknownTopic"], "UNKNOWN_TOPIC_OR_PARTITION", "createPartitions of an unknown topic")
        check_records(r["fresh"], keyed(0, "old", 0, 3) + keyed(2, "new2", 0, 2) + keyed(3, "new3", 0, 5),
                      "a consumer of the grown topic")

    topic, other = "kj-admin-configs", "kj-admin-configs-other"
    with step(f"kafkajs: describeConfigs and alterConfigs of {topic} and of the BROKER"):
        r = run_node(server, [KJ, boot, "configs", topic, other], "kafkajs configs")
        check(r["created"] is True, f"createTopics returned {r['created']!r}")
        check_topic_configs(r["initial"], {"retention.bytes": "1048576"}, "created with retention.bytes")
        check_ok(r["alter"], "alterConfigs retention.ms=3600000")
        # AlterConfigs replaces the set: retention.bytes, not named, goes back to the default.
        check_topic_configs(r["afterAlter"], {"retention.ms": "3600000"}, "after alterConfigs retention.ms")
        check_eq(r["onlyRetentionMs"]["configs"],
                 {"retention.ms": {"value": "3600000", "source": TOPIC_CONFIG, "readOnly": False,
                                   "isDefault": False}},
                 "describeConfigs with configNames [retention.ms]")
        for label, res in r["refusals"].items():
            check_refused(res, "INVALID_CONFIG", f"alterConfigs {label}")
        check_topic_configs(r["afterRefusals"], {"retention.ms": "3600000"}, "after the refused alterConfigs")
        check_ok(r["validateOnly"], "alterConfigs retention.ms=1000 with validateOnly")
        check_topic_configs(r["afterValidateOnly"], {"retention.ms": "3600000"}, "after validateOnly")
        check_ok(r["several"], "alterConfigs of three configs")
        several = {"retention.ms": "7200000", "max.message.bytes": "500000", "cleanup.policy": "delete"}
        check_topic_configs(r["afterSeveral"], several, "after alterConfigs of three configs")
        check_refused(r["unknownTopic"], "UNKNOWN_TOPIC_OR_PARTITION", "alterConfigs of an unknown topic")
        check_refused(r["describeUnknownTopic"], "UNKNOWN_TOPIC_OR_PARTITION",
                      "describeConfigs of an unknown topic")

        check_eq((r["broker"]["resourceType"], r["broker"]["resourceName"]), (4, "0"),
                 "describeConfigs BROKER 0 resource")
        check_broker_retention(r["broker"], None, None, "BROKER 0 before any change")
        both = sorted(r["both"], key=lambda x: x["resourceType"])
        check_eq([(x["errorCode"], x["resourceType"], x["resourceName"], sorted(x["configs"])) for x in both],
                 [(0, 2, topic, ["retention.ms"]), (0, 4, "0", ["log.retention.ms"])],
                 "describeConfigs of a topic and the broker in one request")
        check_eq(both[0]["configs"]["retention.ms"]["value"], "7200000", "retention.ms in the two-resource describe")
        check_ok(r["brokerAlter"], "alterConfigs BROKER 0 log.retention.ms=86400000")
        check_broker_retention(r["brokerAfterAlter"], "86400000", None, "BROKER 0 after the change")
        check_eq({k: (v["value"], v["source"] in DYNAMIC_BROKER)
                  for k, v in r["otherAfterBrokerAlter"]["configs"].items()},
                 {"retention.ms": ("86400000", True), "retention.bytes": ("-1", False)},
                 f"{other} (no overrides) after the broker's log.retention.ms changed: (value, dynamic)")
        check_eq((r["topicAfterBrokerAlter"]["configs"]["retention.ms"]["value"],
                  r["topicAfterBrokerAlter"]["configs"]["retention.ms"]["source"]), ("7200000", TOPIC_CONFIG),
                 f"{topic}'s own retention.ms after the broker's changed")
        for label, res in r["brokerRefusals"].items():
            check_refused(res, "INVALID_CONFIG", f"alterConfigs BROKER 0 {label}")
        check_broker_retention(r["brokerAfterRefusals"], "86400000", None, "BROKER 0 after the refusals")
        check_ok(r["brokerReplace"], "alterConfigs BROKER 0 with only log.retention.bytes")
        check_broker_retention(r["brokerAfterReplace"], None, "1073741824",
                               "BROKER 0 after alterConfigs naming only log.retention.bytes (replaces the set)")
        check_ok(r["brokerReset"], "alterConfigs BROKER 0 with no configs")
        check_broker_retention(r["brokerAfterReset"], None, None, "BROKER 0 after alterConfigs of an empty set")
        check_eq({k: v["value"] for k, v in r["otherAfterReset"]["configs"].items()},
                 {"retention.ms": TOPIC_DEFAULTS["retention.ms"], "retention.bytes": "-1"},
                 f"{other} after the broker's defaults were reset")


def test_platformatic(server):
    boot = server.bootstrap
    n, d = PLT_N, PLT_DEL
    topic = "plt-admin-records"
    with step(f"@platformatic/kafka: deleteRecords on {topic} (0 to {d}, 1 to -1), listOffsets, Fetch "
              "below the log start"):
        r = run_node(server, [PLT, boot, "records", topic, str(n), str(d)], "platformatic records")
        check_eq(r["topic"]["partitionsCount"], 2, "partitions of the created topic")
        check_eq([a["offset"] for a in r["acks0"]], list(range(0, n, 10)),
                 "base offsets of partition 0's batches (10 records each)")
        check_eq(int_keys(r["before"]), {0: {"low": 0, "high": n}, 1: {"low": 0, "high": n}},
                 "listOffsets earliest/latest before DeleteRecords")
        check_ok(r["deleted"], "deleteRecords of both partitions")
        check_eq(r["deleted"]["value"], [{"name": topic, "partitions": [{"partition": 0, "lowWatermark": d},
                                                                       {"partition": 1, "lowWatermark": n}]}],
                 "deleteRecords result (low watermarks)")
        after = {0: {"low": d, "high": n}, 1: {"low": n, "high": n}}
        check_eq(int_keys(r["after"]), after, "listOffsets earliest/latest after DeleteRecords")
        check_ok(r["deleteBelow"], "deleteRecords below the low watermark (a no-op)")
        check_eq(r["deleteBelow"]["value"], [{"name": topic, "partitions": [{"partition": 0, "lowWatermark": d}]}],
                 "deleteRecords below the low watermark: the low watermark it reports")
        check_refused(r["deleteBeyond"], "OFFSET_OUT_OF_RANGE", f"deleteRecords to {n + 1} (beyond {n})")
        check_refused(r["deleteNegative"], "OFFSET_OUT_OF_RANGE", "deleteRecords to -2")
        check_eq(int_keys(r["afterRefusals"]), after, "listOffsets after the no-op and the refusals")
        check_refused(r["fetchBelow"], "OFFSET_OUT_OF_RANGE", "Fetch of partition 0 at 0 (below the log start)")
        check_refused(r["fetchJustBelow"], "OFFSET_OUT_OF_RANGE", f"Fetch of partition 0 at {d - 1}")
        check_refused(r["fetchEmptiedBelow"], "OFFSET_OUT_OF_RANGE", f"Fetch of partition 1 at {n - 1}")
        check_ok(r["fetchAtStart"], f"Fetch of partition 0 at {d}")
        f = r["fetchAtStart"]["value"]
        check_eq((f["errorCode"], f["highWatermark"], f["logStartOffset"]), (0, n, d),
                 f"Fetch at {d}: (error, high watermark, log start offset)")
        check(f["batches"] and f["batches"][0][0] <= d <= f["batches"][0][1],
              f"Fetch at {d}: the first batch must hold offset {d}, got batches {f['batches']}")
        below = [b for b in f["batches"] if b[1] < d]
        check(not below, f"Fetch at {d} served batches wholly below the log start: {below}")
        check_eq([rec for rec in f["records"] if rec[0] >= d], [[o, f"p0-{o:05d}"] for o in range(d, n)],
                 f"Fetch at {d}: records from the fetch offset on")
        check_ok(r["fetchEmptied"], f"Fetch of the emptied partition 1 at {n}")
        f = r["fetchEmptied"]["value"]
        check_eq((f["errorCode"], f["highWatermark"], f["logStartOffset"], f["records"]), (0, n, n, []),
                 f"Fetch of partition 1 at {n}: (error, high watermark, log start, records)")
        check_records(r["earliest"], keyed(0, "p0", d, n), "consume() from earliest in a fresh group")

    topic = "plt-admin-partitions"
    with step(f"@platformatic/kafka: createPartitions grows {topic} 1 -> 3 -> 4; refusals"):
        r = run_node(server, [PLT, boot, "partitions", topic], "platformatic partitions")
        check_ok(r["grow"], "createPartitions to 3")
        check_eq(r["partitionsAfterGrow"], 3, "partitions in metadata after the growth")
        check_eq(r["leaders"], [0, 0, 0], "leaders of the partitions")
        check_eq(r["acks2"], [{"partition": 2, "offset": 0}], "produce to new partition 2")
        check_eq({p: o["high"] for p, o in int_keys(r["offsetsAfterProduce"]).items()}, {0: 0, 1: 0, 2: 4},
                 "high watermarks after producing to partition 2")
        check_refused(r["shrink"], "INVALID_PARTITIONS", "createPartitions 3 -> 2")
        check_refused(r["same"], "INVALID_PARTITIONS", "createPartitions 3 -> 3")
        check_ok(r["validateOnly"], "createPartitions to 5 with validateOnly")
        check_refused(r["badAssignment"], "INVALID_REPLICA_ASSIGNMENT",
                      "createPartitions with a replica assignment naming broker 7")
        check_ok(r["goodAssignment"], "createPartitions to 4 with the assignment [[0]]")
        check_refused(r["unknownTopic"], "UNKNOWN_TOPIC_OR_PARTITION", "createPartitions of an unknown topic")
        check_eq(r["partitionsAtEnd"], 4, "partitions at the end (validateOnly and refusals changed nothing)")

    topic, other = "plt-admin-configs", "plt-admin-configs-other"
    with step(f"@platformatic/kafka: incrementalAlterConfigs SET/DELETE, alterConfigs, describeConfigs v4 "
              f"on {topic} and the BROKER"):
        r = run_node(server, [PLT, boot, "configs", topic, other], "platformatic configs")
        check_refused(r["createCompact"], "INVALID_CONFIG", "createTopics with cleanup.policy=compact")
        check(f"{topic}-compact" not in r["topicsAfterCreateCompact"],
              f"the refused topic exists: {r['topicsAfterCreateCompact']}")
        check(topic in r["topicsAfterCreateCompact"], f"listTopics lacks {topic}: {r['topicsAfterCreateCompact']}")
        check_topic_configs(r["initial"], {"retention.bytes": "2097152"}, "created with retention.bytes")
        docs = sorted(n_ for n_, c in r["initial"]["configs"].items() if not c["hasDoc"])
        check(not docs, f"configs without documentation though it was asked for: {docs}")
        check_ok(r["set"], "incrementalAlterConfigs SET retention.ms")
        check_topic_configs(r["afterSet"], {"retention.bytes": "2097152", "retention.ms": "3600000"},
                            "after SET retention.ms (retention.bytes must stay)")
        check_ok(r["setDelete"], "incrementalAlterConfigs SET x2 + DELETE")
        after = {"retention.ms": "3600000", "max.message.bytes": "400000", "cleanup.policy": "delete"}
        check_topic_configs(r["afterSetDelete"], after, "after SET max.message.bytes, cleanup.policy, "
                            "DELETE retention.bytes")
        check_ok(r["deleteUnset"], "incrementalAlterConfigs DELETE of a config the topic does not set")
        for label, res in r["refusals"].items():
            check_refused(res, "INVALID_CONFIG", f"incrementalAlterConfigs {label}")
        check_refused(r["halfBad"], "INVALID_CONFIG", "incrementalAlterConfigs of a good and a bad value")
        check_topic_configs(r["afterRefusals"], after, "after the refusals (nothing of them applied)")
        check_ok(r["validateOnly"], "incrementalAlterConfigs with validateOnly")
        check_eq(r["afterValidateOnly"]["configs"]["retention.ms"]["value"], "3600000",
                 "retention.ms after validateOnly")
        check_refused(r["unknownTopic"], "UNKNOWN_TOPIC_OR_PARTITION", "incrementalAlterConfigs of an unknown topic")
        check_ok(r["replace"], "alterConfigs retention.bytes alone")
        check_topic_configs(r["afterReplace"], {"retention.bytes": "5000000"},
                            "after alterConfigs (replaces the set: the SET overrides are gone)")
        check_refused(r["replaceBad"], "INVALID_CONFIG", "alterConfigs retention.ms=-5")
        rb = r["afterReplaceBad"]["configs"]
        check_eq(sorted(rb), ["retention.bytes", "retention.ms"], "configs described with configurationKeys")
        check_eq((rb["retention.bytes"]["value"], rb["retention.bytes"]["source"]), ("5000000", TOPIC_CONFIG),
                 "retention.bytes after the refused alterConfigs")
        check(rb["retention.ms"]["value"] == TOPIC_DEFAULTS["retention.ms"] and
              rb["retention.ms"]["source"] in STATIC_OR_DEFAULT,
              f"retention.ms after the refused alterConfigs: {rb['retention.ms']}, expected the broker default")
        check_ok(r["deleteLast"], "incrementalAlterConfigs DELETE retention.bytes")
        check_topic_configs(r["afterDeleteLast"], {}, "after deleting the last override")

        check_broker_retention(r["broker"], None, None, "BROKER 0 before any change")
        check_ok(r["brokerSet"], "incrementalAlterConfigs BROKER 0 SET log.retention.ms")
        check_ok(r["brokerSetBytes"], "incrementalAlterConfigs BROKER 0 SET log.retention.bytes")
        check_broker_retention(r["brokerAfterSet"], "172800000", "2147483648",
                               "BROKER 0 after two SETs (the second must keep the first)")
        check_topic_configs(r["otherAfterBrokerSet"], {},
                            f"{other} after the broker's SETs",
                            dynamic_broker={"retention.ms": "172800000", "retention.bytes": "2147483648"})
        for label, res in r["brokerRefusals"].items():
            check_refused(res, "INVALID_CONFIG", f"incrementalAlterConfigs BROKER 0 {label}")
        check_ok(r["brokerDelete"], "incrementalAlterConfigs BROKER 0 DELETE log.retention.ms")
        check_broker_retention(r["brokerAfterDelete"], None, "2147483648",
                               "BROKER 0 after DELETE log.retention.ms (log.retention.bytes stays)")
        check_ok(r["brokerDeleteBytes"], "incrementalAlterConfigs BROKER 0 DELETE log.retention.bytes")
        check_broker_retention(r["brokerAtEnd"], None, None, "BROKER 0 at the end")
        check_eq({k: v["value"] for k, v in r["otherAtEnd"]["configs"].items()},
                 {"retention.ms": TOPIC_DEFAULTS["retention.ms"], "retention.bytes": "-1"},
                 f"{other} at the end")


def test_malformed_alters(server):
    """Kafka's ConfigAdminManager.preprocess refuses these (Incremental)AlterConfigs resources
    whole, with INVALID_REQUEST, before anything is applied. Every case is checked and all
    mismatches are reported together."""
    boot = server.bootstrap
    problems = []

    def expect(case, what):
        """case: {result, before, after}: refused with INVALID_REQUEST, configs unchanged."""
        res = case["result"]
        if res["ok"] or res["types"] != ["INVALID_REQUEST"]:
            got = "success" if res["ok"] else f"{res['types']}"
            problems.append(f"{what}: expected INVALID_REQUEST, kairo answered {got}")
        before = {k: (v["value"], v["source"]) for k, v in case["before"]["configs"].items()}
        after = {k: (v["value"], v["source"]) for k, v in case["after"]["configs"].items()}
        if before != after:
            problems.append(f"{what}: the configs changed from {before} to {after} (value, source)")

    topic = "kj-admin-strict"
    with step("kafkajs and @platformatic/kafka: malformed AlterConfigs / IncrementalAlterConfigs "
              "(a key twice, a resource twice, a null legacy value) are INVALID_REQUEST"):
        r = run_node(server, [KJ, boot, "strict", topic], "kafkajs strict")
        expect(r["duplicateKey"], "kafkajs AlterConfigs v1 naming retention.ms twice")
        topic = "plt-admin-strict"
        r = run_node(server, [PLT, boot, "strict", topic], "platformatic strict")
        expect(r["incrementalDuplicateKey"], "IncrementalAlterConfigs v1 SET retention.ms twice in one resource")
        expect(r["incrementalSetDeleteSameKey"],
               "IncrementalAlterConfigs v1 SET and DELETE of retention.ms in one resource")
        expect(r["legacyDuplicateKey"], "AlterConfigs v2 naming retention.ms twice")
        expect(r["legacyNullValue"], "AlterConfigs v2 retention.ms with a null value")
        expect(r["incrementalDuplicateResource"], "IncrementalAlterConfigs v1 naming the same topic resource twice")
        if problems:
            raise TestFailure(
                f"{len(problems)} malformed requests were not refused as Kafka refuses them "
                "(apache/kafka core/src/main/scala/kafka/server/ConfigAdminManager.scala preprocess(): "
                "\"Each resource must appear at most once.\", \"Error due to duplicate config keys\", "
                "\"Null value not supported for : ...\"; kairo's server/kafka/handlers/alter_configs.cc "
                "changes_of() folds the entries into a std::map, so the last one wins and a legacy null "
                "value becomes a reset):\n   " + "\n   ".join(problems))


def test(server):
    test_kafkajs(server)
    test_platformatic(server)
    test_malformed_alters(server)


if __name__ == "__main__":
    harness.run(test, extra_args=KAIRO_ARGS, budget_s=120, name="admin-node", description=__doc__)
