"""Asserts that a metac run learned: the logged meta-training loss went down,
and in the evaluation, adaptation lowered the loss for every shot count."""
import json
import sys

log = [json.loads(line) for line in open(sys.argv[1])]
train = [r["loss"] for r in log if "loss" in r and "iter" in r]
evals = [r["eval"] for r in log if "eval" in r]
assert len(train) >= 2, "no training rows"
assert train[-1] < 0.8 * train[0], f"training loss did not fall: {train[0]} -> {train[-1]}"
by_shots = {}
for e in evals:
    by_shots.setdefault(e["shots"], {})[e["steps"]] = e["mean"]
assert by_shots, "no evaluation rows"
for shots, losses in by_shots.items():
    assert losses[1] < losses[0], f"{shots}-shot: one step did not help: {losses}"
    print(f"{shots}-shot: before {losses[0]:.3f}, after 1 step {losses[1]:.3f}")
print("learning: ok")
