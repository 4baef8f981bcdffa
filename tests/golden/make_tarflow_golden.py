#!/usr/bin/python3
"""Golden data for the TARFLOW parity test (tests/layers/tarflow_test.cpp).

Usage: make_tarflow_golden.py OUT.h5   (Debian's /usr/bin/python3: python3-torch, h5py, numpy)

Direction: this script owns the weights. It builds a tiny TARFLOW with the module
structure of apple/ml-tarflow (transformer_flow.py: Permutation*, Attention, MLP,
AttentionBlock, MetaBlock, Model), gives every parameter seeded random values
(proj_out's weight is not left at zero, so every path carries gradient), and
writes them under the C++ state_dict names together with the inputs and outputs.
The C++ test loads the weights with load_state_dict and compares.

torch 1.13 has no F.scaled_dot_product_attention and ml-tarflow's KV cache is an
inference detail, so attention is written out and reverse() recomputes the whole
prefix for every token; the math is ml-tarflow's.

Layout, one group per case (float32 unless noted):
  config               int64 [channels, image_size, patch_size, width, blocks,
                       layers_per_block, head_dim, num_classes]
  x                    [N, C, H, W] model-space input
  labels               int64 [N], -1 = no label (mean class embedding); absent when unconditional
  z                    [N, T, C*P*P] latent tokens (Model.forward's first output)
  logdet               [N] full log-determinant = ml-tarflow's per-dimension logdets * D
  log_prob             [N] sum of log N(z; 0, 1) + logdet
  loss                 [] Model.get_loss(z, logdets) = 0.5*mean(z^2) - mean(logdets)
  x_grad               [N, C, H, W] d(sum of log_prob)/dx (the denoising score)
  param/<name>         every parameter, C++ name (see CPP_NAMES)
  grad/<name>          d loss / d parameter
  reverse_z, reverse_labels (int64, >= 0), reverse_guidance, reverse_attn_temp ([] f64)
  reverse_x            [N, C, H, W] Model.reverse(reverse_z, labels, guidance,
                       attn_temp=..., annealed_guidance=True), unpatchified
"""
import math
import os
import sys
import zlib

import h5py
import numpy as np
import torch
import torch.nn.functional as F


# ---- ml-tarflow's modules (transformer_flow.py), sampling cache left out ------------

class PermutationIdentity(torch.nn.Module):
    def forward(self, x, dim=1, inverse=False):
        return x


class PermutationFlip(torch.nn.Module):
    def forward(self, x, dim=1, inverse=False):
        return x.flip(dims=[dim])


class Attention(torch.nn.Module):
    def __init__(self, in_channels, head_channels):
        super().__init__()
        self.norm = torch.nn.LayerNorm(in_channels)
        self.qkv = torch.nn.Linear(in_channels, in_channels * 3)
        self.proj = torch.nn.Linear(in_channels, in_channels)
        self.num_heads = in_channels // head_channels
        self.sqrt_scale = head_channels ** (-0.25)

    def forward(self, x, mask=None, temp=1.0):
        B, T, C = x.size()
        x = self.norm(x.float()).type(x.dtype)
        q, k, v = self.qkv(x).reshape(B, T, 3 * self.num_heads, -1).transpose(1, 2).chunk(3, dim=1)
        scale = self.sqrt_scale ** 2 / temp
        logits = (q @ k.transpose(-1, -2)) * scale
        if mask is not None:
            logits = logits.masked_fill(~mask.bool(), float('-inf'))
        x = torch.softmax(logits, dim=-1) @ v
        x = x.transpose(1, 2).reshape(B, T, C)
        return self.proj(x)


class MLP(torch.nn.Module):
    def __init__(self, channels, expansion):
        super().__init__()
        self.norm = torch.nn.LayerNorm(channels)
        self.main = torch.nn.Sequential(
            torch.nn.Linear(channels, channels * expansion),
            torch.nn.GELU(),
            torch.nn.Linear(channels * expansion, channels),
        )

    def forward(self, x):
        return self.main(self.norm(x.float()).type(x.dtype))


class AttentionBlock(torch.nn.Module):
    def __init__(self, channels, head_channels, expansion=4):
        super().__init__()
        self.attention = Attention(channels, head_channels)
        self.mlp = MLP(channels, expansion)

    def forward(self, x, attn_mask=None, attn_temp=1.0):
        x = x + self.attention(x, attn_mask, attn_temp)
        return x + self.mlp(x)


class MetaBlock(torch.nn.Module):
    def __init__(self, in_channels, channels, num_patches, permutation, num_layers, head_dim, num_classes):
        super().__init__()
        self.proj_in = torch.nn.Linear(in_channels, channels)
        self.pos_embed = torch.nn.Parameter(torch.randn(num_patches, channels) * 1e-2)
        self.class_embed = (torch.nn.Parameter(torch.randn(num_classes, 1, channels) * 1e-2)
                            if num_classes else None)
        self.attn_blocks = torch.nn.ModuleList(
            [AttentionBlock(channels, head_dim) for _ in range(num_layers)])
        self.proj_out = torch.nn.Linear(channels, in_channels * 2)
        self.proj_out.weight.data.fill_(0.0)
        self.permutation = permutation
        self.register_buffer('attn_mask', torch.tril(torch.ones(num_patches, num_patches)))

    def add_class(self, x, y):
        if self.class_embed is None:
            return x
        if y is None:
            return x + self.class_embed.mean(dim=0)
        m = (y < 0).float().view(-1, 1, 1)
        return x + (1 - m) * self.class_embed[y.clamp(min=0)] + m * self.class_embed.mean(dim=0)

    def forward(self, x, y=None):
        x = self.permutation(x)
        pos_embed = self.permutation(self.pos_embed, dim=0)
        x_in = x
        x = self.add_class(self.proj_in(x) + pos_embed, y)
        for block in self.attn_blocks:
            x = block(x, self.attn_mask)
        x = self.proj_out(x)
        x = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
        xa, xb = x.chunk(2, dim=-1)
        scale = (-xa.float()).exp().type(xa.dtype)
        return self.permutation((x_in - xb) * scale, inverse=True), -xa.mean(dim=[1, 2])

    def reverse_step(self, x, pos_embed, i, y, attn_temp=1.0):
        # Uncached: the whole prefix 0..i, keeping the output at i.
        h = self.add_class(self.proj_in(x[:, : i + 1]) + pos_embed[: i + 1], y)
        mask = self.attn_mask[: i + 1, : i + 1]
        for block in self.attn_blocks:
            h = block(h, mask, attn_temp)
        h = self.proj_out(h)[:, i : i + 1]
        return h.chunk(2, dim=-1)

    def reverse(self, x, y=None, guidance=0, attn_temp=1.0):
        x = self.permutation(x).clone()
        pos_embed = self.permutation(self.pos_embed, dim=0)
        T = x.size(1)
        for i in range(T - 1):
            za, zb = self.reverse_step(x, pos_embed, i, y)
            if guidance > 0:
                za_u, zb_u = self.reverse_step(x, pos_embed, i, None, attn_temp=attn_temp)
                g = (i + 1) / (T - 1) * guidance  # annealed_guidance=True
                za = za + g * (za - za_u)
                zb = zb + g * (zb - zb_u)
            x[:, i + 1] = x[:, i + 1] * za[:, 0].exp() + zb[:, 0]
        return self.permutation(x, inverse=True)


class Model(torch.nn.Module):
    def __init__(self, in_channels, img_size, patch_size, channels, num_blocks, layers_per_block,
                 head_dim, num_classes):
        super().__init__()
        self.img_size, self.patch_size = img_size, patch_size
        self.num_patches = (img_size // patch_size) ** 2
        permutations = [PermutationIdentity(), PermutationFlip()]
        self.blocks = torch.nn.ModuleList([
            MetaBlock(in_channels * patch_size ** 2, channels, self.num_patches, permutations[i % 2],
                      layers_per_block, head_dim, num_classes) for i in range(num_blocks)])

    def patchify(self, x):
        return F.unfold(x, self.patch_size, stride=self.patch_size).transpose(1, 2)

    def unpatchify(self, x):
        return F.fold(x.transpose(1, 2), (self.img_size, self.img_size), self.patch_size,
                      stride=self.patch_size)

    def forward(self, x, y=None):
        x = self.patchify(x)
        logdets = torch.zeros((), device=x.device)
        for block in self.blocks:
            x, logdet = block(x, y)
            logdets = logdets + logdet
        return x, logdets

    def get_loss(self, z, logdets):
        return 0.5 * z.pow(2).mean() - logdets.mean()

    def reverse(self, z, y=None, guidance=0, attn_temp=1.0):
        x = z
        for block in reversed(self.blocks):
            x = block.reverse(x, y, guidance, attn_temp)
        return self.unpatchify(x)


# ---- names: ml-tarflow -> flowtrain ---------------------------------------------------

CPP_NAMES = [
    ('.attention.norm.', '.attention_norm.'),
    ('.attention.proj.', '.attention.out.'),
    ('.mlp.norm.', '.mlp_norm.'),
    ('.mlp.main.0.', '.mlp.fc1.'),
    ('.mlp.main.2.', '.mlp.fc2.'),
]


def cpp_name(name):
    for old, new in CPP_NAMES:
        name = name.replace(old, new)
    return name


def cpp_value(name, tensor):
    # ml-tarflow keeps class_embed as [classes, 1, width] for broadcasting; flowtrain [classes, width].
    return tensor.squeeze(1) if name.endswith('class_embed') else tensor


def randomise(model):
    # Every parameter away from its init so each one has a visible gradient.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight'):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith('proj_out.weight'):
                p.copy_(0.05 * torch.randn_like(p))
            elif 'embed' in name or name.endswith('bias'):
                p.copy_(0.1 * torch.randn_like(p))


def write_case(h5, name, cfg, n, labels, guidance, attn_temp):
    torch.manual_seed(zlib.crc32(name.encode()))
    c, size, patch, width, blocks, layers, head_dim, classes = cfg
    model = Model(c, size, patch, width, blocks, layers, head_dim, classes)
    randomise(model)
    g = h5.create_group(name)
    g['config'] = np.array(cfg, dtype=np.int64)
    x = torch.randn(n, c, size, size) * 0.5
    y = torch.tensor(labels, dtype=torch.int64) if classes else None
    g['x'] = x.numpy()
    if y is not None:
        g['labels'] = y.numpy()

    z, logdets = model(x, y)
    dims = z[0].numel()
    loss = model.get_loss(z, logdets)
    loss.backward()
    g['z'] = z.detach().numpy()
    g['logdet'] = (logdets * dims).detach().numpy()
    g['loss'] = np.float32(loss.item())
    for pname, p in model.named_parameters():
        g['param/' + cpp_name(pname)] = cpp_value(pname, p.detach()).numpy()
        g['grad/' + cpp_name(pname)] = cpp_value(pname, p.grad).numpy()

    xg = x.clone().requires_grad_()
    zg, logdets_g = model(xg, y)
    log_prob = (-0.5 * zg.pow(2) - 0.5 * math.log(2 * math.pi)).sum(dim=[1, 2]) + logdets_g * dims
    log_prob.sum().backward()
    g['log_prob'] = log_prob.detach().numpy()
    g['x_grad'] = xg.grad.numpy()

    with torch.no_grad():
        rz = torch.randn_like(z)
        ry = torch.tensor([abs(v) % max(classes, 1) for v in labels], dtype=torch.int64) if classes else None
        g['reverse_z'] = rz.numpy()
        if ry is not None:
            g['reverse_labels'] = ry.numpy()
        g['reverse_guidance'] = np.float64(guidance)
        g['reverse_attn_temp'] = np.float64(attn_temp)
        g['reverse_x'] = model.reverse(rz, ry, guidance, attn_temp).numpy()


def main():
    torch.set_num_threads(2)
    # The golden fixtures run side by side on a fresh build: none may assume another made the folder.
    os.makedirs(os.path.dirname(os.path.abspath(sys.argv[1])), exist_ok=True)
    with h5py.File(sys.argv[1], 'w') as h5:
        # channels, image_size, patch_size, width, blocks, layers_per_block, head_dim, num_classes
        write_case(h5, 'conditional', [2, 4, 2, 32, 2, 2, 16, 3], 3, [2, -1, 0], 1.5, 1.0)
        write_case(h5, 'unconditional', [3, 6, 2, 32, 3, 1, 8, 0], 2, [0, 0], 1.5, 0.7)


if __name__ == '__main__':
    main()
