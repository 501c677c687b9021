"""Asserts that two metac runs' JSON logs hold the same evaluation: the same
(shots, steps) rows with means equal to a relative 1e-5 (the two programs
compute the same adaptation in different kernels, so only the order of f32
operations may differ)."""
import json
import sys


def evaluation(path):
    rows = {}
    for line in open(path):
        record = json.loads(line)
        if "eval" in record:
            e = record["eval"]
            rows[(e["shots"], e["steps"])] = e["mean"]
    return rows


a, b = evaluation(sys.argv[1]), evaluation(sys.argv[2])
assert a, "no evaluation rows"
assert a.keys() == b.keys(), f"different rows: {sorted(a)} vs {sorted(b)}"
for key in sorted(a):
    x, y = a[key], b[key]
    assert abs(x - y) <= 1e-5 * max(abs(x), abs(y)), f"{key}: {x} vs {y}"
print(f"same evaluation: {len(a)} rows")
