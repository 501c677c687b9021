"""Asserts that a few-shot classifier learned: in the evaluation log, the
`accuracy` metric before adaptation is near chance (1/way: the head has not
seen the episode's labels) and after the last evaluated step above a floor.

usage: check_accuracy.py LOG.jsonl WAY FLOOR"""
import json
import sys

log = [json.loads(line) for line in open(sys.argv[1])]
way, floor = int(sys.argv[2]), float(sys.argv[3])
evals = [r["eval"] for r in log if "eval" in r]
assert evals, "no evaluation rows"
by_shots = {}
for e in evals:
    by_shots.setdefault(e["shots"], {})[e["steps"]] = e["accuracy"]["mean"]
for shots, acc in sorted(by_shots.items()):
    before, after = acc[0], acc[max(acc)]
    assert abs(before - 1 / way) < 0.1, f"{shots}-shot: {before} before adapting"
    assert after > floor, f"{shots}-shot: accuracy {after} <= {floor}"
    print(f"{shots}-shot: accuracy before {before:.3f}, after {after:.3f}")
print("accuracy: ok")
