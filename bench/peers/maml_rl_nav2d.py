"""PyTorch peer of examples/maml_rl_nav2d.meta, written the way users write it.

One meta-iteration of MAML-RL with TRPO, as in Finn et al. 2017 and the
example: per task (20 per meta-batch), 20 episodes of 100 steps of the
Gaussian ReLU 2 x 100 policy (Xavier-uniform weights, zero biases) in the
2D navigation environment, returns (gamma 0.99), rllab's linear feature
baseline, normalised advantages, one REINFORCE step (alpha 0.1,
create_graph=True), 20 episodes of the adapted policy; then TRPO on the
post-update surrogate: 10 conjugate-gradient iterations with Hessian-vector
products as central differences of the KL's gradient through the inner
step (rllab's FiniteDifferenceHvp, step 1 / |theta|), damping 1e-5, step to
KL 0.01, backtracking line search (0.8, 15 tries).

  --form loop     tasks one after another, episodes of a task batched per
                  step (how the usual implementations run on a CPU)
  --form batched  the same, rollouts of all tasks batched per step

Prints one JSON line: {"it_per_s": ..., "iterations": ..., "seconds": ...}.
With --rollouts N it only rolls out the initial policy on N tasks (one
after another, or batched) and prints {"steps_per_s": ..., "steps": ...}:
environment-step throughput, policy included.
"""
import argparse
import json
import math
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--form", choices=["loop", "batched"], default="loop")
parser.add_argument("--iterations", type=int, default=2)
parser.add_argument("--warmup", type=int, default=1)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--rollouts", type=int, default=0)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

TASKS, EPISODES, HORIZON, ALPHA, GAMMA, HIDDEN = 20, 20, 100, 0.1, 0.99, 100
MAX_KL, DAMPING, CG_ITERS, BACKTRACK, LINE_SEARCH = 0.01, 1e-5, 10, 0.8, 15
HVP_EPS = 1.0


def init_params():
    def dense(fan_in, fan_out):
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return [torch.empty(fan_in, fan_out).uniform_(-bound, bound),
                torch.zeros(fan_out)]
    p = [torch.zeros(2)] + dense(2, HIDDEN) + dense(HIDDEN, HIDDEN) + dense(HIDDEN, 2)
    return [t.requires_grad_() for t in p]


def policy(p, obs):
    log_std, w1, b1, w2, b2, w3, b3 = p
    h = torch.relu(obs @ w1 + b1)
    h = torch.relu(h @ w2 + b2)
    return h @ w3 + b3, log_std.expand(obs.shape[0], 2)


def log_prob(mean, log_std, act):
    z = (act - mean) * torch.exp(-log_std)
    return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def rollout(p, goals):
    """Episodes of every task in `goals` [G, 2], batched per step."""
    g = goals.shape[0]
    obs = torch.zeros(g, EPISODES, 2)
    alive = torch.ones(g, EPISODES)
    traj = {k: [] for k in ("obs", "act", "rew", "mask")}
    with torch.no_grad():
        for _ in range(HORIZON):
            mean, log_std = policy(p, obs.reshape(-1, 2))
            act = (mean + torch.exp(log_std) * torch.randn_like(mean)).reshape(g, EPISODES, 2)
            nxt = obs + 0.1 * act.clamp(-1, 1)
            dist = (nxt - goals[:, None, :]).norm(dim=-1)
            done = ((nxt - goals[:, None, :]).abs().max(-1).values < 0.01).float()
            for k, v in (("obs", obs), ("act", act), ("rew", -dist * alive), ("mask", alive)):
                traj[k].append(v)
            alive = alive * (1 - done)
            obs = nxt
    # [G, E, T, ...]
    return {k: torch.stack(v, dim=2) for k, v in traj.items()}


def advantages(t):
    """Returns to go, linear feature baseline, normalised advantages; per task."""
    rew, mask, obs = t["rew"], t["mask"], t["obs"]
    ret = torch.zeros_like(rew)
    run = torch.zeros(rew.shape[:2])
    for s in reversed(range(HORIZON)):
        run = rew[..., s] + GAMMA * run * mask[..., s]
        ret[..., s] = run
    ret = ret * mask
    adv = torch.zeros_like(ret)
    time_feat = (torch.arange(HORIZON, dtype=torch.float32) / 100.0)[None, :, None]
    for i in range(rew.shape[0]):
        o = obs[i].clamp(-10, 10)
        a = time_feat.expand(EPISODES, HORIZON, 1)
        x = torch.cat([o, o * o, a, a ** 2, a ** 3, torch.ones_like(a)], -1).reshape(-1, 8).double()
        m = mask[i].reshape(-1).double()
        y = ret[i].reshape(-1).double()
        xm = x * m[:, None]
        w = torch.linalg.solve(xm.T @ x + 1e-5 * torch.eye(8, dtype=torch.float64), xm.T @ y)
        a_i = (y - x @ w) * m
        n = m.sum()
        mu = a_i.sum() / n
        sd = (((a_i - mu) * m) ** 2).sum().div(n).sqrt()
        adv[i] = (((a_i - mu) / (sd + 1e-8)) * m).reshape(EPISODES, HORIZON).float()
    t["adv"] = adv
    return t


def flat(t, i):
    return {k: v[i].reshape(EPISODES * HORIZON, -1).squeeze(-1) for k, v in t.items()}


def adapt(p, d, create_graph):
    mean, log_std = policy(p, d["obs"])
    loss = -(log_prob(mean, log_std, d["act"]) * d["adv"] * d["mask"]).sum() / d["mask"].sum()
    g = torch.autograd.grad(loss, p, create_graph=create_graph)
    return [x - ALPHA * gx for x, gx in zip(p, g)]


def surrogate_and_kl(p, pre, post, old, create_graph=True):
    adapted = adapt(p, pre, create_graph)
    mean, log_std = policy(adapted, post["obs"])
    ratio = torch.exp(log_prob(mean, log_std, post["act"]) - old["logp"])
    m = post["mask"]
    loss = -(ratio * post["adv"] * m).sum() / m.sum()
    om, ol = old["mean"], old["log_std"]
    kl = (log_std - ol + (torch.exp(2 * ol) + (om - mean) ** 2) / (2 * torch.exp(2 * log_std)) - 0.5).sum(-1)
    return loss, (kl * m).sum() / m.sum()


def meta_iteration(params, form):
    goals = torch.rand(TASKS, 2) - 0.5
    pre_all = advantages(rollout(params, goals)) if form == "batched" else None
    pres, posts, olds = [], [], []
    adapted_all = []
    for i in range(TASKS):
        pre = flat(pre_all, i) if pre_all else flat(advantages(rollout(params, goals[i:i + 1])), 0)
        adapted = [x.detach().requires_grad_() for x in adapt(params, pre, False)]
        pres.append(pre)
        adapted_all.append(adapted)
    if form == "batched":
        # One rollout loop for all tasks' adapted policies: per step, a
        # batched product over tasks.
        post_all = rollout_adapted(adapted_all, goals)
    for i in range(TASKS):
        post = flat(post_all, i) if form == "batched" else \
            flat(advantages(rollout(adapted_all[i], goals[i:i + 1])), 0)
        with torch.no_grad():
            mean, log_std = policy(adapted_all[i], post["obs"])
            olds.append({"mean": mean, "log_std": log_std,
                         "logp": log_prob(mean, log_std, post["act"])})
        posts.append(post)

    def mean_loss_kl(p, create_graph=True):
        ls, ks = zip(*(surrogate_and_kl(p, pres[i], posts[i], olds[i], create_graph)
                       for i in range(TASKS)))
        return sum(ls) / TASKS, sum(ks) / TASKS

    loss, _ = mean_loss_kl(params)
    grads = torch.autograd.grad(loss, params, create_graph=False)
    g = torch.cat([x.reshape(-1) for x in grads])

    def kl_grad(p):
        _, kl = mean_loss_kl(p)
        return torch.cat([x.reshape(-1) for x in torch.autograd.grad(kl, p)])

    def hvp(v):
        with torch.no_grad():
            theta = torch.cat([p.reshape(-1) for p in params])
            h = HVP_EPS / (theta.norm() + 1e-8)
        def shifted(sign):
            out, offset = [], 0
            for p in params:
                out.append((p.detach() + sign * h * v[offset:offset + p.numel()]
                            .reshape(p.shape)).requires_grad_())
                offset += p.numel()
            return out
        hv = (kl_grad(shifted(1)) - kl_grad(shifted(-1))) / (2 * h)
        return hv + DAMPING * v

    x = torch.zeros_like(g)
    r, pdir = g.clone(), g.clone()
    rr = r @ r
    for _ in range(CG_ITERS):
        if rr < 1e-10:
            break
        hp = hvp(pdir)
        a = rr / (pdir @ hp)
        x += a * pdir
        r -= a * hp
        rr_new = r @ r
        pdir = r + rr_new / rr * pdir
        rr = rr_new
    scale = torch.sqrt(2 * MAX_KL / (x @ hvp(x)))
    before = [p.detach().clone() for p in params]
    with torch.no_grad():
        for k in range(LINE_SEARCH):
            step = scale * BACKTRACK ** k * x
            offset = 0
            for p, b in zip(params, before):
                p.copy_(b - step[offset:offset + p.numel()].reshape(p.shape))
                offset += p.numel()
            with torch.enable_grad():
                new_loss, new_kl = mean_loss_kl(params, create_graph=False)
            if new_loss < loss and new_kl <= MAX_KL:
                return
        for p, b in zip(params, before):
            p.copy_(b)


def rollout_adapted(adapted_all, goals):
    """Post-update rollouts of all tasks at once: per step, the tasks'
    policies as batched matrix products."""
    stacked = [torch.stack([a[j].detach() for a in adapted_all]) for j in range(7)]
    log_std, w1, b1, w2, b2, w3, b3 = stacked
    obs = torch.zeros(TASKS, EPISODES, 2)
    alive = torch.ones(TASKS, EPISODES)
    traj = {k: [] for k in ("obs", "act", "rew", "mask")}
    for _ in range(HORIZON):
        h = torch.relu(torch.bmm(obs, w1) + b1[:, None, :])
        h = torch.relu(torch.bmm(h, w2) + b2[:, None, :])
        mean = torch.bmm(h, w3) + b3[:, None, :]
        act = mean + torch.exp(log_std)[:, None, :] * torch.randn_like(mean)
        nxt = obs + 0.1 * act.clamp(-1, 1)
        dist = (nxt - goals[:, None, :]).norm(dim=-1)
        done = ((nxt - goals[:, None, :]).abs().max(-1).values < 0.01).float()
        for k, v in (("obs", obs), ("act", act), ("rew", -dist * alive), ("mask", alive)):
            traj[k].append(v)
        alive = alive * (1 - done)
        obs = nxt
    return advantages({k: torch.stack(v, dim=2) for k, v in traj.items()})


params = init_params()
if args.rollouts:
    goals = torch.rand(args.rollouts, 2) - 0.5
    rollout(params, goals[:1])  # warm-up
    start = time.perf_counter()
    if args.form == "batched":
        steps = rollout(params, goals)["mask"].sum().item()
    else:
        steps = sum(rollout(params, goals[i:i + 1])["mask"].sum().item()
                    for i in range(args.rollouts))
    seconds = time.perf_counter() - start
    print(json.dumps({"steps_per_s": steps / seconds, "steps": steps,
                      "seconds": seconds}))
    raise SystemExit(0)
for _ in range(args.warmup):
    meta_iteration(params, args.form)
start = time.perf_counter()
for _ in range(args.iterations):
    meta_iteration(params, args.form)
seconds = time.perf_counter() - start
print(json.dumps({"it_per_s": args.iterations / seconds,
                  "iterations": args.iterations, "seconds": seconds}))
