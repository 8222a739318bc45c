#!/usr/bin/python3
"""Admin APIs from librdkafka 2.0.2's own C admin API against kairo.

confluent-kafka-python 1.7 (Debian) has no DeleteRecords, so the client is a C++ program on
plain librdkafka, tests/integration/rdkafka_admin.cc (CMake target rdkafka_admin), passed as
--program PATH. It prints one line per check and exits 0 only if all passed; this script starts
kairo (topics are not auto-created: the program's CreateTopics makes its topic), runs it with a
bound, echoes its output and checks its exit code. The Kafka API versions librdkafka sent are
taken from kairo's /metrics, and each admin API must have been sent.

The program checks: CreateTopics (2 partitions); 100 + 40 messages all delivered; DeleteRecords
to offset 30 and to RD_KAFKA_OFFSET_END gives the new low watermarks (30, 40), beyond the high
watermark is OFFSET_OUT_OF_RANGE; rd_kafka_query_watermark_offsets (30, 100) and (40, 40); a
consumer at offset 0 with auto.offset.reset=earliest is refused with OFFSET_OUT_OF_RANGE and
reads exactly 30..99; CreatePartitions to 3, to 2 INVALID_PARTITIONS; AlterConfigs retention.ms,
a bad value INVALID_CONFIG; DescribeConfigs retention.ms from DYNAMIC_TOPIC_CONFIG.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, step  # noqa: E402
import txn_node as tn  # noqa: E402  (Versions: API versions per client from /metrics)

PROGRAM_TIMEOUT_S = 80
CLIENT = "librdkafka 2.0.2"
TOPIC = "rdkafka-admin"
ADMIN_APIS = ("CreateTopics", "DeleteRecords", "CreatePartitions", "AlterConfigs",
              "DescribeConfigs", "Metadata", "ListOffsets", "Fetch", "Produce")
MUST_SEND = ("CreateTopics", "DeleteRecords", "CreatePartitions", "AlterConfigs",
             "DescribeConfigs", "ListOffsets")

KAIRO_ARGS = ["--auto-create-topics", "false"]


def _take_program_arg():
    """--program PATH is ours, not the harness's: take it out of argv before harness.run."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == "--program" and i + 1 < len(argv):
            del sys.argv[i + 1:i + 3]
            return os.path.abspath(argv[i + 1])
        if a.startswith("--program="):
            del sys.argv[i + 1]
            return os.path.abspath(a.split("=", 1)[1])
    return None


PROGRAM = _take_program_arg()


def tail(text, n):
    lines = text.splitlines()
    return "\n".join(lines[-n:]) if lines else "(nothing)"


def test(server):
    check(PROGRAM is not None, "pass --program PATH: the rdkafka_admin binary "
          "(cmake --build BUILD --target rdkafka_admin)")
    check(os.path.isfile(PROGRAM) and os.access(PROGRAM, os.X_OK),
          f"--program {PROGRAM}: not an executable file; build the rdkafka_admin target")
    vers = tn.Versions(server)
    with step(f"{os.path.basename(PROGRAM)} --bootstrap {server.bootstrap}: librdkafka's C admin "
              "API, one line per check"):
        cmd = [PROGRAM, "--bootstrap", server.bootstrap, "--topic", TOPIC]

        def run():
            try:
                return subprocess.run(cmd, capture_output=True, timeout=PROGRAM_TIMEOUT_S,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as e:
                out = (e.stdout or b"").decode("utf-8", "replace")
                raise TestFailure(f"{' '.join(cmd)} did not finish within {PROGRAM_TIMEOUT_S} s; "
                                  f"its output so far:\n{out}")
        r = vers.around(CLIENT, run)
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        for line in out.splitlines():
            print(f"   {line}")
        if err.strip():
            print(f"   ---- librdkafka log (stderr), last lines ----\n{tail(err, 20)}")
        fails = [line for line in out.splitlines() if line.startswith("FAIL")]
        check(r.returncode == 0 and not fails,
              f"rdkafka_admin exited with code {r.returncode}"
              + (f"; {len(fails)} failed: " + "; ".join(fails) if fails else "")
              + (f"; stderr:\n{tail(err, 40)}" if r.returncode != 0 else ""))
        check(out.rstrip().endswith("PASSED: every check passed"),
              "rdkafka_admin did not print its PASSED line (did it run to the end?)")

    with step("the admin APIs really went to kairo (its request counters, by version)"):
        vers.report(ADMIN_APIS)
        for api in MUST_SEND:
            check(vers.versions(CLIENT, api), f"{CLIENT} sent no {api} request to kairo")
        check_eq(server.running(), True, "kairo running after the program")


if __name__ == "__main__":
    harness.run(test, extra_args=KAIRO_ARGS, budget_s=100, name="admin-rdkafka",
                description=__doc__)
