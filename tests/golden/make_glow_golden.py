#!/usr/bin/python3
"""Golden data for the Glow parity test (tests/layers/glow_parity_test.cpp).

Usage: make_glow_golden.py OUT.h5   (Debian's /usr/bin/python3: python3-torch, h5py, numpy)

Direction: this script owns the weights. It builds tiny Glow models written out
in PyTorch from the semantics of openai/glow (model.py: squeeze2d, actnorm,
invertible_1x1_conv / its LU variant, affine and additive coupling with f() =
conv3x3 -> actnorm -> relu -> conv1x1 -> actnorm -> relu -> conv2d_zeros,
split2d with split2d_prior, learned and class-conditional top prior), in NCHW,
independently of the C++ code. Every parameter gets seeded random values, the
zero-initialised layers included (they would make every coupling an identity and
every prior a standard normal, so their paths would go untested), and is written
under the C++ state_dict name. The C++ test loads them with load_state_dict and
compares.

Conventions shared with the C++ model (flowtrain's, stated in DESIGN.md §3):
  * squeeze: space-to-depth 2x2, output channel = c*4 + dy*2 + dx;
  * the 1x1 convolution computes y = W x per pixel (W as the [out, in] conv
    kernel; openai/glow's TF kernel computes x W, the transpose: a naming
    convention of the parameter only);
  * LU form W = P (L*strict_lower + I)(U*strict_upper + diag(sign_s*exp(log_s))):
    lower/upper are full matrices whose masked-out entries get zero gradient;
  * no edge-padding channel in the 3x3 convolutions (openai/glow's
    add_edge_padding): zero "same" padding.

Loss: loss = -mean_n(log_prob[n]) / D with D = C*H*W, i.e. the negative
log-likelihood in nats per dimension in model space, without the constant
D*log(bins) dequantisation term (it has no gradient). The C++ test computes the
same from its log_prob.

Layout, one group per case (float32 unless noted):
  config          int64 [channels, image_size, levels, depth, width,
                  coupling (0 affine, 1 additive), permutation (0 lu, 1 plain),
                  learn_top (0/1), num_classes]
  x               [N, C, H, W] model-space input, uniform in [-0.5, 0.5)
  labels          int64 [N] (class-conditional cases only)
  log_prob        [N] log p(x) = sum of log-determinants + split priors + top prior
  latent_<i>      standardised noise (z - mean) * exp(-logs) of split i, then the top
  loss            [] as above
  param_count     int64 [] number of parameters written
  param/<name>    every parameter, C++ name
  buffer/<name>   every buffer (ActNorm `initialized` = 1, LU permutation, sign_s)
  grad/<name>     d loss / d parameter
"""
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

N = 4
LOG_2PI = math.log(2.0 * math.pi)

CASES = {
    # name: channels, image_size, levels, depth, width, coupling, permutation, learn_top, num_classes
    'affine_lu': dict(channels=3, image_size=8, levels=2, depth=2, width=8,
                      coupling='affine', permutation='lu', learn_top=True, num_classes=0),
    # Three levels reach a 1x1 top (3x3 convolutions that see padding only) and
    # two splits; no learned top exercises the fixed standard-normal prior.
    'additive_plain': dict(channels=2, image_size=8, levels=3, depth=2, width=8,
                           coupling='additive', permutation='plain', learn_top=False, num_classes=0),
    'affine_lu_conditional': dict(channels=3, image_size=8, levels=2, depth=2, width=8,
                                  coupling='affine', permutation='lu', learn_top=True, num_classes=3),
}


# ---- parameter names and random values ----------------------------------------------

def parameter_shapes(cfg):
    """(name, shape) of every parameter, and of every buffer, in C++ registration order."""
    params, buffers = [], []
    channels, width = cfg['channels'] * 4, cfg['width']
    for i in range(cfg['levels']):
        for k in range(cfg['depth']):
            s = f'levels.{i}.steps.{k}.'
            params += [(s + 'actnorm.bias', (1, channels, 1, 1)), (s + 'actnorm.logs', (1, channels, 1, 1))]
            buffers += [(s + 'actnorm.initialized', ())]
            if cfg['permutation'] == 'lu':
                params += [(s + 'invconv.lower', (channels, channels)), (s + 'invconv.upper', (channels, channels)),
                           (s + 'invconv.log_s', (channels,))]
                buffers += [(s + 'invconv.permutation', (channels, channels)), (s + 'invconv.sign_s', (channels,))]
            else:
                params += [(s + 'invconv.weight', (channels, channels))]
            out = channels if cfg['coupling'] == 'affine' else channels // 2
            n = s + 'coupling.network.'
            params += [(n + 'conv1.weight', (width, channels // 2, 3, 3)),
                       (n + 'norm1.bias', (1, width, 1, 1)), (n + 'norm1.logs', (1, width, 1, 1)),
                       (n + 'conv2.weight', (width, width, 1, 1)),
                       (n + 'norm2.bias', (1, width, 1, 1)), (n + 'norm2.logs', (1, width, 1, 1)),
                       (n + 'out.weight', (out, width, 3, 3)), (n + 'out.bias', (out,)), (n + 'out.logs', (out,))]
            buffers += [(n + 'norm1.initialized', ()), (n + 'norm2.initialized', ())]
        if i + 1 < cfg['levels']:
            kept = channels // 2
            p = f'levels.{i}.split_prior.conv.'
            params += [(p + 'weight', (2 * kept, kept, 3, 3)), (p + 'bias', (2 * kept,)), (p + 'logs', (2 * kept,))]
            channels *= 2
    if cfg['learn_top']:
        params += [('top_prior.conv.weight', (2 * channels, 2 * channels, 3, 3)),
                   ('top_prior.conv.bias', (2 * channels,)), ('top_prior.conv.logs', (2 * channels,))]
    if cfg['num_classes'] > 0:
        params += [('top_prior.label_embedding.weight', (2 * channels, cfg['num_classes'])),
                   ('top_prior.label_embedding.bias', (2 * channels,))]
    return params, buffers


def random_value(name, shape, gen):
    """Non-degenerate values: moderate scales so every path carries signal and gradient."""
    def normal(std):
        return torch.randn(shape, generator=gen) * std

    last = name.rsplit('.', 2)
    module, leaf = last[-2], last[-1]
    if module in ('actnorm', 'norm1', 'norm2'):
        return normal(0.2 if leaf == 'bias' else 0.15)
    if module == 'invconv':
        if leaf in ('lower', 'upper'):
            return normal(0.3)  # full matrices: the masked-out entries must not matter
        if leaf == 'log_s':
            return normal(0.2)
        # plain W: an orthogonal Q plus noise, so log|det W| is not zero
        q, _ = torch.linalg.qr(torch.randn(shape, generator=gen, dtype=torch.float64))
        return (q + 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)).float()
    if module in ('conv1', 'conv2'):  # nn::Conv2d's own init range
        bound = 1.0 / math.sqrt(shape[1] * shape[2] * shape[3])
        return (torch.rand(shape, generator=gen) * 2.0 - 1.0) * bound
    if module in ('out', 'conv'):  # Conv2dZeros: zero at init, small here
        return normal({'weight': 0.05, 'bias': 0.1, 'logs': 0.1}[leaf])
    if module == 'label_embedding':
        return normal(0.1)
    raise ValueError(f'no initialiser for {name}')


def random_buffer(name, shape, gen):
    if name.endswith('.initialized'):
        return torch.ones(shape)  # no data-dependent initialisation in the comparison
    if name.endswith('.permutation'):
        return torch.eye(shape[0])[torch.randperm(shape[0], generator=gen)]
    if name.endswith('.sign_s'):
        return torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0)
    raise ValueError(f'no initialiser for buffer {name}')


# ---- openai/glow's model, functional, NCHW ------------------------------------------

def squeeze2d(x):
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * 4, h // 2, w // 2)


def actnorm(x, p, prefix):
    logs = p[prefix + '.logs']
    y = (x + p[prefix + '.bias']) * torch.exp(logs)
    return y, x.shape[2] * x.shape[3] * logs.sum()


def conv2d_zeros(x, p, prefix):
    y = F.conv2d(x, p[prefix + '.weight'], p[prefix + '.bias'], padding=1)
    return y * torch.exp(p[prefix + '.logs'] * 3.0).view(1, -1, 1, 1)


def invconv(x, p, b, prefix, form):
    c = x.shape[1]
    pixels = x.shape[2] * x.shape[3]
    if form == 'lu':
        eye = torch.eye(c)
        lower = p[prefix + '.lower'] * torch.tril(torch.ones(c, c), -1) + eye
        diag = torch.diag(b[prefix + '.sign_s'] * torch.exp(p[prefix + '.log_s']))
        upper = p[prefix + '.upper'] * torch.triu(torch.ones(c, c), 1) + diag
        w = b[prefix + '.permutation'] @ lower @ upper
        logdet = pixels * p[prefix + '.log_s'].sum()
    else:
        w = p[prefix + '.weight']
        # openai/glow computes log|det W| in float64
        logdet = pixels * torch.linalg.slogdet(w.double())[1].float()
    return F.conv2d(x, w.view(c, c, 1, 1)), logdet


def coupling_nn(x, p, prefix):
    h = F.conv2d(x, p[prefix + '.conv1.weight'], padding=1)
    h = F.relu(actnorm(h, p, prefix + '.norm1')[0])
    h = F.conv2d(h, p[prefix + '.conv2.weight'])
    h = F.relu(actnorm(h, p, prefix + '.norm2')[0])
    return conv2d_zeros(h, p, prefix + '.out')


def coupling(x, p, prefix, kind):
    c = x.shape[1]
    xa, xb = x[:, :c // 2], x[:, c // 2:]
    h = coupling_nn(xa, p, prefix + '.network')
    if kind == 'additive':
        return torch.cat([xa, xb + h], 1), torch.zeros(x.shape[0])
    shift, pre = h[:, 0::2], h[:, 1::2] + 2.0
    yb = (xb + shift) * torch.sigmoid(pre)
    return torch.cat([xa, yb], 1), F.logsigmoid(pre).sum([1, 2, 3])


def gaussian_logp(x, mean, logs):
    return (-0.5 * (LOG_2PI + 2.0 * logs + (x - mean) ** 2 * torch.exp(-2.0 * logs))).sum([1, 2, 3])


def glow_forward(cfg, p, b, x, labels):
    n = x.shape[0]
    z = squeeze2d(x)
    log_prob = torch.zeros(n)
    latents = []
    for i in range(cfg['levels']):
        for k in range(cfg['depth']):
            s = f'levels.{i}.steps.{k}.'
            z, ld = actnorm(z, p, s + 'actnorm')
            log_prob = log_prob + ld
            z, ld = invconv(z, p, b, s + 'invconv', cfg['permutation'])
            log_prob = log_prob + ld
            z, ld = coupling(z, p, s + 'coupling', cfg['coupling'])
            log_prob = log_prob + ld
        if i + 1 < cfg['levels']:
            c = z.shape[1]
            z1, z2 = z[:, :c // 2], z[:, c // 2:]
            h = conv2d_zeros(z1, p, f'levels.{i}.split_prior.conv')
            mean, logs = h[:, 0::2], h[:, 1::2]
            log_prob = log_prob + gaussian_logp(z2, mean, logs)
            latents.append((z2 - mean) * torch.exp(-logs))
            z = squeeze2d(z1)
    c = z.shape[1]
    h = torch.zeros(n, 2 * c, z.shape[2], z.shape[3])
    if cfg['learn_top']:
        h = conv2d_zeros(h, p, 'top_prior.conv')  # run on zeros, as openai/glow does
    if cfg['num_classes'] > 0:
        onehot = F.one_hot(labels, cfg['num_classes']).float()
        emb = F.linear(onehot, p['top_prior.label_embedding.weight'], p['top_prior.label_embedding.bias'])
        h = h + emb.view(n, 2 * c, 1, 1)
    mean, logs = h[:, :c], h[:, c:]
    log_prob = log_prob + gaussian_logp(z, mean, logs)
    latents.append((z - mean) * torch.exp(-logs))
    return log_prob, latents


# ---- writing ----------------------------------------------------------------------

def write_case(h5, name, cfg, seed):
    gen = torch.Generator().manual_seed(seed)
    param_shapes, buffer_shapes = parameter_shapes(cfg)
    params = {pn: random_value(pn, shape, gen).requires_grad_(True) for pn, shape in param_shapes}
    buffers = {bn: random_buffer(bn, shape, gen) for bn, shape in buffer_shapes}
    size = cfg['image_size']
    x = torch.rand(N, cfg['channels'], size, size, generator=gen) - 0.5
    labels = torch.randint(0, cfg['num_classes'], (N,), generator=gen) if cfg['num_classes'] > 0 else None

    log_prob, latents = glow_forward(cfg, params, buffers, x, labels)
    dims = cfg['channels'] * size * size
    loss = -log_prob.mean() / dims
    loss.backward()

    g = h5.create_group(name)
    g['config'] = np.array([cfg['channels'], size, cfg['levels'], cfg['depth'], cfg['width'],
                            0 if cfg['coupling'] == 'affine' else 1, 0 if cfg['permutation'] == 'lu' else 1,
                            int(cfg['learn_top']), cfg['num_classes']], dtype=np.int64)
    g['x'] = x.numpy()
    if labels is not None:
        g['labels'] = labels.numpy().astype(np.int64)
    g['log_prob'] = log_prob.detach().numpy()
    for i, latent in enumerate(latents):
        g[f'latent_{i}'] = latent.detach().numpy()
    g['loss'] = np.float32(loss.item())
    g['param_count'] = np.int64(len(params))
    for pn, t in params.items():
        g[f'param/{pn}'] = t.detach().numpy()
        g[f'grad/{pn}'] = t.grad.numpy()
    for bn, t in buffers.items():
        g[f'buffer/{bn}'] = t.numpy()
    print(f'{name}: {len(params)} parameters, loss {loss.item():.6f}, '
          f'log_prob {[round(v, 3) for v in log_prob.tolist()]}')


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = sys.argv[1]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    # Written under a temporary name and renamed: a killed run never leaves a
    # truncated file that the C++ test would read.
    with h5py.File(tmp, 'w') as h5:
        for seed, (name, cfg) in enumerate(CASES.items()):
            write_case(h5, name, cfg, 1000 + seed)
    os.replace(tmp, out)


if __name__ == '__main__':
    main()
