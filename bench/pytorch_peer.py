#!/usr/bin/python3
"""PyTorch peer of `flowtrain bench` for configs/glow-bench.toml and configs/tarflow-bench.toml.

Usage: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/pytorch_peer.py {glow,tarflow}
           [--threads T] [--steps N] [--warmup W]
(Debian's /usr/bin/python3 with python3-torch; the models follow DESIGN.md section 3
exactly, parameter for parameter, so parameter_count matches `flowtrain info`.)

Prints one JSON line with the same keys as `flowtrain bench`: images_per_sec,
ms_per_step_median, peak_rss_mb, threads_per_rank, parameters.
"""
import argparse
import json
import math
import resource
import statistics
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

    def forward(self, x):
        c = x.shape[1]
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.upper_mask + torch.diag(self.sign_s * torch.exp(self.log_s))
        w = self.permutation @ lower @ upper
        return F.conv2d(x, w.view(c, c, 1, 1)), x.shape[2] * x.shape[3] * self.log_s.sum()


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
        self.register_buffer('mask', torch.triu(torch.ones(tokens, tokens, dtype=torch.bool), 1))

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


class TarFlow(torch.nn.Module):
    def __init__(self, channels=3, image_size=32, patch=4, width=256, blocks=4, layers=4, head_dim=64):
        super().__init__()
        self.patch = patch
        tokens = (image_size // patch) ** 2
        self.blocks = torch.nn.ModuleList([Block(channels * patch * patch, tokens, width, layers, head_dim, b % 2 == 1)
                                           for b in range(blocks)])

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

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model', choices=['glow', 'tarflow'])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model == 'glow':
        model = Glow()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(BATCH, 3, 32, 32) - 0.5  # model space: x/256 - 0.5 + U(0, 1/256)
    else:
        model = TarFlow()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=1e-4)
        x = torch.rand(BATCH, 3, 32, 32) * 2.0 - 1.0 + 0.05 * torch.randn(BATCH, 3, 32, 32)
    params = sum(p.numel() for p in model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    times = []
    start = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    total = time.perf_counter() - start
    print(json.dumps({
        'config': f'configs/{args.model}-bench.toml', 'model': args.model, 'peer': f'pytorch {torch.__version__}',
        'parameters': params, 'threads_per_rank': torch.get_num_threads(), 'global_batch': BATCH,
        'steps': args.steps, 'images_per_sec': BATCH * args.steps / total,
        'ms_per_step_median': statistics.median(times), 'ms_per_step_mean': total * 1e3 / args.steps,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == '__main__':
    main()
