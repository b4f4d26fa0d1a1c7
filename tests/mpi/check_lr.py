#!/usr/bin/env python3
"""check_lr.py CSV LR: the lr column of a decaying schedule's metrics starts
near LR, never rises, has more than 20 rows and ends at exactly 0."""
import csv
import sys

path, lr0 = sys.argv[1], float(sys.argv[2])
lr = [float(r["lr"]) for r in csv.DictReader(open(path))]
print(f"{path}: {len(lr)} rows, lr {lr[0] if lr else None} -> {lr[-1] if lr else None}")
assert len(lr) > 20, f"FAIL: only {len(lr)} rows"
assert all(b <= a for a, b in zip(lr, lr[1:])), "FAIL: the lr rose"
assert lr[0] > 0.99 * lr0, f"FAIL: first lr {lr[0]}, want ~{lr0}"
assert lr[-1] == 0.0, f"FAIL: last lr {lr[-1]}, want 0"
print("PASS")
