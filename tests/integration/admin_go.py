#!/usr/bin/python3
"""Admin APIs from Go's Sarama 1.22.1 (Debian's golang-github-shopify-sarama-dev) against kairo.

tests/integration/go/sarama_admin.go is built offline in GOPATH mode by the build helper of
groups_go.py (or taken prebuilt from --go-bin DIR / $KAIRO_IT_GO_BIN); each step below runs it
in one mode, as a separate process printing one JSON line per observation, which this script
checks. The Kafka API versions Sarama sent are taken from kairo's /metrics.

Sarama (config.Version 2.0.0: DeleteRecords v0, CreatePartitions v0, AlterConfigs v0,
DescribeConfigs v0 from ClusterAdmin and v1 sent by hand, CreateTopics v2, Metadata v5,
ListOffsets v1, Fetch v4, Produce v3; it has no IncrementalAlterConfigs):
 1. records: ClusterAdmin.DeleteRecords to an offset inside a batch and to -1 (the high
    watermark) moves client.GetOffset(OffsetOldest); a partition's raw answers: the low
    watermark, OFFSET_OUT_OF_RANGE beyond the high watermark and for -2, and
    UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist; a PartitionConsumer at
    OffsetOldest starts at the new log start and reads exactly the records left; one below it
    is ErrOffsetOutOfRange (Sarama checks against ListOffsets) and so is the Fetch v4 itself
    (kairo's answer), while a Fetch at the log start serves no batch wholly below it; the
    emptied partition carries on from its old end;
 2. partitions: ClusterAdmin.CreatePartitions grows a topic (Metadata, produce to and consume
    from the new partitions); shrinking or keeping the count is ErrInvalidPartitions, a replica
    assignment naming broker 5 ErrInvalidReplicaAssignment, an unknown topic
    ErrUnknownTopicOrPartition, validate_only (sent by hand: ClusterAdmin drops it) changes
    nothing; an assignment of broker 0 grows it;
 3. configs: CreateTopic with retention.bytes (and refused with cleanup.policy=compact);
    ClusterAdmin.AlterConfig on the topic (which replaces the topic's whole set: what it leaves
    out goes back to the broker's value) and DescribeConfig (v0: values and is_default; v1:
    config sources, DYNAMIC_TOPIC_CONFIG for the overrides); bad values, compaction, an
    unknown config, half-bad requests are refused with INVALID_CONFIG and change nothing;
    validateOnly changes nothing; ConfigNames limits the answer to those configs; ListTopics
    (DescribeConfigs v0) reports the overrides;
 4. broker: DescribeConfig of the BROKER resource "0" (type 4; Sarama 1.22.1's own
    BrokerResource constant is 5, which kairo refuses with INVALID_REQUEST as Kafka does) lists
    log.retention.ms; AlterConfig changes it live (DYNAMIC_BROKER_CONFIG), a topic without an
    override follows it; other broker configs, bad values, broker "1" are refused;
    validateOnly changes nothing; an empty set puts the flags' values back.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, step  # noqa: E402
import groups_go as gg  # noqa: E402  (Go build helper; takes --go-bin out of argv)
import txn_node as tn  # noqa: E402  (Versions: API versions per client from /metrics)
import admin_node as an  # noqa: E402  (what kairo's topic and broker configs must look like)

gg.PROGRAMS = ("sarama_admin",)
PROG = "sarama_admin"
CLIENT = "Sarama 1.22.1"

N, DEL, MORE, BATCH = 60, 25, 5, 10   # records step: DEL is inside the batch 20..29

# Kafka error codes.
NONE, OFFSET_OUT_OF_RANGE, UNKNOWN_TOPIC_OR_PARTITION = 0, 1, 3
INVALID_PARTITIONS, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_REQUEST = 37, 39, 40, 42
TOPIC_RESOURCE, BROKER_RESOURCE = 2, 4

ADMIN_APIS = ("DeleteRecords", "CreatePartitions", "AlterConfigs", "DescribeConfigs",
              "IncrementalAlterConfigs", "CreateTopics", "Metadata", "ListOffsets", "Fetch", "Produce")
EXPECTED_VERSIONS = {"DeleteRecords": 0, "CreatePartitions": 0, "AlterConfigs": 0, "ListOffsets": 1,
                     "Fetch": 4}

KAIRO_ARGS = ["--auto-create-topics", "false"]


def one(proc, kind, label, **match):
    """The single `kind` line labelled `label` (and with these fields) the program printed."""
    got = [e for e in proc.events(kind)
           if e.get("label") == label and all(e.get(k) == v for k, v in match.items())]
    check(len(got) == 1, f"{proc.name}: expected one {kind!r} line labelled {label!r} {match or ''}, "
          f"got {len(got)}{proc.diagnostics()}")
    return got[0]


def check_ok(e, what):
    check(e["ok"], f"{what}: expected success, Sarama got {e.get('error')!r}")


def check_code(e, code, what, key="code"):
    """A refusal with exactly this Kafka error code."""
    check_eq(e.get(key), code, f"{what}: Kafka error code (Sarama saw {e.get('error') or e.get('message')!r})")


def offsets(proc, label, expected):
    """expected: {partition: (low, high)} from client.GetOffset(OffsetOldest / OffsetNewest)."""
    got = one(proc, "offsets", label)["offsets"]
    errs = {p: o for p, o in got.items() if "low_error" in o or "high_error" in o}
    check(not errs, f"GetOffset errors after {label}: {errs}")
    check_eq({int(p): (o["low"], o["high"]) for p, o in got.items()}, expected,
             f"GetOffset (oldest, newest) per partition after {label}")


def keyed(partition, prefix, first, last, base=0):
    return [[partition, o, f"{prefix}-{o - base:05d}"] for o in range(first, last)]


def check_consumed(e, expected, what):
    check_ok(e, f"{what}: ConsumePartition")
    check(not e.get("timed_out"), f"{what}: only {len(e['records'])} of {len(expected)} records "
          f"arrived within 10 s")
    check_eq(e["errors"], [], f"{what}: consumer errors")
    got = e["records"]
    if got != expected:
        below = [r for r in got if r[1] < expected[0][1]] if expected else got
        raise TestFailure(f"{what}: {len(got)} records, expected {len(expected)} "
                          f"(offsets {expected[0][1] if expected else '-'}..); first got {got[:3]}, "
                          f"records below the log start: {below[:5]}")


def check_consume_refused(e, what):
    check(not e["ok"], f"{what}: ConsumePartition succeeded (read {len(e.get('records', []))} "
          "records); expected ErrOffsetOutOfRange")
    check(e["is_offset_out_of_range"], f"{what}: expected sarama.ErrOffsetOutOfRange, got {e.get('error')!r}")


def test_records(go, vers):
    topic = "sarama-admin-records"
    with step(f"Sarama: ClusterAdmin.DeleteRecords on {topic} (partition 0 to {DEL}, partition 1 to -1), "
              "GetOffset, consumers and Fetch below / at the log start"):
        p = vers.around(CLIENT, lambda: go.run(PROG, "records", "-mode", "records", "-topic", topic,
                                               "-n", N, "-delete", DEL, "-more", MORE, "-batch", BATCH))
        check_ok(one(p, "create", "create"), f"CreateTopic {topic}")
        check_eq(one(p, "produced", "p0")["acks"], keyed(0, "p0", 0, N), "SyncProducer acks on partition 0")
        check_eq(one(p, "produced", "p1")["acks"], keyed(1, "p1", 0, N), "SyncProducer acks on partition 1")
        offsets(p, "before", {0: (0, N), 1: (0, N)})
        check_ok(one(p, "delete", "p0"), f"ClusterAdmin.DeleteRecords partition 0 to {DEL}")
        offsets(p, "after_p0", {0: (DEL, N), 1: (0, N)})
        check_ok(one(p, "delete", "p1_to_high_watermark"), "ClusterAdmin.DeleteRecords partition 1 to -1")
        after = {0: (DEL, N), 1: (N, N)}
        offsets(p, "after_both", after)

        # ClusterAdmin.DeleteRecords drops the partitions' answers: these come from the raw request.
        raw = one(p, "delete_raw", "refusals")
        check_ok(raw, "DeleteRecords v0 (Broker.DeleteRecords)")
        check_eq(raw["partitions"], {
            "0": {"code": NONE, "low_watermark": DEL},
            "1": {"code": OFFSET_OUT_OF_RANGE, "low_watermark": -1},
            "7": {"code": UNKNOWN_TOPIC_OR_PARTITION, "low_watermark": -1}},
            f"DeleteRecords answers: partition 0 to {DEL - 10} (below its log start: a no-op that "
            f"reports it), partition 1 to {N + 5} (beyond its high watermark {N}), partition 7 (none)")
        raw = one(p, "delete_raw", "negative")
        check_ok(raw, "DeleteRecords v0 to -2")
        check_eq(raw["partitions"], {"0": {"code": OFFSET_OUT_OF_RANGE, "low_watermark": -1}},
                 "DeleteRecords answer for offset -2")
        offsets(p, "after_refusals", after)

        check_consumed(one(p, "consume", "p0_oldest"), keyed(0, "p0", DEL, N),
                       "PartitionConsumer at OffsetOldest on partition 0")
        check_consumed(one(p, "consume", "p0_at_log_start"), keyed(0, "p0", DEL, N),
                       f"PartitionConsumer at the log start {DEL}")
        check_consume_refused(one(p, "consume", "p0_below"), f"PartitionConsumer at {DEL - 1}")
        check_consume_refused(one(p, "consume", "p0_zero"), "PartitionConsumer at 0")
        for label, off in (("p0_zero", 0), ("p0_below", DEL - 1)):
            f = one(p, "fetch", label)
            check_ok(f, f"Fetch v4 of partition 0 at {off}")
            check_code(f, OFFSET_OUT_OF_RANGE, f"Fetch v4 of partition 0 at {off} (below the log start {DEL})")
            check_eq(f["records"], [], f"records served by the Fetch at {off}")
        f = one(p, "fetch", "p0_at_log_start")
        check_ok(f, f"Fetch v4 of partition 0 at {DEL}")
        check_code(f, NONE, f"Fetch v4 of partition 0 at {DEL}")
        check_eq(f["high_watermark"], N, f"Fetch at {DEL}: high watermark")
        check(f["batches"] and f["batches"][0][0] <= DEL <= f["batches"][0][1],
              f"Fetch at {DEL}: the first batch must hold offset {DEL}, got batches {f['batches']}")
        below = [b for b in f["batches"] if b[1] < DEL]
        check(not below, f"Fetch at {DEL} served batches wholly below the log start: {below}")
        check_eq([r for r in f["records"] if r[0] >= DEL], [[o, f"p0-{o:05d}"] for o in range(DEL, N)],
                 f"Fetch at {DEL}: records from the log start on")

        check_consume_refused(one(p, "consume", "p1_below"), f"PartitionConsumer at {N - 1} of the emptied partition 1")
        f = one(p, "fetch", "p1_below")
        check_code(f, OFFSET_OUT_OF_RANGE, f"Fetch v4 of the emptied partition 1 at {N - 1}")
        check_eq(one(p, "produced", "p1_more")["acks"], keyed(1, "more", N, N + MORE, base=N),
                 "acks of the records produced to the emptied partition 1 (it carries on from its end)")
        offsets(p, "after_more", {0: (DEL, N), 1: (N, N + MORE)})
        check_consumed(one(p, "consume", "p1_oldest"), keyed(1, "more", N, N + MORE, base=N),
                       "PartitionConsumer at OffsetOldest on partition 1")
        check_eq(one(p, "closed", None)["errors"], [], "Close() errors")


def test_partitions(go, vers):
    topic = "sarama-admin-partitions"
    with step(f"Sarama: ClusterAdmin.CreatePartitions grows {topic} 2 -> 4 -> 5; refusals; validate_only"):
        p = vers.around(CLIENT, lambda: go.run(PROG, "partitions", "-mode", "partitions", "-topic", topic))
        check_ok(one(p, "create", "create"), f"CreateTopic {topic}")
        check_ok(one(p, "create_partitions", "grow"), "CreatePartitions to 4")
        md = one(p, "metadata", "after_grow")
        check_eq(md["client_partitions"], [0, 1, 2, 3], "client.Partitions after the growth")
        check_eq((md.get("code"), md.get("partitions")), (NONE, [[i, 0, NONE] for i in range(4)]),
                 "DescribeTopics after the growth: (topic error, [partition, leader, error])")
        check_eq(one(p, "produced", "p3")["acks"], keyed(3, "p3", 0, 5), "acks of the new partition 3")
        check_eq(one(p, "produced", "p2")["acks"], keyed(2, "p2", 0, 2), "acks of the new partition 2")
        offsets(p, "after_produce", {0: (0, 0), 1: (0, 0), 2: (0, 2), 3: (0, 5)})
        check_consumed(one(p, "consume", "p3_oldest"), keyed(3, "p3", 0, 5), "PartitionConsumer on partition 3")
        for label, code, what in (
                ("shrink", INVALID_PARTITIONS, "CreatePartitions 4 -> 3 (shrink)"),
                ("same", INVALID_PARTITIONS, "CreatePartitions 4 -> 4 (no growth)"),
                ("bad_assignment", INVALID_REPLICA_ASSIGNMENT,
                 "CreatePartitions 4 -> 6 with a replica assignment naming broker 5"),
                ("unknown_topic", UNKNOWN_TOPIC_OR_PARTITION, "CreatePartitions of an unknown topic")):
            e = one(p, "create_partitions", label)
            check(not e["ok"], f"{what}: expected a refusal, it succeeded")
            check_code(e, code, what)
        e = one(p, "create_partitions", "validate_only")
        check_ok(e, "CreatePartitions v0 to 6 with validate_only")
        check_code(e, NONE, "CreatePartitions to 6 with validate_only")
        check_code(one(p, "create_partitions", "validate_only_shrink"), INVALID_PARTITIONS,
                   "CreatePartitions 4 -> 2 with validate_only")
        md = one(p, "metadata", "after_refusals")
        check_eq(md["client_partitions"], [0, 1, 2, 3], "partitions after the refusals and validate_only")
        check_ok(one(p, "create_partitions", "grow_assigned"), "CreatePartitions 4 -> 5 with the assignment [[0]]")
        md = one(p, "metadata", "at_end")
        check_eq(md["client_partitions"], [0, 1, 2, 3, 4], "partitions at the end")
        check_eq(one(p, "produced", "p4")["acks"], keyed(4, "p4", 0, 3), "acks of the new partition 4")
        offsets(p, "p4", {4: (0, 3)})
        check_eq(one(p, "closed", None)["errors"], [], "Close() errors")


def describe_pair(proc, label, resource_type, what):
    """The v1 answer in admin_node's shape ({configs: name -> {value, source, readOnly}}), after
    checking the v0 answer (ClusterAdmin.DescribeConfig) against it: the same configs and values,
    and is_default exactly where the source is DEFAULT_CONFIG (Kafka's v0 down-conversion)."""
    v0 = one(proc, "describe", label, version=0)
    v1 = one(proc, "describe", label, version=1)
    check_ok(v0, f"{what}: ClusterAdmin.DescribeConfig (v0)")
    check_ok(v1, f"{what}: DescribeConfigs v1")
    check_code(v1, NONE, f"{what}: DescribeConfigs v1")
    check_eq((v1["resource_type"], v1["resource_name"]), (resource_type, v1["name"]),
             f"{what}: the resource the answer names")
    c0, c1 = v0["configs"], v1["configs"]
    check_eq(sorted(c0), sorted(c1), f"{what}: configs listed by v0 and v1")
    for name, e1 in c1.items():
        e0 = c0[name]
        check_eq((e0["value"], e0["read_only"], e0["sensitive"]), (e1["value"], e1["read_only"], e1["sensitive"]),
                 f"{what}: {name} (value, read_only, sensitive) in v0 vs v1")
        check_eq(e0["default"], e1["source"] == an.DEFAULT_CONFIG,
                 f"{what}: {name} is_default in v0 (its v1 source is {e1['source']})")
        check_eq(e1["synonyms"], 0, f"{what}: {name} synonyms (include_synonyms was false)")
    return {"configs": {n: {"value": e["value"], "source": e["source"], "readOnly": e["read_only"]}
                        for n, e in c1.items()}}


def check_refused_alter(proc, label, code, name, what):
    e = one(proc, "alter", label)
    check(not e["ok"], f"{what}: ClusterAdmin.AlterConfig succeeded; expected a refusal")
    check_code(e, code, what, key="raw_code")
    check_eq(e["raw_name"], name, f"{what}: resource named by the AlterConfigs answer")
    check_eq(e["error"], e["raw_message"], f"{what}: the error ClusterAdmin.AlterConfig returns "
             "(the answer's error message)")


def test_configs(go, vers):
    topic = "sarama-admin-configs"
    other = topic + "-other"
    with step(f"Sarama: ClusterAdmin.AlterConfig / DescribeConfig on {topic}: values, sources, refusals, "
              "validateOnly, ListTopics"):
        p = vers.around(CLIENT, lambda: go.run(PROG, "configs", "-mode", "configs", "-topic", topic))
        check_ok(one(p, "create", "create"), f"CreateTopic {topic} with retention.bytes")
        check_ok(one(p, "create", "create_other"), f"CreateTopic {other}")
        e = one(p, "create", "create_compact")
        check(not e["ok"], "CreateTopic with cleanup.policy=compact succeeded; kairo never compacts")
        check_code(e, INVALID_CONFIG, "CreateTopic with cleanup.policy=compact")
        topics = one(p, "topics", "after_create")
        check(topic in topics["topics"] and f"{topic}-compact" not in topics["topics"],
              f"topics after the creations: {topics['topics']}")

        an.check_topic_configs(describe_pair(p, "initial", TOPIC_RESOURCE, "created"),
                               {"retention.bytes": "2097152"}, "created with retention.bytes")
        check_ok(one(p, "alter", "set"), "AlterConfig retention.ms=3600000 max.message.bytes=400000")
        overrides = {"retention.ms": "3600000", "max.message.bytes": "400000"}
        an.check_topic_configs(describe_pair(p, "after_set", TOPIC_RESOURCE, "after AlterConfig"), overrides,
                               "after AlterConfig (it replaces the set: retention.bytes goes back)")
        for label, what in (("bad_retention_ms_negative", "retention.ms=-5"),
                            ("bad_retention_ms_text", "retention.ms='an hour'"),
                            ("bad_retention_bytes_-2", "retention.bytes=-2"),
                            ("bad_compact", "cleanup.policy=compact"),
                            ("bad_compression_gzip", "compression.type=gzip"),
                            ("bad_unknown_name", "no.such.config=1"),
                            ("bad_half_bad", "retention.ms=1000 with retention.bytes=-2"),
                            ("bad_validate_only", "retention.ms=-5 with validateOnly")):
            check_refused_alter(p, label, INVALID_CONFIG, topic, f"AlterConfig {what}")
        check_refused_alter(p, "unknown_topic", UNKNOWN_TOPIC_OR_PARTITION, f"{topic}-missing",
                            "AlterConfig of an unknown topic")
        an.check_topic_configs(describe_pair(p, "after_refusals", TOPIC_RESOURCE, "after the refusals"),
                               overrides, "after the refused AlterConfigs (nothing of them applied)")
        e = one(p, "describe", "unknown_topic", version=1)
        check_code(e, UNKNOWN_TOPIC_OR_PARTITION, "DescribeConfigs v1 of an unknown topic")
        check(not one(p, "describe", "unknown_topic", version=0)["ok"],
              "ClusterAdmin.DescribeConfig of an unknown topic returned no error")

        check_ok(one(p, "alter", "validate_only"), "AlterConfig retention.ms=7200000 with validateOnly")
        an.check_topic_configs(describe_pair(p, "after_validate_only", TOPIC_RESOURCE, "after validateOnly"),
                               overrides, "after validateOnly (nothing applied)")
        e = one(p, "describe_names", "two_names")
        check_ok(e, "ClusterAdmin.DescribeConfig of retention.ms and cleanup.policy only")
        check_eq({n: (c["value"], c["default"]) for n, c in e["configs"].items()},
                 {"retention.ms": ("3600000", False), "cleanup.policy": ("delete", True)},
                 "DescribeConfig with ConfigNames: (value, is_default) of exactly those configs")
        lt = one(p, "list_topics", "after_set")
        check_ok(lt, "ClusterAdmin.ListTopics")
        want = {n: v["value"] for n, v in describe_pair(p, "after_validate_only", TOPIC_RESOURCE, "")["configs"].items()
                if v["source"] != an.DEFAULT_CONFIG}
        check_eq(lt["config_entries"], want, "ListTopics' ConfigEntries (the non-default configs)")
        check(all(lt["config_entries"].get(k) == v for k, v in overrides.items()),
              f"ListTopics' ConfigEntries lack the overrides {overrides}: {lt['config_entries']}")

        check_ok(one(p, "alter", "replace"), "AlterConfig retention.bytes=5000000 alone")
        an.check_topic_configs(describe_pair(p, "after_replace", TOPIC_RESOURCE, "after replace"),
                               {"retention.bytes": "5000000"}, "after AlterConfig retention.bytes alone")
        check_ok(one(p, "alter", "clear"), "AlterConfig with no configs")
        an.check_topic_configs(describe_pair(p, "after_clear", TOPIC_RESOURCE, "after clear"), {},
                               "after AlterConfig with no configs (every override gone)")
        an.check_topic_configs(describe_pair(p, "other", TOPIC_RESOURCE, other), {}, f"{other} (never altered)")
        check_eq(one(p, "closed", None)["errors"], [], "Close() errors")


def test_broker(go, vers):
    topic = "sarama-admin-broker"
    with step("Sarama: DescribeConfig / AlterConfig of the BROKER resource \"0\": log.retention.ms live"):
        p = vers.around(CLIENT, lambda: go.run(PROG, "broker", "-mode", "broker", "-topic", topic))
        check_ok(one(p, "create", "create"), f"CreateTopic {topic}")
        d = describe_pair(p, "initial", BROKER_RESOURCE, "BROKER 0")
        check("log.retention.ms" in one(p, "describe", "initial", version=0)["configs"],
              "ClusterAdmin.DescribeConfig of BROKER 0 does not list log.retention.ms")
        an.check_broker_retention(d, None, None, "BROKER 0 before any change")
        e = one(p, "describe", "sarama_broker_constant", version=1)
        check_code(e, INVALID_REQUEST, "DescribeConfigs of resource type 5 (Sarama's BrokerResource; no "
                   "config resource type)")
        check(not one(p, "describe", "sarama_broker_constant", version=0)["ok"],
              "ClusterAdmin.DescribeConfig of resource type 5 returned no error")

        check_ok(one(p, "alter", "set_ms"), "AlterConfig BROKER 0 log.retention.ms=172800000")
        an.check_broker_retention(describe_pair(p, "after_set_ms", BROKER_RESOURCE, "BROKER 0 after set"),
                                  "172800000", None, "BROKER 0 after AlterConfig log.retention.ms")
        an.check_topic_configs(describe_pair(p, "topic_after_set_ms", TOPIC_RESOURCE, topic), {},
                               f"{topic} after the broker's change",
                               dynamic_broker={"retention.ms": "172800000"})
        for label, what in (("bad_num_partitions", "num.partitions=3 (not live)"),
                            ("bad_ms_negative", "log.retention.ms=-7"),
                            ("bad_ms_text", "log.retention.ms='two days'"),
                            ("bad_half", "log.retention.ms=3600000 with log.dirs")):
            check_refused_alter(p, label, INVALID_CONFIG, "0", f"AlterConfig BROKER 0 {what}")
        check_refused_alter(p, "other_broker", INVALID_REQUEST, "1", "AlterConfig BROKER 1 (no such broker)")
        check_ok(one(p, "alter", "validate_only"), "AlterConfig BROKER 0 log.retention.ms=1000 with validateOnly")
        an.check_broker_retention(describe_pair(p, "after_refusals", BROKER_RESOURCE, "BROKER 0 after refusals"),
                                  "172800000", None, "BROKER 0 after the refusals and validateOnly")

        check_ok(one(p, "alter", "replace_bytes"), "AlterConfig BROKER 0 log.retention.bytes alone")
        an.check_broker_retention(describe_pair(p, "after_replace_bytes", BROKER_RESOURCE, "BROKER 0 replaced"),
                                  None, "2147483648",
                                  "BROKER 0 after AlterConfig log.retention.bytes alone (it replaces the set)")
        an.check_topic_configs(describe_pair(p, "topic_after_replace_bytes", TOPIC_RESOURCE, topic), {},
                               f"{topic} after the broker's second change",
                               dynamic_broker={"retention.bytes": "2147483648"})
        check_ok(one(p, "alter", "clear"), "AlterConfig BROKER 0 with no configs")
        an.check_broker_retention(describe_pair(p, "after_clear", BROKER_RESOURCE, "BROKER 0 cleared"),
                                  None, None, "BROKER 0 after AlterConfig with no configs (the flags' values)")
        an.check_topic_configs(describe_pair(p, "topic_after_clear", TOPIC_RESOURCE, topic), {},
                               f"{topic} at the end")
        check_eq(one(p, "closed", None)["errors"], [], "Close() errors")


def test(server):
    vers = tn.Versions(server)
    go = gg.Go(server)
    with step("build sarama_admin.go (GOPATH mode, Debian's Sarama 1.22.1)"):
        t0 = time.monotonic()
        go.build()
        print(f"   built in {time.monotonic() - t0:.1f} s: {go.bin[PROG]}")
    test_records(go, vers)
    test_partitions(go, vers)
    test_configs(go, vers)
    test_broker(go, vers)
    with step("request versions seen on /metrics"):
        vers.report(ADMIN_APIS)
        for api, v in EXPECTED_VERSIONS.items():
            check_eq(vers.versions(CLIENT, api), [v], f"{api} versions Sarama sent (per /metrics)")
        check_eq(vers.versions(CLIENT, "DescribeConfigs"), [0, 1], "DescribeConfigs versions Sarama sent")


if __name__ == "__main__":
    harness.run(test, extra_args=KAIRO_ARGS, budget_s=120, name="admin-go", description=__doc__)
