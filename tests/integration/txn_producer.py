#!/usr/bin/python3
"""A confluent-kafka transactional producer, as its own process, for txn_confluent.py.

Runs transaction after transaction of --size messages (keys "t<n>-<i>"), committing each, and
prints one JSON line per event: {"committed": n} once commit_transaction returned,
{"aborted": n, "error": ...} after an abortable error, {"fatal": ...} before exiting on a fatal
one. It runs until killed, or until --count transactions were committed.
"""

import argparse
import json
import sys

import confluent_kafka as ck


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--transactional-id", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--size", type=int, default=10)
    ap.add_argument("--count", type=int, default=0)
    args = ap.parse_args()
    p = ck.Producer({"bootstrap.servers": args.bootstrap, "broker.address.family": "v4",
                     "transactional.id": args.transactional_id, "linger.ms": 2,
                     "transaction.timeout.ms": 20000, "message.timeout.ms": 20000})
    p.init_transactions(30)
    say({"ready": True})
    n = 0
    while args.count == 0 or n < args.count:
        try:
            p.begin_transaction()
            for i in range(args.size):
                p.produce(args.topic, key=f"t{n}-{i}".encode(), value=b"v" * 16)
            p.commit_transaction(30)
            say({"committed": n})
        except ck.KafkaException as e:
            err = e.args[0]
            if err.fatal():
                say({"fatal": str(err)})
                return
            say({"aborted": n, "error": str(err)})
            try:
                p.abort_transaction(30)
            except ck.KafkaException as e2:
                if e2.args[0].fatal():
                    say({"fatal": str(e2.args[0])})
                    return
        n += 1


if __name__ == "__main__":
    main()
