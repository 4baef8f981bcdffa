#!/usr/bin/python3
"""Golden data for the flow library's parity test (tests/layers/flows_parity_test.cpp).

Usage: make_flows_golden.py OUT.h5   (Debian's /usr/bin/python3 with PYTHONPATH holding
cluster/install-deps.sh's PyPI oracles: nflows 0.14, normflows 1.7.3)

Direction: this script owns the weights. It builds the real libraries' transforms
(nflows' MaskedAffineAutoregressiveTransform, AffineCouplingTransform and the
rational-quadratic spline coupling and autoregressive transforms with linear tails, normflows'
Planar and Radial), gives every parameter seeded N(0, 0.5^2) values, runs them in
float64 and writes each parameter under the C++ state_dict name with the input,
the context, forward's output and log-determinant and (nflows) inverse's. nflows'
forward maps data to noise, as flowtrain's; normflows' planar and radial forward is
their explicit map, flowtrain's forward too. normflows' Residual: see write_residual_case.

Layout, one group per case (float64):
  x, context (conditional cases), z, logabsdet, x_inverse, logabsdet_inverse (nflows)
  param_count    int64 [] number of parameters written
  param/<name>   every parameter, C++ name
"""
import os
import sys

import h5py
import numpy as np
import torch

try:
    from nflows.transforms.autoregressive import MaskedAffineAutoregressiveTransform
    from nflows.transforms.autoregressive import MaskedPiecewiseRationalQuadraticAutoregressiveTransform
    from nflows.transforms.coupling import AffineCouplingTransform, PiecewiseRationalQuadraticCouplingTransform
    from nflows.utils.torchutils import create_alternating_binary_mask
    from normflows.flows.planar import Planar
    from normflows.flows.radial import Radial
    from normflows.flows.residual import Residual
    from normflows.nets.lipschitz import LipschitzMLP
    from normflows.utils.optim import update_lipschitz
except ImportError as error:
    sys.exit(f'make_flows_golden.py: {error}: run cluster/install-deps.sh (PyPI oracles in /opt/flowtrain/python)')

N = 6
torch.set_default_dtype(torch.float64)


class DenseNetwork(torch.nn.Module):
    """flowtrain's DenseNetwork: Linear -> ReLU -> ... -> Linear of concat(x, context)."""

    def __init__(self, in_features, out_features, context_features, hidden, hidden_layers):
        super().__init__()
        self.hidden_features = hidden  # nflows reads it (spline scaling); harmless here
        widths = [in_features + context_features] + [hidden] * hidden_layers + [out_features]
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x, context=None):
        h = x if context is None else torch.cat([x, context], 1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i + 1 < len(self.layers):
                h = torch.relu(h)
        return h


def randomise(module, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen))


def maf_names(made, hidden_layers, context):
    names = {'made.0': made.initial_layer}
    for i in range(1, hidden_layers):
        names[f'made.{i}'] = made.blocks[i - 1].linear
    names[f'made.{hidden_layers}'] = made.final_layer
    if context:
        names['made.context_layer'] = made.context_layer
    return {f'{k}.{p}': getattr(m, p) for k, m in names.items() for p in ('weight', 'bias')}


def maf_case(features, hidden, blocks, context):
    t = MaskedAffineAutoregressiveTransform(features=features, hidden_features=hidden,
                                            context_features=context or None, num_blocks=blocks,
                                            use_residual_blocks=False)
    randomise(t, 1 + context)
    return t, maf_names(t.autoregressive_net, blocks + 1, context), True


def coupling_case(features, hidden, hidden_layers, context, even):
    mask = create_alternating_binary_mask(features, even=even)
    t = AffineCouplingTransform(mask, lambda i, o: DenseNetwork(i, o, context, hidden, hidden_layers))
    randomise(t, 3 + context)
    names = {f'conditioner.{i}.{p}': getattr(layer, p)
             for i, layer in enumerate(t.transform_net.layers) for p in ('weight', 'bias')}
    return t, names, True


def spline_coupling_case(features, hidden, hidden_layers, context, bins, bound):
    mask = create_alternating_binary_mask(features, even=True)
    t = PiecewiseRationalQuadraticCouplingTransform(
        mask, lambda i, o: DenseNetwork(i, o, context, hidden, hidden_layers), num_bins=bins, tails='linear',
        tail_bound=bound)
    randomise(t, 7 + context)
    names = {f'conditioner.{i}.{p}': getattr(layer, p)
             for i, layer in enumerate(t.transform_net.layers) for p in ('weight', 'bias')}
    return t, names, True


def spline_autoregressive_case(features, hidden, blocks, context, bins, bound):
    t = MaskedPiecewiseRationalQuadraticAutoregressiveTransform(
        features=features, hidden_features=hidden, context_features=context or None, num_bins=bins, tails='linear',
        tail_bound=bound, num_blocks=blocks, use_residual_blocks=False)
    randomise(t, 9 + context)
    return t, maf_names(t.autoregressive_net, blocks + 1, context), True


def planar_case(features):
    t = Planar((features,))
    randomise(t, 5)
    return t, {'u': t.u.reshape(-1), 'w': t.w.reshape(-1), 'b': t.b}, False


def radial_case(features):
    t = Radial((features,))
    randomise(t, 6)
    return t, {'x0': t.z_0.reshape(-1), 'alpha': t.alpha, 'beta': t.beta}, False


CASES = {
    # name: (builder, features, context features)
    'maf': (lambda: maf_case(4, 8, 1, 0), 4, 0),
    'maf_conditional': (lambda: maf_case(4, 8, 2, 3), 4, 3),
    'affine_coupling': (lambda: coupling_case(5, 7, 2, 0, False), 5, 0),
    'affine_coupling_conditional': (lambda: coupling_case(5, 7, 1, 3, True), 5, 3),
    # Tail bound 1.5 with N(0, 1) inputs: elements on both sides of the tails.
    'spline_coupling': (lambda: spline_coupling_case(5, 7, 2, 0, 4, 1.5), 5, 0),
    'spline_coupling_conditional': (lambda: spline_coupling_case(5, 7, 1, 3, 5, 1.5), 5, 3),
    'spline_autoregressive': (lambda: spline_autoregressive_case(4, 8, 1, 0, 4, 1.5), 4, 0),
    'spline_autoregressive_conditional': (lambda: spline_autoregressive_case(4, 8, 1, 3, 3, 1.5), 4, 3),
    'planar': (lambda: planar_case(4), 4, 0),
    'radial': (lambda: radial_case(4), 4, 0),
}


def residual_names(residual):
    """normflows' Residual(LipschitzMLP) under flowtrain's names: [Swish, linear] pairs."""
    layers = residual.iresblock.nnet.net
    params, buffers = {}, {}
    for i in range(len(layers) // 2):
        params[f'net.activations.{i}.beta'] = layers[2 * i].beta
        params[f'net.layers.{i}.weight'] = layers[2 * i + 1].weight
        params[f'net.layers.{i}.bias'] = layers[2 * i + 1].bias
        buffers[f'net.layers.{i}.u'] = layers[2 * i + 1].u
        buffers[f'net.layers.{i}.v'] = layers[2 * i + 1].v
    return params, buffers


def write_residual_case(h5):
    """Residual flows' exact log-determinant (normflows' brute_force path, 2-D), in eval
    mode: y = x + g(x) forward as flowtrain's, the inverse by fixed-point iteration.
    The power-iteration vectors u, v are converged after the weights are drawn and
    written as buffers: the map depends on them."""
    residual = Residual(LipschitzMLP([2, 16, 2], lipschitz_const=0.97), reverse=False, brute_force=True)
    net = residual.iresblock.nnet
    randomise(net, 11)
    update_lipschitz(net, 500)
    residual.eval()
    gen = torch.Generator().manual_seed(101)
    x = 2.0 * torch.randn(N, 2, generator=gen)
    z, logabsdet = residual.forward(x.clone())
    x_inverse, logabsdet_inverse = residual.inverse(z.detach().clone())
    params, buffers = residual_names(residual)
    g = h5.create_group('residual')
    g['x'] = x.numpy()
    g['z'] = z.detach().numpy()
    g['logabsdet'] = logabsdet.detach().reshape(-1).numpy()
    g['x_inverse'] = x_inverse.detach().numpy()
    g['logabsdet_inverse'] = logabsdet_inverse.detach().reshape(-1).numpy()
    g['param_count'] = np.int64(len(params))
    for name, p in params.items():
        g['param/' + name] = p.detach().reshape(-1).numpy() if name.endswith('beta') else p.detach().numpy()
    for name, b in buffers.items():
        g['buffer/' + name] = b.detach().numpy()


def write_case(h5, name, build, features, context_features):
    transform, params, nflows_api = build()
    gen = torch.Generator().manual_seed(100)
    x = torch.randn(N, features, generator=gen)
    context = torch.randn(N, context_features, generator=gen) if context_features else None
    g = h5.create_group(name)
    with torch.no_grad():
        if nflows_api:
            z, logabsdet = transform(x, context)
            x_inverse, logabsdet_inverse = transform.inverse(z, context)
            g['x_inverse'] = x_inverse.numpy()
            g['logabsdet_inverse'] = logabsdet_inverse.numpy()
        else:
            z, logabsdet = transform(x)
    g['x'] = x.numpy()
    if context is not None:
        g['context'] = context.numpy()
    g['z'] = z.numpy()
    g['logabsdet'] = logabsdet.reshape(-1).numpy()
    g['param_count'] = np.int64(len(params))
    for pname, p in params.items():
        g['param/' + pname] = p.detach().numpy()


def main():
    out = sys.argv[1]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    with h5py.File(tmp, 'w') as h5:
        for name, (build, features, context_features) in CASES.items():
            write_case(h5, name, build, features, context_features)
        write_residual_case(h5)
    os.replace(tmp, out)


if __name__ == '__main__':
    main()
