#!/usr/bin/env python3
"""Peak buffer bytes of a MAML program unrolled for 1..N inner steps.

Usage: step_memory.py METAC PROGRAM.meta N
Prints each step count's bytes (`metac -emit=stats`, the generated code's
largest kernel arena plus its arguments), then one verdict line: whether
the growth per step is the same from step 3 on, and that growth as a
multiple of the parameters' bytes (what second-order MAML must keep per
step at least: the adapted parameters). Used by bench/run and by
test/EndToEnd/memory-per-step.test.
"""
import os
import re
import subprocess
import sys
import tempfile


def step_memory(metac, source, steps):
    """Returns ({steps: peak buffer bytes}, parameter bytes)."""
    text = open(source).read()
    if "repeat 1 {" not in text:
        sys.exit(f"{source}: no 'repeat 1 {{' to unroll further")
    bytes_at, param_bytes = {}, None
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1, steps + 1):
            path = os.path.join(tmp, f"steps{k}.meta")
            with open(path, "w") as f:
                f.write(text.replace("repeat 1 {", f"repeat {k} {{"))
            stats = subprocess.run([metac, "-emit=stats", path], check=True,
                                   capture_output=True, text=True).stdout
            bytes_at[k] = int(re.search(r"peak buffer bytes: (\d+)", stats).group(1))
            param_bytes = 4 * int(re.search(r"parameters: (\d+)", stats).group(1))
    return bytes_at, param_bytes


def verdict(bytes_at, param_bytes):
    steps = max(bytes_at)
    growth = {bytes_at[k] - bytes_at[k - 1] for k in range(4, steps + 1)}
    if len(growth) != 1:
        return f"not linear: growth per step {sorted(growth)}"
    (g,) = growth
    return (f"linear from step 3: {g} bytes per step, "
            f"{g / param_bytes:.2f} x the parameters' {param_bytes}")


if __name__ == "__main__":
    bytes_at, param_bytes = step_memory(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    for k, b in bytes_at.items():
        print(f"steps {k}: {b} bytes")
    print(verdict(bytes_at, param_bytes))
