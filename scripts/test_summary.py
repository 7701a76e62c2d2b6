#!/usr/bin/env python3
"""Counts the individual test cases (Criterion TAP lines, pytest's closing
line) of meson test runs and prints one closing line: 'tests: N passed, N failed'
(and ', N skipped' when whole test programs were skipped)."""
import json
import re
import sys

# pytest -q's last line, e.g. "2 failed, 158 passed, 1 skipped in 60.01s"
PYTEST_END = re.compile(r"^=*\s*((?:\d+ [a-z]+(?:, )?)+) in [\d.]+s")


def pytest_counts(stdout):
    """(passed, failed) from pytest's closing line, or None."""
    for line in reversed(stdout.splitlines()):
        m = PYTEST_END.match(line)
        if m:
            counts = dict((w, int(n)) for n, w in re.findall(r"(\d+) ([a-z]+)", m.group(1)))
            return counts.get("passed", 0), sum(counts.get(k, 0) for k in ("failed", "error", "errors"))
    return None


passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        lines = open(f"{build}/meson-logs/testlog.json").read().splitlines()
    except OSError:
        print(f"summary: no test log in {build}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        entry = json.loads(line)
        if entry.get("result") == "SKIP":
            skipped += 1
            continue
        tap = [l for l in entry.get("stdout", "").splitlines()
               if l.startswith("ok ") or l.startswith("not ok ")]
        ok = entry.get("result") == "OK"
        counts = None if tap else pytest_counts(entry.get("stdout", ""))
        if counts:
            passed += counts[0]
            failed += counts[1] + (not ok and not counts[1])  # crashed after its line
            continue
        if not tap:  # any other non-TAP test counts as one case
            passed += ok
            failed += not ok
            continue
        passed += sum(l.startswith("ok ") for l in tap)
        failed += sum(l.startswith("not ok ") for l in tap)
        if not ok and not any(l.startswith("not ok ") for l in tap):
            failed += 1  # crashed or timed out after its last TAP line
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed or not passed else 0)
