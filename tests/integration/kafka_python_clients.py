#!/usr/bin/python3
"""kafka-python (2.0.2) producer, consumer and admin client against kairo.

kafka-python negotiates versions itself (it infers a broker version from ApiVersions
and then uses Produce v7, Fetch v4, ListOffsets v1, Metadata v5, CreateTopics/DeleteTopics
up to v3), so this exercises a second, independent protocol implementation.
"""

import logging
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step, wait_until  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.errors import TopicAlreadyExistsError  # noqa: E402

SEED = 424242
N = 2_000
DATA_TOPIC = "kp-data"          # auto-created on first produce (3 partitions by default)
ADMIN_TOPIC = "kp-admin-five"


def make_messages(rng):
    msgs = []
    for i in range(N):
        key = f"kp-{i:05d}".encode()
        value = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))  # binary, may be empty
        headers = [("idx", str(i).encode()), ("bin", bytes([i % 256, 0, 255]))] if i % 3 else []
        msgs.append((key, value, headers))
    return msgs


def test(server):
    logging.basicConfig(level=logging.ERROR)
    rng = random.Random(SEED)
    msgs = make_messages(rng)
    boot = [server.bootstrap]

    produced = {}  # (partition, offset) -> index
    with step(f"KafkaProducer(acks='all'): {N} keyed messages (binary values, some headers) "
              f"to auto-created {DATA_TOPIC}"):
        prod = KafkaProducer(bootstrap_servers=boot, acks="all", linger_ms=5, retries=0,
                             request_timeout_ms=15000, max_block_ms=20000)
        print(f"   kafka-python chose api_version {prod.config['api_version']}")
        futs = [prod.send(DATA_TOPIC, key=k, value=v, headers=h) for k, v, h in msgs]
        prod.flush(timeout=30)
        for i, f in enumerate(futs):
            check(f.is_done, f"message {i}: future not done after flush")
            check(f.succeeded(), f"message {i}: send failed: {f.exception!r}")
            md = f.value
            check((md.partition, md.offset) not in produced,
                  f"message {i}: offset {md.partition}/{md.offset} acknowledged twice")
            produced[(md.partition, md.offset)] = i
        prod.close(timeout=10)
        counts = harness.contiguous_offsets(produced.keys(), "producer acknowledgements")
        print(f"   acknowledged per partition: {dict(sorted(counts.items()))}")

    with step("KafkaConsumer: assign() all partitions, seek_to_beginning, no group; "
              "read everything back identical"):
        cons = KafkaConsumer(bootstrap_servers=boot, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", request_timeout_ms=15000,
                             api_version_auto_timeout_ms=10000)
        parts = None
        deadline = time.monotonic() + 15
        while not parts and time.monotonic() < deadline:
            parts = cons.partitions_for_topic(DATA_TOPIC)
            if not parts:
                time.sleep(0.2)
        check_eq(sorted(parts or []), [0, 1, 2], f"partitions of {DATA_TOPIC} seen by KafkaConsumer")
        tps = [TopicPartition(DATA_TOPIC, p) for p in sorted(parts)]
        cons.assign(tps)
        cons.seek_to_beginning()
        got = {}
        deadline = time.monotonic() + 45
        while len(got) < N:
            check(time.monotonic() < deadline, f"consumed only {len(got)} of {N} in 45 s")
            for tp, recs in cons.poll(timeout_ms=500, max_records=1000).items():
                for r in recs:
                    check((r.partition, r.offset) not in got,
                          f"record {r.partition}/{r.offset} delivered twice")
                    got[(r.partition, r.offset)] = r
        extra = cons.poll(timeout_ms=500)
        check(not any(extra.values()), f"unexpected extra records: {extra}")
        check_eq(set(got), set(produced), "(partition, offset) pairs consumed vs acknowledged")
        for po, r in got.items():
            k, v, h = msgs[produced[po]]
            check(r.key == k, f"{po}: key {r.key!r} != {k!r}")
            check(r.value == v, f"{po}: value differs (len {len(r.value or b'')} vs {len(v)})")
            check(list(r.headers) == h, f"{po}: headers {r.headers!r} != {h!r}")
        end = cons.end_offsets(tps)
        for tp in tps:
            check_eq(end[tp], counts.get(tp.partition, 0), f"end offset of {tp}")
        cons.close()

    with step(f"KafkaAdminClient: create {ADMIN_TOPIC} with 5 partitions, duplicate create "
              "fails, delete removes it"):
        admin = KafkaAdminClient(bootstrap_servers=boot, request_timeout_ms=15000)
        admin.create_topics([NewTopic(ADMIN_TOPIC, num_partitions=5, replication_factor=1)],
                            timeout_ms=10000)

        def five():
            ts = admin.describe_topics([ADMIN_TOPIC])
            return (len(ts) == 1 and ts[0]["error_code"] == 0
                    and len(ts[0]["partitions"]) == 5)
        wait_until(five, 15, 0.2, f"metadata showing {ADMIN_TOPIC} with 5 partitions")
        parts = sorted(p["partition"] for p in admin.describe_topics([ADMIN_TOPIC])[0]["partitions"])
        check_eq(parts, [0, 1, 2, 3, 4], f"partition ids of {ADMIN_TOPIC}")
        check(ADMIN_TOPIC in admin.list_topics(), f"{ADMIN_TOPIC} missing from list_topics()")

        try:
            admin.create_topics([NewTopic(ADMIN_TOPIC, num_partitions=5, replication_factor=1)],
                                timeout_ms=10000)
        except TopicAlreadyExistsError as e:
            print(f"   duplicate create -> {type(e).__name__} (expected)")
        else:
            raise harness.TestFailure("creating an existing topic did not fail with "
                                      "TopicAlreadyExistsError (error code 36)")

        admin.delete_topics([ADMIN_TOPIC], timeout_ms=10000)
        wait_until(lambda: ADMIN_TOPIC not in admin.list_topics(), 15, 0.2,
                   f"{ADMIN_TOPIC} to disappear from list_topics()")
        topics = admin.list_topics()
        check(DATA_TOPIC in topics, f"{DATA_TOPIC} vanished after deleting {ADMIN_TOPIC}: {topics}")
        print(f"   list_topics() after delete: {sorted(topics)}")
        admin.close()


if __name__ == "__main__":
    harness.run(test, extra_args=["--auto-create-topics", "true"], budget_s=100,
                name="kafkapy", description=__doc__)
