#!/usr/bin/python3
"""kafkajs 2.2.4 idempotent and transactional producers against kairo.

Each step runs tests/integration/node/kafkajs_txn.js in a fresh Node process (clients installed
by scripts/setup-node.sh) and checks the `@@RESULT {json}` it prints; librdkafka
(confluent-kafka) cross-checks what kafkajs read. The Kafka API versions kafkajs sent are taken
from kairo's /metrics (kairo_kafka_requests_total{api,version}) and printed per step.

 1. idempotent producer (`idempotent: true`, five sends in flight): N messages all acked,
    read back exactly once with offsets 0..n-1 on every partition (kafkajs and librdkafka);
 1b. the same while kairo is SIGKILLed and restarted, then SIGTERMed and restarted, under it:
    every message acked once, nothing lost, nothing twice;
 1c. through a proxy that swallows the answers to some Produce requests (and cuts the
    connection): kafkajs sends those batches again with the same sequence numbers, and kairo
    answers them with the original base offsets instead of appending them again. One send at a
    time here: kafkajs 2.2.4 rolls the sequence numbers of a failed request back at once, so a
    concurrent send to the same broker reuses them for other records; Kafka (and kairo) then
    answer OUT_OF_ORDER_SEQUENCE_NUMBER, or take the other batch for a duplicate when the record
    counts happen to match (a kafkajs bug, not a broker one);
 2. transactions: a committed transaction is seen once by a read_committed consumer, an aborted
    one never (but by a read_uncommitted one), and every marker takes exactly one offset; an
    open transaction holds read_committed readers and ListOffsets(READ_COMMITTED) at its first
    offset (the last stable offset), also for plain messages behind it, until it commits;
 3. consume-transform-produce: a group reads an input topic, each batch goes to an output topic
    with sendOffsets + commit in one transaction: the group's offsets (kafkajs fetchOffsets,
    librdkafka committed()) are the input end offsets, the output is there exactly once; a
    transaction's offsets are not the group's while it is open, an aborted transaction that
    would rewind the group changes nothing, and a plain member of the group finds nothing left
    to read;
 4. fencing: a second producer with the same transactionalId fences the first, whose produce,
    AddPartitionsToTxn and EndTxn then fail with INVALID_PRODUCER_EPOCH (or PRODUCER_FENCED);
    its open transaction is aborted;
 5. transaction timeout: an open transaction never ended is aborted by the coordinator no
    sooner than its timeout, read_committed readers then move past it, its producer is fenced
    and the transactional id serves a new producer;
 6. a transaction open while kairo is SIGKILLed and restarted: the same producer adds to it and
    commits afterwards, and a read_committed reader sees it once;
 7. after that restart the topics of steps 2-4 read exactly as before at both isolation levels
    (aborted records still hidden), and the group's transactional offsets are kept.
"""

import contextlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, step  # noqa: E402
import groups_node as gn  # noqa: E402  (run_node, check_exactly_once, NODE_DIR)
import kafka_wire as w  # noqa: E402

TXN_JS = os.path.join(gn.NODE_DIR, "kafkajs_txn.js")
N = 5000            # step 1
RETRY_N = 2000      # step 1c
DROP_PRODUCE = (3, 8, 15)  # step 1c: Produce requests whose answers the proxy swallows
STREAM_N = 6000     # step 1b: sent while kairo is SIGKILLed and, later, SIGTERMed and restarted
PARTITIONS = 4      # step 1
TXN_PARTITIONS = 3  # steps 2 and 3
CTP_COUNT = 900     # step 3
TXN_TIMEOUT_MS = 2000   # step 5
CLEANUP_MS = 200        # how often kairo looks for timed-out transactions (step 5)
FENCED = ("INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED")
TXN_APIS = ("InitProducerId", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn",
            "TxnOffsetCommit", "Produce", "Fetch", "ListOffsets", "FindCoordinator",
            "OffsetFetch")

KAIRO_ARGS = ["--group-initial-rebalance-delay-ms", "100",
              "--auto-create-topics", "false",
              "--transaction-abort-timed-out-transaction-cleanup-interval-ms", str(CLEANUP_MS)]


# ---------------------------------------------------------------------------
# /metrics: which API versions a client sent

_REQ_RE = re.compile(r'^kairo_kafka_requests_total\{api="([^"]+)",version="(\d+)"\} ([0-9.e+]+)$')


def metrics_text(server):
    url = f"http://127.0.0.1:{server.admin_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def request_counts(server):
    """{(api, version): count} from kairo_kafka_requests_total."""
    out = {}
    for line in metrics_text(server).splitlines():
        m = _REQ_RE.match(line)
        if m:
            out[(m.group(1), int(m.group(2)))] = float(m.group(3))
    return out


def metric_value(server, name):
    """The value of an unlabelled (or fully labelled, given with its labels) sample."""
    for line in metrics_text(server).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise TestFailure(f"/metrics has no sample {name}")


class Versions:
    """Accumulates, per client, the (api, version) pairs whose counters moved while it ran."""

    def __init__(self, server):
        self.server = server
        self.seen = {}

    def around(self, client, fn):
        before = request_counts(self.server)
        try:
            return fn()
        finally:
            try:
                after = request_counts(self.server)
            except OSError:  # the server died: keep the client's own failure in view
                after = {}
            bucket = self.seen.setdefault(client, {})
            for key, v in after.items():
                d = v - before.get(key, 0)
                if d > 0:
                    bucket[key] = bucket.get(key, 0) + d

    def versions(self, client, api):
        return sorted(v for (a, v) in self.seen.get(client, {}) if a == api)

    def report(self, apis=TXN_APIS):
        for client, bucket in self.seen.items():
            parts = []
            for api in apis:
                vs = self.versions(client, api)
                if vs:
                    parts.append(f"{api} v{'/v'.join(map(str, vs))}")
            print(f"   {client} sent: {', '.join(parts) or '(none of the tracked APIs)'}", flush=True)


# ---------------------------------------------------------------------------
# Lost Produce answers: a proxy that forwards a Produce request, swallows its answer and cuts
# the client's connection, so the client sends the same batch (same sequence numbers) again.

API_PRODUCE = 0


def parse_produce_response(body, version):
    """Produce v3..v8 answer -> [(topic, partition, error_code, base_offset)]."""
    check(3 <= version <= 8, f"the drop proxy parses Produce v3..v8 answers, not v{version}")
    r = w.Reader(body)
    r.i32()  # correlation id
    out = []
    for _ in range(r.i32()):
        t = r.string()
        for _ in range(r.i32()):
            p, err, base = r.i32(), r.i16(), r.i64()
            r.i64()                  # v2+: log_append_time_ms
            if version >= 5:
                r.i64()              # v5+: log_start_offset
            if version >= 8:
                for _ in range(r.i32()):   # v8+: record_errors
                    r.i32()
                    r.string()
                r.string()           # v8+: error_message
            out.append((t, p, err, base))
    return out


class DropProxy:
    """TCP proxy in front of kairo. The answers to the Produce requests whose ordinal (1-based,
    over all connections) is in `drop` are read from kairo, recorded in `dropped`, and never
    delivered: the client's connection is closed instead."""

    def __init__(self, upstream_port, drop):
        self.upstream_port = upstream_port
        self.drop = set(drop)
        self.dropped = []            # {"ordinal", "version", "partitions": [(t, p, err, base)]}
        self.produce_requests = 0
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.socks = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for sk in (client, upstream):
                sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = {"inflight": {}, "client": client, "upstream": upstream}
            with self.lock:
                self.socks += [client, upstream]
            threading.Thread(target=self._c2s, args=(conn,), daemon=True).start()
            threading.Thread(target=self._s2c, args=(conn,), daemon=True).start()

    @staticmethod
    def _frame(sock):
        head = b""
        while len(head) < 4:
            chunk = sock.recv(4 - len(head))
            if not chunk:
                return None
            head += chunk
        n = struct.unpack(">i", head)[0]
        body = bytearray()
        while len(body) < n:
            chunk = sock.recv(min(65536, n - len(body)))
            if not chunk:
                return None
            body += chunk
        return head + bytes(body)

    @staticmethod
    def _close(conn):
        for k in ("client", "upstream"):
            try:
                conn[k].shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                conn[k].close()
            except OSError:
                pass

    def _c2s(self, conn):
        try:
            while True:
                f = self._frame(conn["client"])
                if f is None:
                    break
                key, version, corr = struct.unpack(">hhi", f[4:12])
                drop = False
                if key == API_PRODUCE:
                    with self.lock:
                        self.produce_requests += 1
                        drop = self.produce_requests in self.drop
                        ordinal = self.produce_requests
                    conn["inflight"][corr] = (version, ordinal if drop else None)
                conn["upstream"].sendall(f)
        except OSError:
            pass
        self._close(conn)

    def _s2c(self, conn):
        try:
            while True:
                f = self._frame(conn["upstream"])
                if f is None:
                    break
                corr = struct.unpack(">i", f[4:8])[0]
                version, ordinal = conn["inflight"].pop(corr, (None, None))
                if ordinal is not None:
                    with self.lock:
                        self.dropped.append({"ordinal": ordinal, "version": version,
                                             "partitions": parse_produce_response(f[4:], version)})
                    break
                conn["client"].sendall(f)
        except OSError:
            pass
        self._close(conn)

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            socks = list(self.socks)
        for sk in socks:
            try:
                sk.close()
            except OSError:
                pass


class ProxiedKairo(harness.Kairo):
    """A second kairo whose advertised listener is a DropProxy in front of it."""

    def __init__(self, binary, extra_args, name, drop):
        super().__init__(binary, extra_args, name=name)
        self.proxy = DropProxy(self.port, drop)

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.proxy.port}"

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--advertised-listener") + 1] = self.bootstrap
        return cmd


@contextlib.contextmanager
def proxied_kairo(server, name, drop, extra_args):
    """A ProxiedKairo for one step: stopped with exit code 0 and removed at the end, or on a
    failure killed and kept, its log tail printed."""
    px = ProxiedKairo(server.binary, extra_args, name, drop)
    ok = False
    try:
        px.start()
        yield px
        px.assert_alive()
        px.stop()
        ok = True
    finally:
        px.proxy.close()
        px.force_cleanup()
        if ok:
            shutil.rmtree(px.tmp, ignore_errors=True)
        else:
            print(f"---- last lines of the proxied kairo's log {px.log_path} ----\n"
                  f"{px.log_tail(30)}\n---- kept {px.tmp} ----", flush=True)


def check_retried_acks(proxy, acks, what):
    """Each swallowed answer was successful, and the client's retry of that batch was answered
    with the same base offsets (kairo recognised the duplicate instead of appending again)."""
    check(proxy.dropped, f"{what}: the proxy swallowed no Produce answer "
          f"({proxy.produce_requests} Produce requests passed)")
    final = {(t, p): set() for t, p, _ in acks}
    for t, p, base in acks:
        final[(t, p)].add(base)
    for d in proxy.dropped:
        for t, p, err, base in d["partitions"]:
            check_eq(err, 0, f"{what}: error code in the swallowed answer to Produce #{d['ordinal']} "
                     f"({t}/{p})")
            check(base in final.get((t, p), set()),
                  f"{what}: the swallowed answer to Produce #{d['ordinal']} put {t}/{p} at base offset "
                  f"{base}, but no acknowledgement the client got has that base offset: the retry "
                  "was not recognised as a duplicate")


class NodeProc:
    """A kafkajs_txn.js process whose @@ lines are collected by a thread while it runs."""

    def __init__(self, args, what):
        self.what = what
        self.out, self.err = [], []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([gn.node_bin(), TXN_JS] + args, cwd=gn.NODE_DIR,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.threads = [threading.Thread(target=self._pump, args=(s, into), daemon=True)
                        for s, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self.threads:
            t.start()

    def _pump(self, stream, into):
        for line in stream:
            with self.lock:
                into.append(line.rstrip("\n"))

    def events(self, tag):
        with self.lock:
            lines = list(self.out)
        return [json.loads(ln.split(" ", 1)[1]) for ln in lines if ln.startswith(f"@@{tag} ")]

    def check_running(self):
        with self.lock:
            fails = [ln for ln in self.out if ln.startswith("@@FAIL")]
        if fails or self.proc.poll() is not None:
            self.dump()
            raise TestFailure(f"{self.what}: " + (fails[0] if fails else
                              f"node exited early with code {self.proc.poll()}"))
        return True

    def dump(self):
        with self.lock:
            gn.show_output(self.what, "\n".join(self.out), "\n".join(self.err))

    def result(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.dump()
            raise TestFailure(f"{self.what}: node did not finish within {timeout} s")
        for t in self.threads:
            t.join(timeout=10)
        results = self.events("RESULT")
        fails = [ln for ln in self.out if ln.startswith("@@FAIL")]
        if rc != 0 or fails or len(results) != 1:
            self.dump()
            raise TestFailure(f"{self.what}: " + (fails[0] if fails else
                              f"node exited with code {rc} and {len(results)} RESULT lines"))
        return results[0]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def check_idempotent_readback(r, count, partitions, what):
    """Every send acked without error, each key read once, offsets 0..n-1 per partition."""
    check_eq(sum(s["size"] for s in r["sends"]), count, f"{what}: messages in acknowledged sends")
    acks = [a for s in r["sends"] for a in s["acks"]]
    bad = [a for a in acks if a["errorCode"] != 0]
    check(not bad, f"{what}: acks with errors: {bad[:5]}")
    bases = [(a["partition"], a["baseOffset"]) for a in acks]
    check_eq(len(set(bases)), len(bases), f"{what}: distinct (partition, baseOffset) of the acks")
    recs = [tuple(x) for x in r["records"]]
    gn.check_exactly_once(recs, r["keys"], what)
    counts = harness.contiguous_offsets([(p, o) for p, o, _ in recs], what)
    check_eq(sorted(counts), list(range(partitions)), f"{what}: partitions with messages")
    check_eq(gn.int_keys(r["endOffsets"]), counts, f"{what}: end offsets vs messages per partition")
    # The acked base offset of every (send, partition) is where that send's records start.
    by_po = {(p, o): k for p, o, k in recs}
    key_index = {k: i for i, k in enumerate(r["keys"])}
    for s in r["sends"]:
        for a in s["acks"]:
            k = by_po.get((a["partition"], a["baseOffset"]))
            check(k is not None and s["first"] <= key_index[k] < s["first"] + s["size"],
                  f"{what}: the send of messages {s['first']}..{s['first'] + s['size'] - 1} was "
                  f"acked at partition {a['partition']} offset {a['baseOffset']}, which holds {k}")
    return recs, counts


def records_by_prefix(records, prefix):
    return [r for r in records if r[2].startswith(prefix + "-")]


def per_partition_offsets(records):
    out = {}
    for p, o, *_ in records:
        out.setdefault(p, []).append(o)
    return {p: sorted(v) for p, v in out.items()}


def check_ordered_in_partition(records, what):
    """Within each partition a consumer is handed offsets in increasing order."""
    last = {}
    for p, o, *_ in records:
        check(o > last.get(p, -1), f"{what}: partition {p} offset {o} after {last.get(p)}")
        last[p] = o


def error_type(e):
    if e is None:
        return None
    return e.get("type") or error_type(e.get("cause"))


def ck_read(server, topic, partitions, expected, isolation):
    import confluent_kafka as ck
    c = harness.ck_consumer(server.bootstrap, {"isolation.level": isolation})
    try:
        msgs = harness.ck_consume_exact(
            c, [ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(partitions)],
            expected, timeout=20)
    finally:
        c.close()
    return [(m.partition(), m.offset(), m.key().decode()) for m in msgs]


def ck_committed(server, group, topic, partitions):
    import confluent_kafka as ck
    c = harness.ck_consumer(server.bootstrap, {"group.id": group})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    finally:
        c.close()
    return {tp.partition: tp.offset for tp in tps}


def test(server):
    boot = server.bootstrap
    vers = Versions(server)
    saved = {}  # what earlier steps read, to compare with after the restart

    def kafkajs(args, what, timeout=gn.PROC_TIMEOUT_S + 15):
        return vers.around("kafkajs", lambda: gn.run_node(server, [TXN_JS, boot] + args, what,
                                                          timeout=timeout))[0]

    def librdkafka(fn):
        return vers.around("librdkafka (confluent-kafka, cross-check)", fn)

    with step(f"kafkajs idempotent producer: {N} messages to {PARTITIONS} partitions, all acked; "
              "read back exactly once with contiguous offsets (kafkajs and librdkafka)"):
        topic = "kafkajs-idempotent"
        errors_before = metric_value(server, "kairo_kafka_produce_partition_errors_total")
        r = kafkajs(["idempotent", topic, str(PARTITIONS), str(N)], "kafkajs idempotent")
        recs, counts = check_idempotent_readback(r, N, PARTITIONS, "kafkajs read-back")
        ck_recs = librdkafka(lambda: ck_read(server, topic, PARTITIONS, N, "read_committed"))
        check_eq(sorted(ck_recs), sorted(recs), "librdkafka's read-back vs kafkajs's")
        check_eq(metric_value(server, "kairo_kafka_produce_partition_errors_total") - errors_before,
                 0, "produce partition errors (duplicate / out-of-order sequence answers)")
        print(f"   {N} messages produced in {r['produceMs'] / 1000:.2f} s over {len(r['sends'])} "
              f"sends; per-partition counts {counts}")

    with step(f"kafkajs idempotent producer keeps sending {STREAM_N} messages while kairo is "
              "SIGKILLed and restarted, then SIGTERMed and restarted: no loss, no duplicate"):
        topic = "kafkajs-idempotent-restart"
        np = NodeProc([boot, "idempotent-stream", topic, str(PARTITIONS), str(STREAM_N)],
                      "kafkajs idempotent-stream")
        try:
            def acked():
                np.check_running()
                prog = np.events("PROGRESS")
                return prog[-1]["acked"] if prog else 0
            for frac, hard in ((1 / 3, True), (2 / 3, False)):
                harness.wait_until(lambda: acked() >= STREAM_N * frac, 30, 0.01,
                                   f"kafkajs to have {int(STREAM_N * frac)} messages acked")
                at = acked()
                server.restart(hard=hard)
                print(f"   kairo {'SIGKILLed' if hard else 'SIGTERMed'} and restarted after "
                      f"{at} acked messages", flush=True)
            r = np.result(timeout=60)
        finally:
            np.kill()
        recs, counts = check_idempotent_readback(r, STREAM_N, PARTITIONS, "read-back after restarts")
        ck_recs = librdkafka(lambda: ck_read(server, topic, PARTITIONS, STREAM_N, "read_committed"))
        check_eq(sorted(ck_recs), sorted(recs), "librdkafka's read-back vs kafkajs's")
        retried = [ln for ln in np.err if "Failed to send messages" in ln or "retry" in ln.lower()]
        print(f"   {len(r['sends'])} sends, {r['produceRequests']} answered Produce requests, "
              f"{len(retried)} kafkajs retry log lines; per-partition counts {counts}")

    with step(f"kafkajs idempotent producer through a proxy that swallows the answers to Produce "
              f"#{' #'.join(map(str, DROP_PRODUCE))}: the retries are deduplicated"):
        topic = "kafkajs-idempotent-retry"
        with proxied_kairo(server, "txn-node-proxied", DROP_PRODUCE, KAIRO_ARGS) as px:
            r, _ = gn.run_node(px, [TXN_JS, px.bootstrap, "idempotent", topic, str(PARTITIONS),
                                    str(RETRY_N), "1"],
                               "kafkajs idempotent via the drop proxy")
            recs, counts = check_idempotent_readback(r, RETRY_N, PARTITIONS, "read-back after retries")
            acks = [(topic, a["partition"], a["baseOffset"]) for snd in r["sends"] for a in snd["acks"]]
            check_retried_acks(px.proxy, acks, "kafkajs")
            check_eq(len(px.proxy.dropped), len(DROP_PRODUCE), "Produce answers swallowed")
            print(f"   {px.proxy.produce_requests} Produce requests for {len(r['sends'])} sends; "
                  f"swallowed answers: {[(d['ordinal'], d['partitions']) for d in px.proxy.dropped]}")

    with step("kafkajs transactions: committed visible once, aborted never, markers take one "
              "offset; an open transaction holds read_committed readers at the last stable offset"):
        topic = "kafkajs-txn"
        r = kafkajs(["txn", topic, str(TXN_PARTITIONS), "kairo-it-txn"], "kafkajs txn")
        sent = r["sent"]
        rc1 = [tuple(x[:3]) for x in r["rcFirst"]]
        gn.check_exactly_once(rc1, sent["commit1"] + sent["plain1"] + sent["commit2"],
                              "read_committed consumer (commit1, plain1, commit2; abort1 hidden)")
        check_ordered_in_partition(r["rcFirst"], "read_committed consumer")
        ru = [tuple(x[:3]) for x in r["ru"]]
        gn.check_exactly_once(ru, sent["commit1"] + sent["abort1"] + sent["plain1"] + sent["commit2"],
                              "read_uncommitted consumer (everything, aborted included)")
        check_eq(r["rcWhileOpen"], [], "records a read_committed consumer got while a transaction "
                 "was open on every partition (its records and the plain ones behind it)")
        check_eq(gn.int_keys(r["stableWhileOpen"]), gn.int_keys(r["stableBefore"]),
                 "ListOffsets(READ_COMMITTED) while the transaction is open (last stable offset)")
        after = [tuple(x[:3]) for x in r["rcAfter"]]
        gn.check_exactly_once(after, sent["open"] + sent["plain2"],
                              "read_committed consumer after the open transaction committed")
        for p, offs in per_partition_offsets(records_by_prefix(after, "plain2")).items():
            opened = per_partition_offsets(records_by_prefix(after, "open")).get(p, [])
            check(opened and max(opened) < min(offs),
                  f"partition {p}: the plain messages sent behind the open transaction "
                  f"(offsets {offs}) must follow its records (offsets {opened})")
        # Every transaction writes one marker per partition it touched; each takes one offset.
        markers = {p: 0 for p in range(TXN_PARTITIONS)}
        for prefix in ("commit1", "abort1", "commit2", "open"):
            for p in {x[0] for x in ru + after if x[2].startswith(prefix + "-")}:
                markers[p] += 1
        ends = gn.int_keys(r["stableAfter"])
        every = per_partition_offsets(ru + after)
        for p in range(TXN_PARTITIONS):
            check_eq(len(every.get(p, [])) + markers[p], ends[p],
                     f"partition {p}: records + transaction markers vs its end offset")
            check_eq(len(set(every.get(p, []))), len(every.get(p, [])), f"partition {p}: distinct offsets")
        saved["txn"] = (topic, sorted(rc1 + after), sorted(ru + after))
        ck_rc = librdkafka(lambda: ck_read(server, topic, TXN_PARTITIONS, len(rc1) + len(after),
                                           "read_committed"))
        check_eq(sorted(ck_rc), sorted(rc1 + after), "librdkafka read_committed vs kafkajs")
        ck_ru = librdkafka(lambda: ck_read(server, topic, TXN_PARTITIONS, len(ru) + len(after),
                                           "read_uncommitted"))
        check_eq(sorted(ck_ru), sorted(ru + after), "librdkafka read_uncommitted vs kafkajs")
        print(f"   end offsets {ends} (markers {markers}); the committed open transaction reached "
              f"the reader {r['lagMs']} ms after commit()")

    with step(f"kafkajs consume-transform-produce: {CTP_COUNT} records, each batch produced and "
              "its offsets sent (sendOffsets) in one transaction"):
        tin, tout, grp = "kafkajs-ctp-in", "kafkajs-ctp-out", "kafkajs-ctp"
        r = kafkajs(["ctp", tin, tout, str(TXN_PARTITIONS), grp, str(CTP_COUNT), "kairo-it-ctp"],
                    "kafkajs ctp", timeout=75)
        in_ends = gn.int_keys(r["inEnds"])
        check_eq(sum(in_ends.values()), CTP_COUNT, "input end offsets")
        check_eq(r["processed"], CTP_COUNT, "input records processed")
        for p in range(TXN_PARTITIONS):
            spans = sorted((t["first"], t["next"]) for t in r["txns"] if t["partition"] == p)
            pos = 0
            for first, nxt in spans:
                check_eq(first, pos, f"partition {p}: first offset of a transaction's batch")
                pos = nxt
            check_eq(pos, in_ends[p], f"partition {p}: offset after the last transaction")
        check_eq(gn.int_keys(r["committedRunning"]), in_ends,
                 "group offsets (fetchOffsets) while the consumer still runs")
        check_eq(gn.int_keys(r["committedAfter"]), in_ends, "group offsets after the consumer left")
        check_eq(gn.int_keys(r["committedPending"]), in_ends,
                 "group offsets while a transaction that sent offsets 0 is still open")
        check_eq(gn.int_keys(r["committedAfterAbort"]), in_ends,
                 "group offsets after an aborted transaction that sent offsets 0")
        ck_c = librdkafka(lambda: ck_committed(server, grp, tin, TXN_PARTITIONS))
        check_eq(ck_c, in_ends, "group offsets as librdkafka's committed() reads them")
        out = [tuple(x[:3]) for x in r["out"]]
        saved["ctp"] = (tin, tout, grp, in_ends, sorted(out))
        gn.check_exactly_once(out, r["inKeys"], "output topic (read_committed)")
        check_eq(r["resumed"], [], "records a plain member of the group read after the transactions")
        ck_out = librdkafka(lambda: ck_read(server, tout, TXN_PARTITIONS, CTP_COUNT, "read_committed"))
        check_eq(sorted(ck_out), sorted(out), "librdkafka read_committed of the output vs kafkajs")
        ck_all = librdkafka(lambda: ck_read(server, tout, TXN_PARTITIONS, CTP_COUNT + 9,
                                            "read_uncommitted"))
        check_eq(sorted(k for _, _, k in ck_all if k.startswith("ghost-")),
                 [f"ghost-{i:05d}" for i in range(9)], "aborted records (read_uncommitted)")
        print(f"   {len(r['txns'])} transactions; group offsets {in_ends}; output end offsets "
              f"{gn.int_keys(r['outStable'])}")

    with step("kafkajs fencing: a second producer with the same transactionalId fences the first"):
        topic = "kafkajs-fence"
        r = kafkajs(["fence", topic, "kairo-it-fence"], "kafkajs fence")
        for what in ("produceSamePartition", "produceNewPartition", "commit"):
            e = r["errors"][what]
            check(e is not None, f"the fenced producer's {what} succeeded; it must fail")
            check(error_type(e) in FENCED,
                  f"the fenced producer's {what} failed with {e}, expected one of {FENCED}")
            print(f"   fenced {what}: {e['name']} {error_type(e)}")
        rc = sorted(x[2] for x in r["rc"])
        saved["fence"] = (topic, sorted(tuple(x[:3]) for x in r["rc"]))
        check_eq(rc, ["winner-0", "winner-1"], "read_committed: only the new producer's transaction")
        ru = sorted(x[2] for x in r["ru"])
        check_eq(ru, ["fenced-0", "winner-0", "winner-1"],
                 "read_uncommitted: the fenced producer's first record (aborted) and the winner's")
        print(f"   the second producer's InitProducerId took {r['initMs']} ms")

    with step(f"kafkajs transaction timeout ({TXN_TIMEOUT_MS} ms): the coordinator aborts it, "
              "read_committed readers move on, its producer is fenced"):
        topic = "kafkajs-txn-timeout"
        r = kafkajs(["timeout", topic, "kairo-it-timeout", str(TXN_TIMEOUT_MS)], "kafkajs timeout")
        check_eq(sorted(x[2] for x in r["rc"]), [f"behind-{i:05d}" for i in range(5)],
                 "read_committed records behind the timed-out transaction")
        check(r["visibleAfterMs"] >= TXN_TIMEOUT_MS - 100,
              f"the open transaction was aborted {r['visibleAfterMs']} ms after it began, before "
              f"its {TXN_TIMEOUT_MS} ms timeout")
        check(error_type(r["commitError"]) in FENCED,
              f"commit() of the timed-out transaction: {r['commitError']}, expected one of {FENCED}")
        check_eq(sorted(x[2] for x in r["after"]),
                 sorted([f"behind-{i:05d}" for i in range(5)] + [f"again-{i:05d}" for i in range(3)]),
                 "read_committed after a new producer reused the transactional id")
        print(f"   aborted and visible {r['visibleAfterMs']} ms after the transaction began; "
              f"late commit: {error_type(r['commitError'])}")

    with step("kafkajs: a transaction is open when kairo is SIGKILLed; after the restart the same "
              "producer adds to it and commits, and it is visible once"):
        go_file = os.path.join(server.tmp, "kairo-restarted")
        np = NodeProc([boot, "open-across-restart", "kafkajs-txn-restart", "kairo-it-restart",
                       go_file], "kafkajs open-across-restart")
        try:
            harness.wait_until(lambda: np.check_running() and
                               any(e["phase"] == "open" for e in np.events("PHASE")), 30, 0.02,
                               "kafkajs to open its transaction")
            server.restart(hard=True)
            with open(go_file, "w"):
                pass
            r = np.result(timeout=60)
        finally:
            np.kill()
        gn.check_exactly_once([tuple(x[:3]) for x in r["rc"]], r["keys"],
                              "read_committed after the restart and the commit")

    with step("after the SIGKILL and restart: the transactional topics, the group's transactional "
              "offsets and the aborted/fenced records read as before"):
        topic, want_rc, want_ru = saved["txn"]
        for iso, want in (("read_committed", want_rc), ("read_uncommitted", want_ru)):
            r = kafkajs(["read", topic, f"{topic}-{iso}-after-restart", str(len(want)), iso],
                        f"kafkajs read {iso}")
            check_eq(sorted(tuple(x[:3]) for x in r["records"]), want,
                     f"{topic} {iso} after the restart vs before")
        tin, tout, grp, in_ends, out = saved["ctp"]
        r = kafkajs(["committed", grp, tin], "kafkajs committed")
        check_eq(gn.int_keys(r["committed"]), in_ends, f"{grp}'s offsets after the restart")
        r = kafkajs(["read", tout, f"{tout}-after-restart", str(len(out)), "read_committed"],
                    "kafkajs read ctp output")
        check_eq(sorted(tuple(x[:3]) for x in r["records"]), out, f"{tout} after the restart")
        topic, want = saved["fence"]
        r = kafkajs(["read", topic, f"{topic}-after-restart", str(len(want)), "read_committed"],
                    "kafkajs read fence topic")
        check_eq(sorted(tuple(x[:3]) for x in r["records"]), want, f"{topic} after the restart")

    with step("no transaction left open; request versions seen on /metrics"):
        text = metrics_text(server)
        for sample in ('kairo_txn_transactions{state="Ongoing"}',
                       'kairo_txn_transactions{state="PrepareCommit"}',
                       'kairo_txn_transactions{state="PrepareAbort"}',
                       "kairo_txn_open_partition_transactions"):
            line = next((ln for ln in text.splitlines() if ln.startswith(sample + " ")), None)
            check(line is not None, f"/metrics lacks {sample}")
            check_eq(float(line.split()[-1]), 0.0, sample)
        for api in ("InitProducerId", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn",
                    "TxnOffsetCommit", "Produce", "Fetch"):
            check(vers.versions("kafkajs", api), f"kafkajs sent no {api} request (per /metrics)")
        vers.report()


if __name__ == "__main__":
    harness.run(test, extra_args=KAIRO_ARGS, budget_s=120, name="txn-node", description=__doc__)
