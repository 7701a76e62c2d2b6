"""scripts/test_summary.py counts each pytest case (from pytest's closing
line), each Criterion TAP line, and any other test as one case."""

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "test_summary.py")


def summary(tmp_path, entries):
    logs = tmp_path / "b" / "meson-logs"
    logs.mkdir(parents=True)
    (logs / "testlog.json").write_text("".join(json.dumps(e) + "\n" for e in entries))
    out = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "b")], capture_output=True,
                         text=True)
    return out.stdout.strip(), out.returncode


def test_pytest_cases_reach_the_summary(tmp_path):
    assert summary(tmp_path, [
        {"result": "OK", "stdout": "....\n161 passed in 58.41s\n"},
        {"result": "OK", "stdout": "ok 1 - a\nok 2 - b\n"},
        {"result": "OK", "stdout": "plain\n"},
    ]) == ("tests: 164 passed, 0 failed", 0)


def test_pytest_failures_errors_and_crashes_count(tmp_path):
    assert summary(tmp_path, [
        {"result": "FAIL", "stdout": "F.E\n1 failed, 158 passed, 2 skipped, 1 error in 60.01s\n"},
        {"result": "FAIL", "stdout": "3 passed in 1.00s\n"},  # crashed at exit
    ]) == ("tests: 161 passed, 3 failed", 1)


def test_skipped_programs_are_counted_apart_not_as_failures(tmp_path):
    assert summary(tmp_path, [
        {"result": "OK", "stdout": "ok 1 - a\n"},
        {"result": "SKIP", "stdout": "1..0 # SKIP s3rver is not installed\n"},
    ]) == ("tests: 1 passed, 0 failed, 1 skipped", 0)
