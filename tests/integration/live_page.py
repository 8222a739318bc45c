#!/usr/bin/python3
"""The live page of the admin port (GET /, issue 14) in a real headless Chromium against a loaded kairo.

A confluent-kafka producer (acks=all, 3 partitions) and a throttled consumer group that commits keep
kairo busy while Chromium shows http://127.0.0.1:<admin>/. Chromium is driven through its DevTools
protocol over --remote-debugging-pipe (standard library only). Checked:

- GET / answers text/html, byte for byte server/admin/live_page.html, self-contained (no external script, style, image or link), under 40 KB;
- the charts have drawn points: throughput, ack latency, fdatasync, per-group sizes, policy;
- the topics table lists every partition of the topic, one with a high watermark > 0; the groups
  table lists the group with its lag; the tuner's decisions table has rows;
- one failing source marks only its own panel unavailable: /v1/groups made to fail (network error)
  and /v1/tuner made to answer 500 turn those panels "unavailable" while the charts keep drawing, and
  they come back once the sources answer again;
- no uncaught JavaScript exception and no console error in the page.

A screenshot (1400x1800) goes into the test's temp dir; --screenshot-to PATH copies it there
(that is how docs/img/live-page.png is made).
"""

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

import confluent_kafka as ck  # noqa: E402

TOPIC = "live"
GROUP = "live-group"
PARTITIONS = 3
WIDTH, HEIGHT = 1400, 1800
PAGE_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "server", "admin", "live_page.html")
CHARTS = ("throughput", "ack_latency", "fsync", "batches_per_group", "policy")

# Our own option; harness.run parses the rest (--kairo, --keep).
SCREENSHOT_TO = None
if "--screenshot-to" in sys.argv:
    i = sys.argv.index("--screenshot-to")
    check(i + 1 < len(sys.argv), "--screenshot-to needs a path")
    SCREENSHOT_TO = os.path.abspath(sys.argv[i + 1])
    del sys.argv[i:i + 2]


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise harness.TestFailure("chromium is not installed: run the setup script (bash scripts/setup.sh), "
                              "which installs the Debian package chromium")


class Browser:
    """Headless Chromium with the DevTools protocol on a pipe: JSON messages ending in NUL, fd 3 in, fd 4 out."""

    def __init__(self, binary, url, tmp):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # Out of the way of 3 and 4, so that the redirections below cannot clobber them
        # (bash, not sh: dash takes no fd numbers above 9).
        a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        self.log_path = os.path.join(tmp, "chromium.log")
        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                "--hide-scrollbars", f"--window-size={WIDTH},{HEIGHT}", f"--user-data-dir={tmp}/chromium-profile",
                "--remote-debugging-pipe", url]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["/bin/bash", "-c", f'exec "$0" "$@" 3<&{a} 4>&{b} {a}<&- {b}>&-'] + args,
                                     pass_fds=(a, b), stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        os.close(a)
        os.close(b)
        self.next_id = 0
        self.send_lock = threading.Lock()
        self.replies = {}
        self.reply_cv = threading.Condition()
        self.events = queue.Queue()
        self.handlers = {}  # event method -> fn(params), run on the reader thread
        self.exceptions = []
        self.console_errors = []
        self.session = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.from_child, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.reply_cv:
                    self.replies["eof"] = True
                    self.reply_cv.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self.reply_cv:
                        self.replies[msg["id"]] = msg
                        self.reply_cv.notify_all()
                    continue
                method = msg.get("method")
                params = msg.get("params", {})
                if method == "Runtime.exceptionThrown":
                    d = params.get("exceptionDetails", {})
                    self.exceptions.append(d.get("exception", {}).get("description") or d.get("text"))
                elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                    self.console_errors.append(" ".join(str(a.get("value", a.get("description")))
                                                        for a in params.get("args", [])))
                fn = self.handlers.get(method)
                if fn:
                    try:
                        fn(params)
                    except Exception as e:  # noqa: BLE001 - reported by the test's checks
                        self.exceptions.append(f"test handler for {method}: {e}")

    def send(self, method, params=None, session=True, wait=True, timeout=20):
        with self.send_lock:
            self.next_id += 1
            mid = self.next_id
            msg = {"id": mid, "method": method, "params": params or {}}
            if session and self.session:
                msg["sessionId"] = self.session
            os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        if not wait:
            return None
        deadline = time.monotonic() + timeout
        with self.reply_cv:
            while mid not in self.replies:
                if self.replies.get("eof"):
                    raise harness.TestFailure(f"chromium closed its DevTools pipe (exit code {self.proc.poll()}); "
                                              f"its log:\n{self.log_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise harness.TestFailure(f"chromium did not answer {method} within {timeout} s")
                self.reply_cv.wait(left)
            reply = self.replies.pop(mid)
        if "error" in reply:
            raise harness.TestFailure(f"chromium refused {method}: {reply['error']}")
        return reply.get("result", {})

    def attach(self, url):
        def page():
            for t in self.send("Target.getTargets", session=False)["targetInfos"]:
                if t["type"] == "page":
                    return t
            return None
        harness.wait_until(lambda: page() is not None, 20, interval=0.2, what="chromium's page target")
        target = page()
        self.session = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.send("Runtime.enable")
        self.send("Page.enable")
        # The viewport itself WIDTHxHEIGHT (--window-size counts the window, not what the page gets).
        self.send("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1,
                                                         "mobile": False})
        # The page may have loaded before Runtime.enable: load it again so no exception goes unseen.
        self.send("Page.navigate", {"url": url})
        harness.wait_until(lambda: self.evaluate("document.readyState === 'complete' && !!document.querySelector('#status')"),
                           20, interval=0.2, what="the page to load in chromium")

    def evaluate(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise harness.TestFailure(f"evaluating in the page failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"}, timeout=30)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def log_tail(self, n=20):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError as e:
            return f"(no chromium log: {e})"

    def close(self):
        try:
            self.send("Browser.close", session=False, wait=False)
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()


# What the page shows, read from the DOM: chart points, table rows with their keys and raw numbers,
# panel states.
STATE_JS = """(() => {
  if (!document.querySelector('#status')) return null;
  const o = {charts: {}, tables: {}, panels: {}, status: document.querySelector('#status').innerText,
             statusState: document.querySelector('#status').dataset.state};
  document.querySelectorAll('canvas[data-series]').forEach(c => o.charts[c.dataset.series] = +c.dataset.points);
  document.querySelectorAll('table[data-rows]').forEach(t => o.tables[t.id] = {
    rows: +t.dataset.rows,
    keyed: [...t.querySelectorAll('tr[data-key]')].map(r => Object.assign({}, r.dataset)),
    text: t.innerText});
  document.querySelectorAll('.panel').forEach(p => o.panels[p.id] = {
    state: p.dataset.state, badge: (p.querySelector('.state') || {}).textContent || ''});
  return o;
})()"""


class Load:
    """acks=all producer to all partitions, paced to RATE records/s, until stopped."""

    RATE = 20000

    def __init__(self, server):
        self.p = ck.Producer({"bootstrap.servers": server.bootstrap, "broker.address.family": "v4",
                              "acks": "all", "linger.ms": 2})
        self.stop = threading.Event()
        self.errors = []
        self.sent = 0
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        t0 = time.monotonic()
        while not self.stop.is_set():
            if i % 500 == 0:
                ahead = i / self.RATE - (time.monotonic() - t0)
                if ahead > 0:
                    self.p.poll(ahead)
            try:
                self.p.produce(TOPIC, key=str(i).encode(), value=b"v" * 300, partition=i % PARTITIONS,
                               on_delivery=lambda err, _m: err and self.errors.append(err))
                i += 1
                self.sent = i
            except BufferError:
                self.p.poll(0.01)
            self.p.poll(0.001 if i % 200 == 0 else 0)
        self.p.flush(30)


class Group:
    """A consumer group member that reads slowly and commits, so that the group has lag."""

    def __init__(self, server):
        self.c = ck.Consumer({"bootstrap.servers": server.bootstrap, "broker.address.family": "v4",
                              "group.id": GROUP, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                              "session.timeout.ms": 10000})
        self.stop = threading.Event()
        self.errors = []
        self.read = 0
        self.commits = 0
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        self.c.subscribe([TOPIC])
        last_commit = time.monotonic()
        while not self.stop.is_set():
            for m in self.c.consume(num_messages=50, timeout=0.2):
                if m.error() is None:
                    self.read += 1
            if self.read and time.monotonic() - last_commit > 0.5:
                try:
                    self.c.commit(asynchronous=False)
                    self.commits += 1
                except ck.KafkaException as e:
                    if e.args[0].code() != ck.KafkaError._NO_OFFSET:
                        self.errors.append(str(e))
                last_commit = time.monotonic()
            time.sleep(0.1)  # slower than the producer: lag grows
        self.c.close()


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def test(server):
    chromium = chromium_binary()
    base = f"http://127.0.0.1:{server.admin_port}"

    with step("GET / is the live page: text/html, self-contained, small"):
        status, ctype, body = get(base + "/")
        check_eq(status, 200, "GET / status")
        check(ctype.startswith("text/html"), f"GET / is text/html (got {ctype!r})")
        html = body.decode()
        with open(PAGE_SOURCE, "rb") as f:
            check(body == f.read(), f"GET / serves {os.path.normpath(PAGE_SOURCE)} byte for byte (embedded by the build)")
        check(len(body) < 40 * 1024, f"the page is under 40 KB (it is {len(body)} bytes)")
        check("<canvas" in html and "data-series" in html, "the page has its charts")
        lower = html.lower()
        for bad in ("<script src", "<link", "<img", "@import", "url(http", "src=\"http", "href=\"http",
                    "src='http", "href='http"):
            check(bad not in lower, f"the page loads nothing from elsewhere (found {bad!r})")

    harness.ck_admin_create(server.bootstrap, TOPIC, PARTITIONS)
    load = Load(server)
    group = Group(server)
    browser = None
    load.t.start()
    group.t.start()
    t_load = time.monotonic()
    try:
        with step("kairo under load: the group has committed and has lag"):
            harness.wait_until(lambda: group.commits >= 2, 30, interval=0.2, what="the group's first commits")

        browser = Browser(chromium, base + "/", server.tmp)
        with step("headless Chromium shows the page; every chart draws, every table fills"):
            browser.attach(base + "/")
            seen = {}

            def ready():
                st = browser.evaluate(STATE_JS)
                seen["last"] = st
                if st is None:
                    return False
                charts_ok = all(st["charts"].get(c, 0) >= 3 for c in CHARTS)
                topics_ok = any(r.get("key", "").startswith(TOPIC + "/") and float(r.get("hw", 0)) > 0
                                for r in st["tables"].get("topics", {}).get("keyed", []))
                # The group's row, and at least one partition it committed (commits come as it reads).
                groups_ok = (any(r.get("key") == GROUP for r in st["tables"].get("groups", {}).get("keyed", []))
                             and f"{TOPIC}/" in st["tables"].get("groups", {}).get("text", ""))
                tuner_ok = st["tables"].get("tuner-decisions", {}).get("rows", 0) > 0
                return charts_ok and topics_ok and groups_ok and tuner_ok
            try:
                harness.wait_until(ready, 40, interval=0.5, what="the page's charts and tables to fill")
            except harness.TestFailure as e:
                raise harness.TestFailure(f"{e}; the page shows: {json.dumps(seen.get('last'), indent=1)}") from None
            st = seen["last"]
            print(f"   charts (points drawn): {st['charts']}")
            print(f"   tables (rows): { {k: v['rows'] for k, v in st['tables'].items()} }")
            print(f"   status: {st['status']}")
            for pid, p in st["panels"].items():
                check_eq(p["state"], "ok", f"state of panel {pid}")
            check_eq(st["statusState"], "ok", "state of the status strip")
            check("ready" in st["status"], f"the status strip says ready: {st['status']!r}")
            topic_rows = [r for r in st["tables"]["topics"]["keyed"] if r["key"].startswith(TOPIC + "/")]
            check_eq(sorted(r["key"] for r in topic_rows), [f"{TOPIC}/{p}" for p in range(PARTITIONS)],
                     "the topics table lists every partition of the topic")
            check(all(float(r["hw"]) > 0 for r in topic_rows), f"every partition has records: {topic_rows}")
            check(all(float(r["bytes"]) > 0 for r in topic_rows), f"every partition has bytes: {topic_rows}")
            g = next(r for r in st["tables"]["groups"]["keyed"] if r["key"] == GROUP)
            check(float(g["lag"]) > 0, f"the group, slower than the producer, shows lag: {g}")
            check(float(g["members"]) >= 1, f"the group shows its member: {g}")
            check(f"{TOPIC}/" in st["tables"]["groups"]["text"], "the group's partitions are listed")

        with step("the page keeps drawing for the rest of the ~10 s of load"):
            before = browser.evaluate(STATE_JS)["charts"]["throughput"]
            time.sleep(max(2.5, 10 - (time.monotonic() - t_load)))
            after = browser.evaluate(STATE_JS)["charts"]["throughput"]
            check(after > before, f"the throughput chart gains points ({before} -> {after})")

        with step("a failing source marks only its own panel unavailable, and it recovers"):
            def paused(params):
                url = params["request"]["url"]
                if "/v1/groups" in url:
                    browser.send("Fetch.failRequest", {"requestId": params["requestId"], "errorReason": "Failed"},
                                 wait=False)
                else:
                    browser.send("Fetch.fulfillRequest", {"requestId": params["requestId"], "responseCode": 500,
                                                          "body": base64.b64encode(b"injected").decode()},
                                 wait=False)
            browser.handlers["Fetch.requestPaused"] = paused
            browser.send("Fetch.enable", {"patterns": [{"urlPattern": "*/v1/groups*"},
                                                       {"urlPattern": "*/v1/tuner*"}]})
            before = browser.evaluate(STATE_JS)["charts"]["throughput"]
            seen = {}

            def broken():
                st = browser.evaluate(STATE_JS)
                seen["last"] = st
                return (st["panels"]["p-groups"]["state"] == "unavailable"
                        and st["panels"]["p-tuner"]["state"] == "unavailable")
            try:
                harness.wait_until(broken, 10, interval=0.3, what="the groups and tuner panels to say unavailable")
            except harness.TestFailure as e:
                raise harness.TestFailure(f"{e}; panels: {seen.get('last', {}).get('panels')}") from None
            time.sleep(2.2)
            st = browser.evaluate(STATE_JS)
            print(f"   while failing: groups {st['panels']['p-groups']['badge']!r}, "
                  f"tuner {st['panels']['p-tuner']['badge']!r}")
            check("unavailable" in st["panels"]["p-groups"]["badge"], "the groups panel says unavailable")
            check("unavailable" in st["panels"]["p-tuner"]["badge"], "the tuner panel says unavailable")
            for pid in ("p-throughput", "p-latency", "p-fsync", "p-group", "p-policy", "p-topics"):
                check_eq(st["panels"][pid]["state"], "ok", f"panel {pid} while another source fails")
            check(st["charts"]["throughput"] > before,
                  f"the charts go on drawing ({before} -> {st['charts']['throughput']} points)")
            browser.send("Fetch.disable")
            del browser.handlers["Fetch.requestPaused"]

            def recovered():
                st = browser.evaluate(STATE_JS)
                return all(p["state"] == "ok" for p in st["panels"].values())
            harness.wait_until(recovered, 10, interval=0.3, what="every panel ok again")

        with step("screenshot"):
            time.sleep(1.5)
            shot = os.path.join(server.tmp, "live-page.png")
            browser.screenshot(shot)
            size = os.path.getsize(shot)
            check(size > 20_000, f"the screenshot has content ({size} bytes)")
            print(f"   {shot} ({size} bytes)")
            if SCREENSHOT_TO:
                os.makedirs(os.path.dirname(SCREENSHOT_TO) or ".", exist_ok=True)
                shutil.copyfile(shot, SCREENSHOT_TO)
                print(f"   copied to {SCREENSHOT_TO}")

        with step("no JavaScript exception and no console error in the page"):
            check(not browser.exceptions, f"uncaught exceptions in the page: {browser.exceptions[:3]}")
            check(not browser.console_errors, f"console errors in the page: {browser.console_errors[:3]}")
    finally:
        if browser is not None:
            browser.close()
        load.stop.set()
        group.stop.set()
        load.t.join(60)
        group.t.join(30)
    check(not load.errors, f"produce errors under the load: {load.errors[:3]}")
    check(not group.errors, f"commit errors: {group.errors[:3]}")
    print(f"   produced {load.sent}, the group read {group.read} with {group.commits} commits")


if __name__ == "__main__":
    harness.run(test, budget_s=130, name="live-page", description=__doc__)
