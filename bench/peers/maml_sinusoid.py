"""PyTorch peer of examples/maml_sinusoid.meta, written the way users write it.

Same task distribution (A ~ U[0.1, 5], phase ~ U[0, pi], x ~ U[-5, 5]), the
same 1-40-40-1 ReLU network with PyTorch's default initialisation, the same
inner SGD step (alpha = 0.01), Adam (1e-3) over a meta-batch of 25 tasks with
10 support and 10 query points.

  --form loop     one task at a time, torch.autograd.grad(create_graph=True)
  --form batched  the 25 tasks as one batch of matrix products (torch.bmm)
  --first-order   detach the inner gradient (first-order MAML)
  --steps N       inner steps

Prints one JSON line: {"it_per_s": ..., "iterations": ..., "seconds": ...}.
"""
import argparse
import json
import math
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--form", choices=["loop", "batched"], default="loop")
parser.add_argument("--first-order", action="store_true")
parser.add_argument("--steps", type=int, default=1)
parser.add_argument("--iterations", type=int, default=200)
parser.add_argument("--warmup", type=int, default=20)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

B, K, Q, ALPHA = 25, 10, 10, 0.01


def init_layer(fan_in, fan_out):
    bound = 1.0 / math.sqrt(fan_in)
    w = torch.empty(fan_in, fan_out).uniform_(-bound, bound).requires_grad_()
    b = torch.empty(fan_out).uniform_(-bound, bound).requires_grad_()
    return [w, b]


params = init_layer(1, 40) + init_layer(40, 40) + init_layer(40, 1)
opt = torch.optim.Adam(params, lr=1e-3)


def sample(batch, n):
    amp = torch.empty(batch, 1, 1).uniform_(0.1, 5.0)
    phase = torch.empty(batch, 1, 1).uniform_(0.0, math.pi)
    x = torch.empty(batch, n, 1).uniform_(-5.0, 5.0)
    return x, amp * torch.sin(x - phase)


def net(p, x):
    h = torch.relu(x @ p[0] + p[1])
    h = torch.relu(h @ p[2] + p[3])
    return h @ p[4] + p[5]


def adapt(p, x, y):
    for _ in range(args.steps):
        loss = ((net(p, x) - y) ** 2).mean()
        grads = torch.autograd.grad(loss, p, create_graph=not args.first_order)
        p = [w - ALPHA * g for w, g in zip(p, grads)]
    return p


def step_loop():
    xs, ys = sample(B, K)
    xq, yq = sample(B, Q)
    opt.zero_grad()
    total = 0.0
    for t in range(B):
        fast = adapt(params, xs[t], ys[t])
        loss = ((net(fast, xq[t]) - yq[t]) ** 2).mean() / B
        loss.backward()
        total += loss.item()
    opt.step()
    return total


def net_batched(p, x):
    # p: per-task parameters [B, ...]; x: [B, n, 1]
    h = torch.relu(torch.bmm(x, p[0]) + p[1].unsqueeze(1))
    h = torch.relu(torch.bmm(h, p[2]) + p[3].unsqueeze(1))
    return torch.bmm(h, p[4]) + p[5].unsqueeze(1)


def step_batched():
    xs, ys = sample(B, K)
    xq, yq = sample(B, Q)
    opt.zero_grad()
    fast = [w.unsqueeze(0).expand(B, *w.shape) for w in params]
    for _ in range(args.steps):
        # Sum over tasks of per-task mean losses: per-task gradients.
        loss = ((net_batched(fast, xs) - ys) ** 2).mean(dim=(1, 2)).sum()
        grads = torch.autograd.grad(loss, fast, create_graph=not args.first_order)
        fast = [w - ALPHA * g for w, g in zip(fast, grads)]
    loss = ((net_batched(fast, xq) - yq) ** 2).mean()
    loss.backward()
    opt.step()
    return loss.item()


step = step_loop if args.form == "loop" else step_batched
for _ in range(args.warmup):
    step()
start = time.perf_counter()
for _ in range(args.iterations):
    step()
seconds = time.perf_counter() - start
print(json.dumps({"it_per_s": args.iterations / seconds,
                  "iterations": args.iterations, "seconds": seconds}))
