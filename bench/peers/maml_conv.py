"""PyTorch peer of examples/maml_glyphs_conv.meta, written the way users write it.

The same network (4 blocks of 3x3 convolution with 64 filters, stride 2,
padding 1, batch norm with the current batch's statistics, ReLU; a linear
head), the same inner SGD step (alpha = 0.4, second order), Adam (1e-3) over
a meta-batch of 32 5-way episodes with 1 support and 1 query image per class.

Episodes are random 28x28 images with random one-hot labels: the arithmetic
per meta-iteration is what is measured, and it does not depend on the pixel
values (metac's data sampling is included in its time and is below 1% of it).

  --form loop     one task at a time, torch.autograd.grad(create_graph=True)
  --form batched  the 32 tasks at once: grouped convolutions (groups = tasks)
  --first-order   detach the inner gradient (first-order MAML)
  --steps N       inner steps

Prints one JSON line: {"it_per_s": ..., "iterations": ..., "seconds": ...}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--form", choices=["loop", "batched"], default="loop")
parser.add_argument("--first-order", action="store_true")
parser.add_argument("--steps", type=int, default=1)
parser.add_argument("--iterations", type=int, default=20)
parser.add_argument("--warmup", type=int, default=3)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

B, WAY, SHOTS, QUERY, ALPHA, FILTERS = 32, 5, 1, 1, 0.4, 64


def init_params():
    p = []
    channels = 1
    for _ in range(4):
        bound = 1.0 / math.sqrt(9 * channels)
        p.append(torch.empty(FILTERS, channels, 3, 3).uniform_(-bound, bound))
        p.append(torch.zeros(FILTERS))           # conv bias
        p.append(torch.ones(FILTERS))            # batch-norm scale
        p.append(torch.zeros(FILTERS))           # batch-norm offset
        channels = FILTERS
    bound = 1.0 / math.sqrt(4 * FILTERS)
    p.append(torch.empty(WAY, 4 * FILTERS).uniform_(-bound, bound))
    p.append(torch.zeros(WAY))
    return [t.requires_grad_() for t in p]


params = init_params()
opt = torch.optim.Adam(params, lr=1e-3)


def episode(n):
    x = torch.rand(B, WAY * n, 1, 28, 28)
    y = torch.randint(0, WAY, (B, WAY * n))
    return x, y


def net(p, x):
    h = x
    for i in range(4):
        w, b, scale, offset = p[4 * i:4 * i + 4]
        h = F.conv2d(h, w, b, stride=2, padding=1)
        h = F.batch_norm(h, None, None, scale, offset, training=True)
        h = F.relu(h)
    return F.linear(h.flatten(1), p[16], p[17])


def adapt(p, x, y):
    for _ in range(args.steps):
        loss = F.cross_entropy(net(p, x), y)
        grads = torch.autograd.grad(loss, p, create_graph=not args.first_order)
        p = [w - ALPHA * g for w, g in zip(p, grads)]
    return p


def step_loop():
    xs, ys = episode(SHOTS)
    xq, yq = episode(QUERY)
    opt.zero_grad()
    for t in range(B):
        fast = adapt(params, xs[t], ys[t])
        loss = F.cross_entropy(net(fast, xq[t]), yq[t]) / B
        loss.backward()
    opt.step()


def net_batched(p, x):
    # p: per-task parameters [B, ...]; x: [B, n, 1, 28, 28]. Tasks become
    # channel groups of one grouped convolution; batch norm per task and
    # channel is a normalisation over (images, height, width).
    n = x.shape[1]
    h = x.transpose(0, 1).reshape(n, B, 28, 28)
    for i in range(4):
        w, b, scale, offset = p[4 * i:4 * i + 4]
        h = F.conv2d(h, w.reshape(-1, *w.shape[2:]), b.reshape(-1), stride=2,
                     padding=1, groups=B)
        mean = h.mean(dim=(0, 2, 3), keepdim=True)
        var = h.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        h = (h - mean) / torch.sqrt(var + 1e-5)
        h = F.relu(h * scale.reshape(1, -1, 1, 1) + offset.reshape(1, -1, 1, 1))
    h = h.reshape(n, B, FILTERS * 4).transpose(0, 1)     # [B, n, 256]
    return torch.bmm(h, p[16].transpose(1, 2)) + p[17].unsqueeze(1)


def step_batched():
    xs, ys = episode(SHOTS)
    xq, yq = episode(QUERY)
    opt.zero_grad()
    fast = [w.unsqueeze(0).expand(B, *w.shape) for w in params]
    for _ in range(args.steps):
        logits = net_batched(fast, xs)
        # The sum over tasks of per-task mean losses: per-task gradients.
        loss = F.cross_entropy(logits.reshape(-1, WAY), ys.reshape(-1),
                               reduction="sum") / (WAY * SHOTS)
        grads = torch.autograd.grad(loss, fast, create_graph=not args.first_order)
        fast = [w - ALPHA * g for w, g in zip(fast, grads)]
    loss = F.cross_entropy(net_batched(fast, xq).reshape(-1, WAY), yq.reshape(-1))
    loss.backward()
    opt.step()


step = step_loop if args.form == "loop" else step_batched
for _ in range(args.warmup):
    step()
start = time.perf_counter()
for _ in range(args.iterations):
    step()
seconds = time.perf_counter() - start
print(json.dumps({"it_per_s": args.iterations / seconds,
                  "iterations": args.iterations, "seconds": seconds}))
