#!/usr/bin/env python3
"""check_metrics.py CSV below|above VALUE: checks the last row's objective."""
import csv
import sys

path, how, value = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = list(csv.DictReader(open(path)))
if not rows:
    sys.exit(f"FAIL: {path} has no rows")
first, last = float(rows[0]["objective"]), float(rows[-1]["objective"])
print(f"{path}: first logged objective {first:.6g}, final {last:.6g} (step {rows[-1]['step']}), want {how} {value:g}")
ok = last < value if how == "below" else last > value
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
