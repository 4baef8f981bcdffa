#!/usr/bin/python3
"""PyTorch peer of `flowtrain bench` for configs/glow-bench.toml and configs/tarflow-bench.toml.

Usage: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/pytorch_peer.py {glow,tarflow}
           [--mode train|eval|sample] [--precision fp32|bf16] [--ranks R] [--threads T]
           [--steps N] [--warmup W]
(Debian's /usr/bin/python3 with python3-torch; the models follow DESIGN.md section 3
exactly, parameter for parameter, so parameter_count matches `flowtrain info`.)

Prints one JSON line with the same keys as `flowtrain bench`: images_per_sec,
ms_per_step_median, peak_rss_mb, threads_per_rank, parameters. The modes time what
`flowtrain bench --mode` times: a training step, a no-grad log-likelihood pass, or
drawing a batch by the exact inverse (TARFLOW: token by token with a KV cache).
bf16 is torch.autocast on the CPU. --ranks R runs R processes (DistributedDataParallel
over gloo for training), each with BATCH / R images, as `mpirun -np R flowtrain bench`.
"""
import argparse
import json
import math
import resource
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

BATCH = 32
LOG_2PI = math.log(2.0 * math.pi)


# ---- Glow (configs/glow-bench.toml: 3x32x32, L=3, K=8, width 128, affine, LU, learned top) ----

def squeeze2d(x):
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * 4, h // 2, w // 2)


def unsqueeze2d(x):
    n, c, h, w = x.shape
    x = x.reshape(n, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // 4, h * 2, w * 2)


class ActNorm(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = torch.nn.Parameter(torch.zeros(1, c, 1, 1))
        self.initialized = False

    def forward(self, x):
        if not self.initialized:  # data-dependent init on the first batch, as flowtrain does
            with torch.no_grad():
                mean = x.double().mean(dim=(0, 2, 3), keepdim=True)
                var = ((x.double() - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
                self.bias.copy_(-mean)
                self.logs.copy_(-torch.log(var.sqrt() + 1e-6))
            self.initialized = True
        return (x + self.bias) * torch.exp(self.logs), x.shape[2] * x.shape[3] * self.logs.sum()

    def reverse(self, y):
        return y * torch.exp(-self.logs) - self.bias


class Conv2dZeros(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(cout, cin, 3, 3))
        self.bias = torch.nn.Parameter(torch.zeros(cout))
        self.logs = torch.nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, padding=1) * torch.exp(self.logs * 3.0).view(1, -1, 1, 1)


class InvConvLU(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(c, c, dtype=torch.float64))
        p, l, u = torch.linalg.lu(q)
        s = torch.diagonal(u)
        self.register_buffer('permutation', p.float())
        self.register_buffer('sign_s', torch.sign(s).float())
        self.register_buffer('lower_mask', torch.tril(torch.ones(c, c), -1))
        self.register_buffer('upper_mask', torch.triu(torch.ones(c, c), 1))
        self.register_buffer('eye', torch.eye(c))
        self.lower = torch.nn.Parameter((l * self.lower_mask.double()).float())
        self.upper = torch.nn.Parameter((u * self.upper_mask.double()).float())
        self.log_s = torch.nn.Parameter(torch.log(s.abs()).float())

    def weight(self):
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.upper_mask + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.permutation @ lower @ upper

    def forward(self, x):
        c = x.shape[1]
        return F.conv2d(x, self.weight().view(c, c, 1, 1)), x.shape[2] * x.shape[3] * self.log_s.sum()

    def reverse(self, y):
        c = y.shape[1]
        return F.conv2d(y, torch.inverse(self.weight().double()).float().view(c, c, 1, 1))


class CouplingNN(torch.nn.Module):
    def __init__(self, cin, width, cout):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, width, 3, padding=1, bias=False)
        self.norm1 = ActNorm(width)
        self.conv2 = torch.nn.Conv2d(width, width, 1, bias=False)
        self.norm2 = ActNorm(width)
        self.out = Conv2dZeros(width, cout)

    def forward(self, x):
        h = F.relu(self.norm1(self.conv1(x))[0])
        h = F.relu(self.norm2(self.conv2(h))[0])
        return self.out(h)


class FlowStep(torch.nn.Module):
    def __init__(self, c, width):
        super().__init__()
        self.actnorm = ActNorm(c)
        self.invconv = InvConvLU(c)
        self.network = CouplingNN(c // 2, width, c)

    def forward(self, z):
        z, ld1 = self.actnorm(z)
        z, ld2 = self.invconv(z)
        c = z.shape[1]
        xa, xb = z[:, :c // 2], z[:, c // 2:]
        h = self.network(xa)
        shift, pre = h[:, 0::2], h[:, 1::2] + 2.0
        yb = (xb + shift) * torch.sigmoid(pre)
        return torch.cat([xa, yb], 1), ld1 + ld2 + F.logsigmoid(pre).sum([1, 2, 3])

    def reverse(self, y):
        c = y.shape[1]
        ya, yb = y[:, :c // 2], y[:, c // 2:]
        h = self.network(ya)
        shift, pre = h[:, 0::2], h[:, 1::2] + 2.0
        z = torch.cat([ya, yb / torch.sigmoid(pre) - shift], 1)
        return self.actnorm.reverse(self.invconv.reverse(z))


def gaussian_logp(x, mean, logs):
    return (-0.5 * (LOG_2PI + 2.0 * logs + (x - mean) ** 2 * torch.exp(-2.0 * logs))).sum([1, 2, 3])


class Glow(torch.nn.Module):
    def __init__(self, channels=3, levels=3, depth=8, width=128):
        super().__init__()
        c = channels * 4
        self.levels = torch.nn.ModuleList()
        self.splits = torch.nn.ModuleList()
        for i in range(levels):
            self.levels.append(torch.nn.ModuleList([FlowStep(c, width) for _ in range(depth)]))
            if i + 1 < levels:
                self.splits.append(Conv2dZeros(c // 2, c))
                c *= 2
        self.top = Conv2dZeros(2 * c, 2 * c)

    def forward(self, x):
        z = squeeze2d(x)
        log_prob = torch.zeros(x.shape[0])
        for i, steps in enumerate(self.levels):
            for step in steps:
                z, ld = step(z)
                log_prob = log_prob + ld
            if i < len(self.splits):
                c = z.shape[1]
                z1, z2 = z[:, :c // 2], z[:, c // 2:]
                h = self.splits[i](z1)
                log_prob = log_prob + gaussian_logp(z2, h[:, 0::2], h[:, 1::2])
                z = squeeze2d(z1)
        c = z.shape[1]
        h = self.top(torch.zeros(z.shape[0], 2 * c, z.shape[2], z.shape[3]))
        return log_prob + gaussian_logp(z, h[:, :c], h[:, c:])

    def loss(self, x):
        d = x[0].numel()
        return (-self.forward(x).mean() + d * math.log(256.0)) / (d * math.log(2.0))

    def sample(self, n, image_shape=(3, 32, 32)):
        c, size = image_shape[0] * 4, image_shape[1] // 2
        for _ in self.splits:
            c, size = c * 2, size // 2
        h = self.top(torch.zeros(n, 2 * c, size, size))
        z = h[:, :c] + torch.exp(h[:, c:]) * torch.randn(n, c, size, size)
        for i in reversed(range(len(self.levels))):
            if i < len(self.splits):
                z1 = unsqueeze2d(z)
                h = self.splits[i](z1)
                z = torch.cat([z1, h[:, 0::2] + torch.exp(h[:, 1::2]) * torch.randn_like(z1)], 1)
            for step in reversed(self.levels[i]):
                z = step.reverse(z)
        return unsqueeze2d(z)


# ---- TARFLOW (configs/tarflow-bench.toml: P=4, width 256, 4 blocks x 4 layers, head dim 64) ----

class Attention(torch.nn.Module):
    def __init__(self, width, head_dim):
        super().__init__()
        self.norm = torch.nn.LayerNorm(width)
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.proj = torch.nn.Linear(width, width)
        self.heads = width // head_dim
        self.scale = head_dim ** -0.5

    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, t, 3 * self.heads, -1).transpose(1, 2).chunk(3, dim=1)
        logits = (q @ k.transpose(-1, -2)) * self.scale
        logits = logits.masked_fill(mask, float('-inf'))  # hand-written causal attention (torch 1.13)
        x = torch.softmax(logits, dim=-1) @ v
        return self.proj(x.transpose(1, 2).reshape(b, t, c))

    def step(self, x, cache):
        """One new token x [B, 1, C] attending to itself and the cached ones."""
        b, _, c = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 1, 3 * self.heads, -1).transpose(1, 2).chunk(3, dim=1)
        if cache:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        cache[:] = [k, v]
        x = torch.softmax((q @ k.transpose(-1, -2)) * self.scale, dim=-1) @ v
        return self.proj(x.transpose(1, 2).reshape(b, 1, c))


class Layer(torch.nn.Module):
    def __init__(self, width, head_dim):
        super().__init__()
        self.attention = Attention(width, head_dim)
        self.mlp_norm = torch.nn.LayerNorm(width)
        self.fc1 = torch.nn.Linear(width, 4 * width)
        self.fc2 = torch.nn.Linear(4 * width, width)

    def forward(self, x, mask):
        x = x + self.attention(x, mask)
        return x + self.fc2(F.gelu(self.fc1(self.mlp_norm(x))))  # exact (erf) GELU

    def step(self, x, cache):
        x = x + self.attention.step(x, cache)
        return x + self.fc2(F.gelu(self.fc1(self.mlp_norm(x))))


class Block(torch.nn.Module):
    def __init__(self, token_dim, tokens, width, layers, head_dim, reverse):
        super().__init__()
        self.proj_in = torch.nn.Linear(token_dim, width)
        self.pos_embed = torch.nn.Parameter(torch.randn(tokens, width) * 1e-2)
        self.layers = torch.nn.ModuleList([Layer(width, head_dim) for _ in range(layers)])
        self.proj_out = torch.nn.Linear(width, 2 * token_dim)
        with torch.no_grad():
            self.proj_out.weight.zero_()
        self.reverse = reverse
        # True above the diagonal: a token attends to itself and to earlier tokens.
        # A plain attribute, not a buffer: DDP's start-up broadcast of buffers cannot send bool tensors over gloo.
        self.mask = torch.triu(torch.ones(tokens, tokens, dtype=torch.bool), 1)

    def forward(self, x):
        if self.reverse:
            x = x.flip(1)
        pos = self.pos_embed.flip(0) if self.reverse else self.pos_embed
        h = self.proj_in(x) + pos
        for layer in self.layers:
            h = layer(h, self.mask)
        h = self.proj_out(h)
        h = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)  # one-token shift
        alpha, mu = h.chunk(2, dim=-1)
        z = (x - mu) * torch.exp(-alpha)
        if self.reverse:
            z = z.flip(1)
        return z, -alpha.sum(dim=[1, 2])

    def inverse(self, z):
        """x from z token by token: x_t needs the outputs for tokens < t, kept in a KV cache."""
        if self.reverse:
            z = z.flip(1)
        pos = self.pos_embed.flip(0) if self.reverse else self.pos_embed
        x = torch.empty_like(z)
        x[:, :1] = z[:, :1]
        caches = [[] for _ in self.layers]
        for t in range(z.shape[1] - 1):
            h = self.proj_in(x[:, t:t + 1]) + pos[t:t + 1]
            for layer, cache in zip(self.layers, caches):
                h = layer.step(h, cache)
            alpha, mu = self.proj_out(h).chunk(2, dim=-1)
            x[:, t + 1:t + 2] = z[:, t + 1:t + 2] * torch.exp(alpha) + mu
        return x.flip(1) if self.reverse else x


class TarFlow(torch.nn.Module):
    def __init__(self, channels=3, image_size=32, patch=4, width=256, blocks=4, layers=4, head_dim=64):
        super().__init__()
        self.patch = patch
        tokens = (image_size // patch) ** 2
        self.blocks = torch.nn.ModuleList([Block(channels * patch * patch, tokens, width, layers, head_dim, b % 2 == 1)
                                           for b in range(blocks)])

    def sample(self, n, image_shape=(3, 32, 32)):
        c, size = image_shape[0], image_shape[1]
        p, t = self.patch, (image_shape[1] // self.patch) ** 2
        z = torch.randn(n, t, c * p * p)
        for block in reversed(self.blocks):
            z = block.inverse(z)
        g = size // p
        return z.reshape(n, g, g, c, p, p).permute(0, 3, 1, 4, 2, 5).reshape(n, c, size, size)

    def loss(self, x):
        n, c, h, w = x.shape
        p = self.patch
        # patchify, channel-major within a patch
        z = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(n, (h // p) * (w // p), c * p * p)
        logdet = torch.zeros(n)
        for block in self.blocks:
            z, ld = block(z)
            logdet = logdet + ld
        d = c * h * w
        return 0.5 * z.pow(2).mean() - logdet.mean() / d


# ---- bench ----------------------------------------------------------------------------

class Loss(torch.nn.Module):
    """The model's loss as its forward, which is what DistributedDataParallel wraps."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.loss(x)


def run(rank, args, init_file):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.ranks > 1:
        torch.distributed.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                                             world_size=args.ranks)
    local = BATCH // args.ranks
    if args.model == 'glow':
        model = Glow()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(local, 3, 32, 32) - 0.5  # model space: x/256 - 0.5 + U(0, 1/256)
    else:
        model = TarFlow()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=1e-4)
        x = torch.rand(local, 3, 32, 32) * 2.0 - 1.0 + 0.05 * torch.randn(local, 3, 32, 32)
    params = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        model.loss(x)  # ActNorm's data-dependent init, as flowtrain's first forward does
    loss = Loss(model)
    if args.ranks > 1:
        loss = torch.nn.parallel.DistributedDataParallel(loss)
    autocast = torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.precision == 'bf16')

    def train_step():
        opt.zero_grad(set_to_none=True)
        with autocast:
            value = loss(x)
        value.backward()
        opt.step()

    def eval_step():
        with torch.no_grad(), autocast:
            model.loss(x)

    def sample_step():
        with torch.no_grad(), autocast:
            model.sample(local)

    step = {'train': train_step, 'eval': eval_step, 'sample': sample_step}[args.mode]
    for _ in range(args.warmup):
        step()
    if args.ranks > 1:
        torch.distributed.barrier()
    times = []
    start = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    total = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if args.ranks > 1:
        worst = torch.tensor([total, rss], dtype=torch.float64)
        torch.distributed.all_reduce(worst, op=torch.distributed.ReduceOp.MAX)
        total, rss = worst.tolist()
    if rank != 0:
        return
    print(json.dumps({
        'config': f'configs/{args.model}-bench.toml', 'mode': args.mode, 'model': args.model,
        'peer': f'pytorch {torch.__version__}', 'precision': args.precision, 'ranks': args.ranks,
        'parameters': params, 'threads_per_rank': torch.get_num_threads(), 'global_batch': BATCH,
        'steps': args.steps, 'images_per_sec': BATCH * args.steps / total,
        'ms_per_step_median': statistics.median(times), 'ms_per_step_mean': total * 1e3 / args.steps,
        'peak_rss_mb': rss,
    }), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model', choices=['glow', 'tarflow'])
    ap.add_argument('--mode', choices=['train', 'eval', 'sample'], default='train')
    ap.add_argument('--precision', choices=['fp32', 'bf16'], default='fp32')
    ap.add_argument('--ranks', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    args = ap.parse_args()
    if args.ranks == 1:
        run(0, args, None)
        return
    with tempfile.TemporaryDirectory() as scratch:
        torch.multiprocessing.spawn(run, args=(args, os.path.join(scratch, 'init')), nprocs=args.ranks)


if __name__ == '__main__':
    main()
