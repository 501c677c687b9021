"""Asserts that two TRPO runs took the same first step: in two JSON-lines
logs (--log X.jsonl --log-every 1) of the same program and seed, the first
iteration (the same rollouts in both) accepted a step in both or in neither,
and the KL divergences of the accepted steps agree to a relative TOLERANCE.
The KL of a step goes with its length squared (TRPO scales the step so that
its quadratic model of the KL is max_kl, then backtracks by fixed ratios), so
a Hessian-vector product off by a factor of 2 changes it by half, and one of
the wrong sign rejects the step. Later iterations roll out different
parameters, so their differences are not the products'.

usage: same_trpo_steps.py A.jsonl B.jsonl TOLERANCE"""
import json
import sys


def steps(path):
    rows = [json.loads(line) for line in open(path)]
    return [(r["step_accepted"], r["kl"]) for r in rows if "iter" in r]


a, b = steps(sys.argv[1]), steps(sys.argv[2])
tolerance = float(sys.argv[3])
assert a and b, "empty log"
(acc_a, kl_a), (acc_b, kl_b) = a[0], b[0]
assert acc_a == acc_b, f"first step accepted: {acc_a} vs {acc_b}"
rel = abs(kl_a - kl_b) / max(abs(kl_a), 1e-12)
assert rel <= tolerance, f"first step's KL: {kl_a} vs {kl_b} ({rel:.2e})"
print(f"first step's KL {kl_a:.6f} vs {kl_b:.6f} ({rel:.1e}): ok")
