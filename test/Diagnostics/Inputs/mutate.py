"""Robustness: compiles many mutants of the examples (tokens deleted,
duplicated, swapped or replaced) and requires every run of metac to end with
exit code 0 (accepted) or 1 (diagnosed) within a time limit: never a crash,
a hang or another exit code. Mutants are seeded, so failures reproduce."""
import random
import re
import subprocess
import sys
import os
import tempfile

metac, count = sys.argv[1], int(sys.argv[2])
sources = [open(p).read() for p in sys.argv[3:]]
rng = random.Random(20261125)
token = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+\.?\d*(?:e-?\d+)?|\S")
replacements = ["0", "-1", "7", "(", ")", "{", "}", "[", "]", ",", "theta",
                "grad", "x", "@", "~", "=", "stop_grad(", "1e40", "\n", ";"]
bad = 0
for i in range(count):
    src = rng.choice(sources)
    toks = [(m.start(), m.end()) for m in token.finditer(src)]
    for _ in range(rng.randint(1, 3)):
        s, e = rng.choice(toks)
        op = rng.randrange(4)
        if op == 0:
            src = src[:s] + src[e:]
        elif op == 1:
            src = src[:s] + src[s:e] + " " + src[s:]
        elif op == 2:
            src = src[:s] + rng.choice(replacements) + src[e:]
        else:
            s2, e2 = rng.choice(toks)
            if s2 > e:
                src = src[:s] + src[s2:e2] + src[e:s2] + src[s:e] + src[e2:]
        toks = [(m.start(), m.end()) for m in token.finditer(src)]
    with tempfile.NamedTemporaryFile("w", suffix=".meta", delete=False) as f:
        f.write(src)
    try:
        r = subprocess.run([metac, "-emit=autodiff", f.name, "-o", "/dev/null"],
                           capture_output=True, timeout=30)
        if r.returncode not in (0, 1):
            bad += 1
            print(f"mutant {i}: exit code {r.returncode}: {f.name}")
            print(r.stderr.decode()[-2000:])
        elif r.returncode == 1 and b"error:" not in r.stderr:
            bad += 1
            print(f"mutant {i}: failed without an error message: {f.name}")
    except subprocess.TimeoutExpired:
        bad += 1
        print(f"mutant {i}: timed out: {f.name}")
    else:
        if r.returncode in (0, 1) and (r.returncode == 0 or b"error:" in r.stderr):
            os.unlink(f.name)  # Kept only when it shows a problem.
print(f"{count} mutants, {bad} bad")
sys.exit(1 if bad else 0)
