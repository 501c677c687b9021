"""Asserts that a MAML-RL policy learned to adapt: on the same evaluation
tasks (same seed), the trained policy's return after one adaptation step
beats the untrained one's by at least MARGIN, and adapting improves it.

usage: check_returns.py UNTRAINED.csv TRAINED.csv MARGIN

The files are evaluation logs (--log X.csv): rows shots,steps,mean,ci95 where
mean is the mean episode return."""
import csv
import sys


def returns(path):
    rows = [r for r in csv.reader(open(path)) if len(r) == 4 and r[0] != "shots"]
    return {int(r[1]): float(r[2]) for r in rows}


before, after = returns(sys.argv[1]), returns(sys.argv[2])
margin = float(sys.argv[3])
assert after[1] > before[1] + margin, f"after 1 step: {after[1]} vs untrained {before[1]}"
assert after[1] > after[0], f"trained: adapting does not help ({after[0]} -> {after[1]})"
print(f"untrained {before[0]:.2f} -> {before[1]:.2f}, "
      f"trained {after[0]:.2f} -> {after[1]:.2f}: ok")
