#!/usr/bin/python3
"""kairo as a service: the install target, the systemd unit, the config file, readiness and drain.

- deploy/kairo.conf is exactly `kairo serve --print-config` (every setting, documented, with its
  default), and kairo starts from it;
- `cmake --install` (into a DESTDIR) puts the binary, the unit and the config file in place, and
  the unit's ExecStart names the installed binary and config; `systemd-analyze verify` accepts it;
- run as the unit runs it (--log-format journal, NOTIFY_SOCKET set): READY=1 arrives once
  /readyz answers 200, every log line carries a syslog priority and its module, a message
  produced before SIGTERM is acknowledged, SIGTERM sends STOPPING=1 and exits 0.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, step  # noqa: E402

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def readyz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kairo", required=True)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kairo-service-")
    proc = None
    try:
        with step("deploy/kairo.conf is `kairo serve --print-config`: every setting, documented"):
            out = subprocess.run([args.kairo, "serve", "--print-config"], check=True, capture_output=True,
                                 text=True).stdout
            with open(os.path.join(SRC, "deploy", "kairo.conf")) as f:
                check(f.read() == out, "deploy/kairo.conf is out of date: regenerate it with "
                                       "`kairo serve --print-config > deploy/kairo.conf`")
            help_text = subprocess.run([args.kairo, "serve", "--help"], check=True, capture_output=True,
                                       text=True).stdout
            options = set(re.findall(r"^\s+(?:-\w \[ )?--([a-z0-9-]+)", help_text, re.M)) - {"help", "print-config",
                                                                                         "config"}
            listed = set(re.findall(r"^# ([a-z0-9-]+) =", out, re.M))
            check_eq(listed, options, "settings in the config file against the options of `kairo serve --help`")

        with step("cmake --install into a DESTDIR: binary, unit and config in place"):
            dest = os.path.join(tmp, "root")
            subprocess.run(["cmake", "--install", args.build_dir], check=True, capture_output=True,
                           env=dict(os.environ, DESTDIR=dest))
            files = {os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs}
            unit = next((f for f in files if f.endswith("lib/systemd/system/kairo.service")), None)
            binary = next((f for f in files if f.endswith("bin/kairo")), None)
            conf = next((f for f in files if f.endswith("kairo/kairo.conf")), None)
            check(unit and binary and conf, f"installed files: {sorted(files)}")
            with open(os.path.join(dest, unit)) as f:
                unit_text = f.read()
            exec_start = re.search(r"^ExecStart=(.*)$", unit_text, re.M).group(1).split()
            check_eq(exec_start[0], "/" + binary, "the unit runs the installed binary")
            check_eq(exec_start[exec_start.index("--config") + 1], "/" + conf, "with the installed config")
            check("Type=notify" in unit_text, "the unit waits for READY=1")

        with step("systemd-analyze verify accepts the unit"):
            if shutil.which("systemd-analyze") is None:
                print("   (systemd-analyze not installed: skipped)")
            else:
                # The unit names its binary by the install path; verify a copy that names this build's.
                verify = os.path.join(tmp, "kairo.service")
                with open(verify, "w") as f:
                    f.write(unit_text.replace("/" + binary, os.path.abspath(args.kairo))
                            .replace("/" + conf, os.path.join(SRC, "deploy", "kairo.conf")))
                r = subprocess.run(["systemd-analyze", "verify", verify], capture_output=True, text=True)
                check_eq(r.returncode, 0, f"systemd-analyze verify: {r.stdout}{r.stderr}")

        with step("run as the unit does: READY=1 with /readyz, journal log lines, a produced message acked"):
            notify_path = os.path.join(tmp, "notify.sock")
            notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify.bind(notify_path)
            notify.settimeout(30)
            state = os.path.join(tmp, "state")
            os.makedirs(state)
            port, admin = harness.free_ports(2)
            log_path = os.path.join(tmp, "kairo.log")
            log = open(log_path, "w")
            proc = subprocess.Popen(
                [os.path.abspath(args.kairo), "serve", "--config", os.path.join(SRC, "deploy", "kairo.conf"),
                 "--log-format", "journal",
                 "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}"],
                cwd=state, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, NOTIFY_SOCKET=notify_path))
            msg = notify.recv(4096).decode()
            check(msg.startswith("READY=1"), f"first notification is READY=1: {msg!r}")
            check_eq(readyz(admin), 200, "/readyz when READY=1 arrived")
            check(os.path.isdir(os.path.join(state, "data")), "data-dir ./data is under the working directory")

            import confluent_kafka as ck
            p = ck.Producer({"bootstrap.servers": f"127.0.0.1:{port}", "broker.address.family": "v4", "acks": "all"})
            errs = []
            p.produce("svc", b"hello", on_delivery=lambda e, m: errs.append(e))
            check_eq(p.flush(30), 0, "message answered")
            check_eq(errs, [None], "message acknowledged")

        with step("SIGTERM: STOPPING=1, clean exit 0"):
            proc.send_signal(signal.SIGTERM)
            msg = notify.recv(4096).decode()
            check_eq(msg, "STOPPING=1", "notification on SIGTERM")
            check_eq(proc.wait(30), 0, "exit code")
            proc = None
            log.close()
            with open(log_path) as f:
                lines = [l for l in f.read().splitlines() if l and not l.startswith("%")]
            bad = [l for l in lines if not re.match(r"^<[0-7]>[a-z]+: ", l)]
            check(not bad, f"every log line is '<priority>module: message': {bad[:3]}")
            modules = {re.match(r"^<[0-7]>([a-z]+): ", l).group(1) for l in lines}
            check({"kairo", "engine"} <= modules, f"lines name their module: {sorted(modules)}")
            check(any(l.startswith("<6>kairo: kairo ready") for l in lines), "info lines are priority 6")
    except BaseException as e:  # noqa: BLE001
        print(f"\nFAIL: {type(e).__name__}: {e}", flush=True)
        if proc is not None:
            proc.kill()
        print(f"kept {tmp}", flush=True)
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
