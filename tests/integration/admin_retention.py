#!/usr/bin/python3
"""Topic admin and reclaiming space, with confluent-kafka 1.7, kafka-python 2.0 and raw requests.

  1. confluent-kafka AdminClient: AlterConfigs of a topic (refusals for bad values and unknown
     or read-only configs, validate_only changing nothing), DescribeConfigs with Kafka's
     sources, CreatePartitions (grow, refuse to shrink, validate_only);
  2. kafka-python KafkaAdminClient: the same three APIs through another client's encoders;
  3. raw DeleteRecords v0 and IncrementalAlterConfigs v0 (neither client has them): the low
     watermark moves, fetches below it are out of range, a consumer group whose committed
     offset fell below it resets to the new earliest (auto.offset.reset) and reads on;
  4. size retention in a running server: a topic with retention.bytes of 2 MiB takes 40 MiB
     while the WAL directory stays bounded and old segments are removed; after a kill -9 and
     a restart the low watermark, the data above it and the offsets are unchanged;
  5. time retention set live: the broker's log.retention.ms altered over the wire empties an
     idle topic within a check interval; the partition's next offset carries on after it;
  6. broker configs changed live survive a restart: this broker's ("0") and the cluster
     default's ("") changes, described with their synonyms (kafka-python, confluent-kafka) in
     Kafka's order before and after, a flag given to kairo serve as STATIC_BROKER_CONFIG.
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import check, check_eq, step, wait_until  # noqa: E402

import confluent_kafka as ck  # noqa: E402
import confluent_kafka.admin as cka  # noqa: E402

BASE = {"broker.address.family": "v4"}
DELETE_RECORDS = 21
DESCRIBE_CONFIGS = 32
INCREMENTAL_ALTER_CONFIGS = 44
TOPIC, BROKER = 2, 4  # config resource types
SET, DELETE = 0, 1    # IncrementalAlterConfigs operations
ERR_OFFSET_OUT_OF_RANGE, ERR_UNKNOWN_TOPIC, ERR_INVALID_CONFIG = 1, 3, 40


def admin(boot):
    return cka.AdminClient(dict(BASE, **{"bootstrap.servers": boot}))


def describe_topic(a, topic):
    res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, topic)
    return a.describe_configs([res])[res].result(timeout=15)


def produce(boot, topic, count, size, partition=None):
    p = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "linger.ms": 5, "acks": "all"}))
    errors = []
    for i in range(count):
        kw_ = {"partition": partition} if partition is not None else {}
        p.produce(topic, value=b"v" * size, key=str(i).encode(), on_delivery=lambda e, m: e and errors.append(e),
                  **kw_)
        if i % 500 == 0:
            p.poll(0)
    check_eq(p.flush(30), 0, "messages left unflushed")
    check(not errors, f"delivery errors: {errors[:3]}")


def watermarks(boot, topic, partition):
    c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "wm"}))
    try:
        return c.get_watermark_offsets(ck.TopicPartition(topic, partition), timeout=10)
    finally:
        c.close()


class Wire:
    """One raw connection for the requests the clients here cannot send."""

    def __init__(self, port):
        self.conn = kw.Conn(port)
        self.corr = 0

    def call(self, api_key, version, body):
        self.corr += 1
        self.conn.send(kw.frame(kw.request_header(api_key, version, self.corr) + body))
        resp = kw.Reader(self.conn.recv_frame())
        check_eq(resp.i32(), self.corr, "correlation id")
        return resp

    def describe_configs(self, rtype, name):
        """DescribeConfigs v1 with synonyms of one resource (confluent-kafka and kafka-python cannot
        name the cluster default ""): name -> (value, source, [(name, value, source)])."""
        body = kw.i32(1) + kw.i8(rtype) + kw.string(name) + kw.i32(-1) + kw.i8(1)
        r = self.call(DESCRIBE_CONFIGS, 1, body)
        r.i32()  # throttle
        check_eq(r.i32(), 1, "DescribeConfigs results")
        err, msg = r.i16(), r.string()
        check_eq((err, msg), (0, None), f"DescribeConfigs of {rtype}/{name!r}")
        check_eq((r.i8(), r.string()), (rtype, name), "resource echoed")
        out = {}
        for _ in range(r.i32()):
            key, value, _read_only, source, _sensitive = r.string(), r.string(), r.i8(), r.i8(), r.i8()
            out[key] = (value, source, [(r.string(), r.string(), r.i8()) for _ in range(r.i32())])
        check_eq(r.remaining(), 0, "DescribeConfigs v1 trailing bytes")
        return out

    def delete_records(self, topic, offsets):
        body = kw.i32(1) + kw.string(topic) + kw.i32(len(offsets))
        for p, off in offsets.items():
            body += kw.i32(p) + kw.i64(off)
        body += kw.i32(10000)
        r = self.call(DELETE_RECORDS, 0, body)
        r.i32()  # throttle
        out = {}
        for _ in range(r.i32()):
            name = r.string()
            for _ in range(r.i32()):
                p, low, err = r.i32(), r.i64(), r.i16()
                out[(name, p)] = (low, err)
        check_eq(r.remaining(), 0, "DeleteRecords v0 trailing bytes")
        return out

    def incremental_alter(self, rtype, name, ops, validate_only=False):
        body = kw.i32(1) + kw.i8(rtype) + kw.string(name) + kw.i32(len(ops))
        for key, op, value in ops:
            body += kw.string(key) + kw.i8(op) + kw.nullable_string(value)
        body += kw.i8(1 if validate_only else 0)
        r = self.call(INCREMENTAL_ALTER_CONFIGS, 0, body)
        r.i32()  # throttle
        check_eq(r.i32(), 1, "IncrementalAlterConfigs responses")
        err = r.i16()
        n = r.i16()
        msg = None if n < 0 else r.take(n).decode()
        check_eq(r.i8(), rtype, "resource type echoed")
        check_eq(r.string(), name, "resource name echoed")
        check_eq(r.remaining(), 0, "IncrementalAlterConfigs v0 trailing bytes")
        return err, msg


def wal_bytes(server):
    d = os.path.join(server.data_dir, "wal")
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def wal_files(server):
    return sorted(f for f in os.listdir(os.path.join(server.data_dir, "wal")) if f.endswith(".wal"))


def confluent_admin(server):
    boot = server.bootstrap
    a = admin(boot)
    with step("confluent-kafka: AlterConfigs of a topic, and DescribeConfigs with Kafka's sources"):
        harness.ck_admin_create(boot, "cfg", 2)
        entries = describe_topic(a, "cfg")
        check_eq(entries["retention.ms"].source, cka.ConfigSource.DEFAULT_CONFIG.value,
                 "retention.ms source before any override (--log-retention-ms not given: kairo's default)")
        check_eq(entries["retention.ms"].value, "604800000", "retention.ms before any override")
        res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, "cfg",
                                 set_config={"retention.ms": "3600000", "retention.bytes": "1048576"})
        a.alter_configs([res])[res].result(timeout=15)
        entries = describe_topic(a, "cfg")
        check_eq(entries["retention.ms"].value, "3600000", "retention.ms after AlterConfigs")
        check_eq(entries["retention.ms"].source, cka.ConfigSource.DYNAMIC_TOPIC_CONFIG.value, "retention.ms source")
        check_eq(entries["retention.bytes"].value, "1048576", "retention.bytes after AlterConfigs")
        check(entries["cleanup.policy"].source != cka.ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
              "cleanup.policy was never set on the topic")
        # AlterConfigs replaces the whole set: what is not named goes back to its default.
        res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, "cfg", set_config={"retention.ms": "7200000"})
        a.alter_configs([res])[res].result(timeout=15)
        entries = describe_topic(a, "cfg")
        check_eq(entries["retention.ms"].value, "7200000", "retention.ms after the second AlterConfigs")
        check(entries["retention.bytes"].source != cka.ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
              "AlterConfigs replaced the set: retention.bytes is no longer an override")
        for bad in ({"retention.ms": "soon"}, {"retention.bytes": "-5"}, {"cleanup.policy": "compact"},
                    {"no.such.config": "1"}):
            res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, "cfg", set_config=bad)
            try:
                a.alter_configs([res])[res].result(timeout=15)
                raise harness.TestFailure(f"AlterConfigs {bad} was accepted")
            except ck.KafkaException as e:
                check_eq(e.args[0].code(), ck.KafkaError.INVALID_CONFIG, f"AlterConfigs {bad}")
                print(f"   {bad} refused: {e.args[0].str()}")
        res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, "cfg", set_config={"retention.ms": "1"})
        a.alter_configs([res], validate_only=True)[res].result(timeout=15)
        check_eq(describe_topic(a, "cfg")["retention.ms"].value, "7200000", "validate_only changed nothing")
        res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, "no-such-topic", set_config={"retention.ms": "1"})
        try:
            a.alter_configs([res])[res].result(timeout=15)
            raise harness.TestFailure("AlterConfigs of an unknown topic was accepted")
        except ck.KafkaException as e:
            check_eq(e.args[0].code(), ck.KafkaError.UNKNOWN_TOPIC_OR_PART, "AlterConfigs of an unknown topic")

    with step("confluent-kafka: CreatePartitions grows a topic and refuses to shrink it"):
        f = a.create_partitions([cka.NewPartitions("cfg", 4)], validate_only=True)
        f["cfg"].result(timeout=15)
        check_eq(len(a.list_topics("cfg", timeout=10).topics["cfg"].partitions), 2, "validate_only grew nothing")
        a.create_partitions([cka.NewPartitions("cfg", 5)])["cfg"].result(timeout=15)
        wait_until(lambda: len(a.list_topics("cfg", timeout=10).topics["cfg"].partitions) == 5, 15,
                   what="metadata with 5 partitions")
        produce(boot, "cfg", 10, 100, partition=4)
        check_eq(watermarks(boot, "cfg", 4), (0, 10), "the new partition's watermarks")
        for count in (5, 3):
            try:
                a.create_partitions([cka.NewPartitions("cfg", count)])["cfg"].result(timeout=15)
                raise harness.TestFailure(f"CreatePartitions to {count} was accepted")
            except ck.KafkaException as e:
                check_eq(e.args[0].code(), ck.KafkaError.INVALID_PARTITIONS, f"CreatePartitions to {count}")


def kafka_python_admin(server):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions
    from kafka.errors import InvalidPartitionsError

    with step("kafka-python: AlterConfigs, DescribeConfigs, CreatePartitions"):
        a = KafkaAdminClient(bootstrap_servers=server.bootstrap, request_timeout_ms=15000)
        harness.ck_admin_create(server.bootstrap, "kp", 1)
        r = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp", configs={"max.message.bytes": "4096"})])
        check_eq([res[0] for res in r.resources], [0], "AlterConfigs error codes")
        r = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp", configs={"retention.ms": "-7"})])
        check_eq([res[0] for res in r.resources], [ERR_INVALID_CONFIG], "AlterConfigs of a bad value")
        desc = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp")], include_synonyms=False)
        entries = {e[0]: e for e in desc[0].resources[0][4]}
        check_eq(entries["max.message.bytes"][1], "4096", "max.message.bytes as kafka-python reads it")
        # The override holds: a batch above it is refused, one below is not.
        p = ck.Producer(dict(BASE, **{"bootstrap.servers": server.bootstrap, "linger.ms": 0,
                                      "message.max.bytes": 100000, "retries": 0}))
        outcome = []
        p.produce("kp", value=b"x" * 8000, on_delivery=lambda e, m: outcome.append(e))
        p.flush(15)  # alone in its batch: the refusal is the whole batch's
        p.produce("kp", value=b"x" * 100, on_delivery=lambda e, m: outcome.append(e))
        p.flush(15)
        check_eq(len(outcome), 2, "delivery reports")
        check(outcome[0] is not None and outcome[0].code() == ck.KafkaError.MSG_SIZE_TOO_LARGE,
              f"an 8000-byte batch to a 4096-byte topic: {outcome[0]}")
        check(outcome[1] is None, f"a small batch: {outcome[1]}")

        a.create_partitions({"kp": NewPartitions(3)})
        wait_until(lambda: len(admin(server.bootstrap).list_topics("kp", timeout=10).topics["kp"].partitions) == 3,
                   15, what="kp with 3 partitions")
        try:
            a.create_partitions({"kp": NewPartitions(2)})
            raise harness.TestFailure("kafka-python shrank a topic")
        except InvalidPartitionsError as e:
            print(f"   shrink refused: {e}")
        a.close()


def delete_records(server):
    boot = server.bootstrap
    wire = Wire(server.port)
    with step("DeleteRecords v0: the low watermark moves; below it is out of range; a group resets to it"):
        harness.ck_admin_create(boot, "dr", 2)
        produce(boot, "dr", 200, 50, partition=0)
        produce(boot, "dr", 50, 50, partition=1)
        # A group that read and committed the first 20.
        c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "dr-group",
                                      "enable.auto.commit": False, "auto.offset.reset": "earliest"}))
        c.assign([ck.TopicPartition("dr", 0, 0)])
        got = []
        while len(got) < 20:
            m = c.poll(5)
            check(m is not None and m.error() is None, f"poll: {m and m.error()}")
            got.append(m.offset())
        c.commit(offsets=[ck.TopicPartition("dr", 0, 20)], asynchronous=False)
        c.close()

        res = wire.delete_records("dr", {0: 120, 1: -1})
        check_eq(res[("dr", 0)], (120, 0), "DeleteRecords to 120")
        check_eq(res[("dr", 1)], (50, 0), "DeleteRecords to the high watermark")
        check_eq(watermarks(boot, "dr", 0), (120, 200), "partition 0 watermarks")
        check_eq(watermarks(boot, "dr", 1), (50, 50), "partition 1 watermarks")
        res = wire.delete_records("dr", {0: 300})
        check_eq(res[("dr", 0)][1], ERR_OFFSET_OUT_OF_RANGE, "DeleteRecords above the high watermark")
        res = wire.delete_records("dr", {0: 10})
        check_eq(res[("dr", 0)], (120, 0), "DeleteRecords below the low watermark moves nothing")
        res = wire.delete_records("nope", {0: 1})
        check_eq(res[("nope", 0)][1], ERR_UNKNOWN_TOPIC, "DeleteRecords of an unknown topic")

        # A consumer asked for an offset below the log start: out of range, reset to earliest.
        c = ck.Consumer(dict(BASE, **{"bootstrap.servers": boot, "group.id": "dr-group",
                                      "enable.auto.commit": False, "auto.offset.reset": "earliest"}))
        c.subscribe(["dr"])
        offsets = []
        deadline = time.monotonic() + 30
        while len(offsets) < 80 and time.monotonic() < deadline:
            m = c.poll(1)
            if m is None:
                continue
            check(m.error() is None, f"consumer error {m.error()}")
            if m.partition() == 0:
                offsets.append(m.offset())
        c.close()
        check_eq(offsets, list(range(120, 200)), "the group's records after the reset")

        # IncrementalAlterConfigs: SET one config, DELETE it again.
        err, msg = wire.incremental_alter(TOPIC, "dr", [("retention.bytes", SET, "5000000")])
        check_eq((err, msg), (0, None), "IncrementalAlterConfigs SET")
        check_eq(describe_topic(admin(boot), "dr")["retention.bytes"].value, "5000000", "after SET")
        err, _ = wire.incremental_alter(TOPIC, "dr", [("retention.ms", SET, "60000")])
        check_eq(err, 0, "a second SET")
        entries = describe_topic(admin(boot), "dr")
        check_eq((entries["retention.bytes"].value, entries["retention.ms"].value), ("5000000", "60000"),
                 "SET adds to the overrides, unlike AlterConfigs")
        err, _ = wire.incremental_alter(TOPIC, "dr", [("retention.bytes", DELETE, None)])
        check_eq(err, 0, "IncrementalAlterConfigs DELETE")
        entries = describe_topic(admin(boot), "dr")
        check(entries["retention.bytes"].source != cka.ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
              "DELETE removed the override")
        check_eq(entries["retention.ms"].value, "60000", "the other override stays")
        err, msg = wire.incremental_alter(TOPIC, "dr", [("retention.ms", SET, "forever")])
        check_eq(err, ERR_INVALID_CONFIG, "a bad SET")
        check(msg and "retention.ms" in msg, f"the refusal says which config: {msg!r}")
        err, msg = wire.incremental_alter(BROKER, "0", [("num.io.threads", SET, "8")])
        check_eq(err, ERR_INVALID_CONFIG, "a broker config that cannot change live")
        print(f"   num.io.threads refused: {msg}")
    return wire


def size_retention(server):
    boot = server.bootstrap
    a = admin(boot)
    with step("size retention: 40 MiB into a topic with retention.bytes 2 MiB; the WAL stays bounded"):
        harness.ck_admin_create(boot, "bounded", 1)
        res = cka.ConfigResource(cka.ConfigResource.Type.TOPIC, "bounded",
                                 set_config={"retention.bytes": str(2 << 20)})
        a.alter_configs([res])[res].result(timeout=15)
        peak = 0
        p = ck.Producer(dict(BASE, **{"bootstrap.servers": boot, "linger.ms": 5, "acks": "all"}))
        sent = 0
        # Paced at ~1 MiB per half check interval: the bound (docs/wal-format.md) counts what
        # arrives between two passes, which a real interval (5 min) makes small next to retention.
        while sent < 40 << 20:
            for _ in range(256):
                p.produce("bounded", value=b"r" * 4096)
                sent += 4096
            p.flush(30)
            peak = max(peak, wal_bytes(server))
            time.sleep(0.15)
        check_eq(p.flush(30), 0, "unflushed")
        # One more check interval after the last write, then the log is within its bound.
        def settled():
            lo, hi = watermarks(boot, "bounded", 0)
            return wal_bytes(server) < 8 << 20 and (hi - lo) * 4096 <= 3 << 20
        wait_until(settled, 20, what="the WAL below 8 MiB and the partition within its retention")
        low, high = watermarks(boot, "bounded", 0)
        print(f"   sent {sent >> 20} MiB; WAL peak {peak / 1048576:.1f} MiB, now {wal_bytes(server) / 1048576:.1f} MiB "
              f"in {len(wal_files(server))} segment(s); watermarks {low}..{high}")
        check(peak < 16 << 20, f"the WAL peaked at {peak / 1048576:.1f} MiB while retention keeps 2 MiB")
        check_eq(high, sent // 4096, "high watermark")
        check(low > 0 and (high - low) * 4096 <= 3 << 20, f"retention kept {high - low} records")
        c = harness.ck_consumer(boot)
        c.assign([ck.TopicPartition("bounded", 0, ck.OFFSET_BEGINNING)])
        m = c.poll(10)
        check(m is not None and m.error() is None, f"first record: {m and m.error()}")
        check(m.offset() >= low, f"the first record a consumer gets ({m.offset()}) is at or past {low}")
        c.close()

    with step("kill -9 and restart: the low watermark, the data above it and the offsets hold"):
        low, high = watermarks(boot, "bounded", 0)
        server.restart(hard=True)
        check_eq(watermarks(boot, "bounded", 0), (low, high), "watermarks after the restart")
        c = harness.ck_consumer(boot)
        c.assign([ck.TopicPartition("bounded", 0, low)])
        got = 0
        nxt = low
        deadline = time.monotonic() + 30
        while nxt < high and time.monotonic() < deadline:
            for m in c.consume(num_messages=10000, timeout=1):
                check(m.error() is None, f"consumer error {m.error()}")
                check_eq(m.offset(), nxt, "contiguous offsets after the restart")
                nxt += 1
                got += 1
        c.close()
        check_eq(nxt, high, "read up to the high watermark")
        produce(boot, "bounded", 1, 10)
        check_eq(watermarks(boot, "bounded", 0)[1], high + 1, "the next offset after the restart")


def time_retention(server, wire):
    boot = server.bootstrap
    with step("time retention set live: the broker's log.retention.ms empties an idle topic"):
        harness.ck_admin_create(boot, "aging", 1)
        produce(boot, "aging", 100, 100)
        check_eq(watermarks(boot, "aging", 0), (0, 100), "before")
        err, msg = wire.incremental_alter(BROKER, "0", [("log.retention.ms", SET, "1000")])
        check_eq((err, msg), (0, None), "log.retention.ms set live")
        res = cka.ConfigResource(cka.ConfigResource.Type.BROKER, "0")
        a = admin(boot)
        entries = a.describe_configs([res])[res].result(timeout=15)
        check_eq(entries["log.retention.ms"].value, "1000", "the broker's log.retention.ms")
        check_eq(entries["log.retention.ms"].source, cka.ConfigSource.DYNAMIC_BROKER_CONFIG.value,
                 "its source")
        wait_until(lambda: watermarks(boot, "aging", 0) == (100, 100), 20, what="the aged records to go")
        # The topic with its own retention.ms (60 s, set above) keeps its records.
        check_eq(watermarks(boot, "dr", 0), (120, 200), "a topic with its own retention.ms")
        err, _ = wire.incremental_alter(BROKER, "0", [("log.retention.ms", DELETE, None)])
        check_eq(err, 0, "back to the static default")
        produce(boot, "aging", 1, 10)
        check_eq(watermarks(boot, "aging", 0), (100, 101), "offsets carry on")


DYNAMIC_TOPIC, DYNAMIC_BROKER, DYNAMIC_DEFAULT, STATIC, DEFAULT = 1, 2, 3, 4, 5  # ConfigSource ids


def broker_synonyms(server, name):
    """kafka-python DescribeConfigs of broker "0" with synonyms: name -> (value, source, [(name, value, source)])."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
    a = KafkaAdminClient(bootstrap_servers=server.bootstrap, request_timeout_ms=15000)
    try:
        desc = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, "0")], include_synonyms=True)
        entries = desc[0].resources[0][4]
        return {e[0]: (e[1], e[3], [tuple(s) for s in e[5]]) for e in entries}
    finally:
        a.close()


def live_broker_configs_survive_restart(server, wire):
    boot = server.bootstrap
    with step("broker configs changed live survive a restart, reported with their synonyms"):
        err, _ = wire.incremental_alter(BROKER, "", [("log.retention.bytes", SET, "900000000")])
        check_eq(err, 0, "cluster default log.retention.bytes")
        err, _ = wire.incremental_alter(BROKER, "", [("log.retention.ms", SET, "172800000")])
        check_eq(err, 0, "cluster default log.retention.ms")
        err, _ = wire.incremental_alter(BROKER, "0", [("log.retention.ms", SET, "86400000")])
        check_eq(err, 0, "this broker's log.retention.ms")

        def expect(when):
            syn = broker_synonyms(server, "0")
            check_eq(syn["log.retention.ms"], ("86400000", DYNAMIC_BROKER, [
                ("log.retention.ms", "86400000", DYNAMIC_BROKER),
                ("log.retention.ms", "172800000", DYNAMIC_DEFAULT),
                ("log.retention.ms", "604800000", DEFAULT)]), f"{when}: log.retention.ms and its synonyms")
            check_eq(syn["log.retention.bytes"], ("900000000", DYNAMIC_DEFAULT, [
                ("log.retention.bytes", "900000000", DYNAMIC_DEFAULT),
                ("log.retention.bytes", "-1", DEFAULT)]), f"{when}: log.retention.bytes and its synonyms")
            check_eq(syn["log.retention.check.interval.ms"], ("300", STATIC, [
                ("log.retention.check.interval.ms", "300", STATIC),
                ("log.retention.check.interval.ms", "300000", DEFAULT)]),
                f"{when}: a flag given to kairo serve")
            check_eq(syn["num.partitions"][1], DEFAULT, f"{when}: a flag left at its default")
            # The cluster default's resource lists only what was changed for it (as Kafka).
            cluster = Wire(server.port).describe_configs(BROKER, "")
            check_eq(cluster, {
                "log.retention.bytes": ("900000000", DYNAMIC_DEFAULT,
                                        [("log.retention.bytes", "900000000", DYNAMIC_DEFAULT)]),
                "log.retention.ms": ("172800000", DYNAMIC_DEFAULT, [("log.retention.ms", "172800000", DYNAMIC_DEFAULT)])},
                f"{when}: the cluster default \"\"")
            # A topic without its own value: the broker's layers are its synonyms.
            if when == "before":
                harness.ck_admin_create(boot, "inherits", 1)
            t = describe_topic(admin(boot), "inherits")["retention.ms"]
            check_eq((t.value, t.source), ("86400000", DYNAMIC_BROKER), f"{when}: a topic's inherited retention.ms")
            # (confluent-kafka keys synonyms by name, so it keeps one of the three.)
            check_eq(Wire(server.port).describe_configs(TOPIC, "inherits")["retention.ms"][2], [
                ("log.retention.ms", "86400000", DYNAMIC_BROKER),
                ("log.retention.ms", "172800000", DYNAMIC_DEFAULT),
                ("log.retention.ms", "604800000", DEFAULT)], f"{when}: the topic's retention.ms synonyms")

        expect("before")
        server.restart()
        expect("after a restart")
        wire = Wire(server.port)
        server.restart(hard=True)
        expect("after a kill -9")
        wire = Wire(server.port)
        # AlterConfigs (not incremental) on the cluster default replaces its whole set.
        from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
        kp = KafkaAdminClient(bootstrap_servers=boot, request_timeout_ms=15000)
        r = kp.alter_configs([ConfigResource(ConfigResourceType.BROKER, "", configs={"log.retention.ms": "172800000"})])
        kp.close()
        check_eq([res[0] for res in r.resources], [0], "kafka-python AlterConfigs of the cluster default")
        check_eq(sorted(wire.describe_configs(BROKER, "")), ["log.retention.ms"], "AlterConfigs replaced the set")
        for name in ("", "0"):
            err, _ = wire.incremental_alter(BROKER, name, [("log.retention.ms", DELETE, None)])
            check_eq(err, 0, f"DELETE on {name!r}")
        check_eq(broker_synonyms(server, "0")["log.retention.ms"][1], DEFAULT, "back to kairo's default")


def test(server):
    confluent_admin(server)
    kafka_python_admin(server)
    wire = delete_records(server)
    size_retention(server)
    wire = Wire(server.port)  # the restart closed the old connection
    time_retention(server, wire)
    live_broker_configs_survive_restart(server, wire)


if __name__ == "__main__":
    harness.run(test, budget_s=200, name="admin-retention",
                extra_args=["--wal-segment-bytes", str(2 << 20), "--log-retention-check-interval-ms", "300"],
                description="topic admin and retention with confluent-kafka, kafka-python and raw requests")
