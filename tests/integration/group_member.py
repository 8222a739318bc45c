#!/usr/bin/python3
"""One confluent-kafka group member, as its own process, for the group tests.

It subscribes, consumes, commits synchronously after every batch it processed, and reports on
stdout, one JSON object per line:
  {"event": "assignment", "partitions": [0, 3]}   whenever its assignment changes
  {"event": "msg", "p": 3, "o": 17, "key": "k-42"}  for every message
  {"event": "committed"}                            after each synchronous commit
  {"event": "error", "error": "..."}               for a consumer error
  {"event": "closed"}                               after close() (LeaveGroup sent)
Writing "stop" on its stdin makes it close cleanly; SIGKILL is the crash the tests inflict.
"""

import argparse
import json
import sys
import threading

import confluent_kafka as ck


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--session-ms", type=int, default=6000)
    ap.add_argument("--strategy", default="range")
    ap.add_argument("--instance-id", default=None)
    args = ap.parse_args()

    lock = threading.Lock()

    def say(obj):
        with lock:
            sys.stdout.write(json.dumps(obj) + "\n")
            sys.stdout.flush()

    conf = {
        "bootstrap.servers": args.bootstrap,
        "broker.address.family": "v4",
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": args.session_ms,
        "heartbeat.interval.ms": max(100, args.session_ms // 6),
        "partition.assignment.strategy": args.strategy,
        "topic.metadata.refresh.interval.ms": 1000,
    }
    if args.instance_id:
        conf["group.instance.id"] = args.instance_id
    c = ck.Consumer(conf)
    c.subscribe([args.topic])

    stop = threading.Event()

    def watch_stdin():
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    last = None
    while not stop.is_set():
        batch = c.consume(num_messages=500, timeout=0.2)
        got = False
        for m in batch:
            if m.error() is not None:
                say({"event": "error", "error": str(m.error())})
                continue
            say({"event": "msg", "p": m.partition(), "o": m.offset(),
                 "key": m.key().decode() if m.key() else None})
            got = True
        if got:
            try:
                c.commit(asynchronous=False)
                say({"event": "committed"})
            except ck.KafkaException as e:
                # A rebalance between consume and commit: the next owner re-reads from the
                # last committed offset. The tests only stop members at quiet points.
                say({"event": "error", "error": "commit: " + str(e)})
        now = sorted(tp.partition for tp in c.assignment())
        if now != last:
            say({"event": "assignment", "partitions": now})
            last = now
    c.close()
    say({"event": "closed"})


if __name__ == "__main__":
    main()
