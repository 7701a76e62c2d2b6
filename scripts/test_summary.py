#!/usr/bin/env python3
"""Counts the individual test cases (Criterion TAP lines) of meson test runs
and prints one closing line: 'tests: N passed, N failed'."""
import json
import sys

passed = failed = 0
for build in sys.argv[1:]:
    try:
        lines = open(f"{build}/meson-logs/testlog.json").read().splitlines()
    except OSError:
        print(f"summary: no test log in {build}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        entry = json.loads(line)
        tap = [l for l in entry.get("stdout", "").splitlines()
               if l.startswith("ok ") or l.startswith("not ok ")]
        ok = entry.get("result") == "OK"
        if not tap:  # a non-TAP test counts as one case
            passed += ok
            failed += not ok
            continue
        passed += sum(l.startswith("ok ") for l in tap)
        failed += sum(l.startswith("not ok ") for l in tap)
        if not ok and not any(l.startswith("not ok ") for l in tap):
            failed += 1  # crashed or timed out after its last TAP line
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
