#!/usr/bin/python3
"""Golden data for framework/ode's parity test (tests/framework/ode_test.cpp) from torchdiffeq 0.2.4.

Usage: make_ode_golden.py OUT.h5   (Debian's /usr/bin/python3 with PYTHONPATH holding
cluster/install-deps.sh's PyPI oracles: torchdiffeq in /opt/flowtrain/python)

Direction: this script owns the weights. The field is a tanh MLP of the state and the
time on a two-tensor state (z, l), as a CNF integrates a sample and its log-density:
    dz/dt = W2 tanh(W1 [z, t] + b1) + b2,   dl/dt = -sum_j (dz/dt)_j^2 (per row).
torchdiffeq sees the state as the tuple (z, l), so its error norm is its mixed norm
(the largest per-tensor RMS), which framework/ode uses too. Its "rk4" is the 3/8 rule.

Layout (float64):
  z0 [N, D], l0 [N, 1], w1 [H, D+1], b1 [H], w2 [D, H], b2 [D]
  <case>/z1, <case>/l1, <case>/nfe (int64) and attributes method, t0, t1, rtol, atol,
      step_size, for the cases dopri5 (0 -> 1), dopri5_backward (1 -> 0), rk4, euler
      (step 0.05, 0 -> 1)
  adjoint/: wz [N, D], wl [N, 1] and the gradients of sum(z1 wz) + sum(l1 wl) by
      odeint_adjoint (dopri5, rtol = atol = adjoint_rtol = adjoint_atol = 1e-6, 0 -> 1):
      grad_z0, grad_l0, grad_w1, grad_b1, grad_w2, grad_b2; nfe_forward, nfe_backward
"""
import os
import sys

import h5py
import numpy as np
import torch

try:
    import torchdiffeq
except ImportError as error:
    sys.exit(f'make_ode_golden.py: {error}: run cluster/install-deps.sh (PyPI oracles in /opt/flowtrain/python)')

torch.set_default_dtype(torch.float64)
N, D, H = 4, 2, 16
TOL = 1e-6
STEP = 0.05


class Field(torch.nn.Module):
    def __init__(self, gen):
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.randn(H, D + 1, generator=gen))
        self.b1 = torch.nn.Parameter(0.5 * torch.randn(H, generator=gen))
        self.w2 = torch.nn.Parameter(torch.randn(D, H, generator=gen) / H ** 0.5)
        self.b2 = torch.nn.Parameter(0.5 * torch.randn(D, generator=gen))
        self.calls = 0

    def forward(self, t, state):
        self.calls += 1
        z, _ = state
        zt = torch.cat([z, t.reshape(1, 1).expand(z.shape[0], 1).to(z)], 1)
        dz = torch.tanh(zt @ self.w1.T + self.b1) @ self.w2.T + self.b2
        return dz, -(dz * dz).sum(1, keepdim=True)


def main(out_path):
    gen = torch.Generator().manual_seed(20261203)
    field = Field(gen)
    z0 = torch.randn(N, D, generator=gen)
    l0 = torch.randn(N, 1, generator=gen)
    cases = {
        'dopri5': dict(method='dopri5', t0=0.0, t1=1.0, options=None),
        'dopri5_backward': dict(method='dopri5', t0=1.0, t1=0.0, options=None),
        'rk4': dict(method='rk4', t0=0.0, t1=1.0, options={'step_size': STEP}),
        'euler': dict(method='euler', t0=0.0, t1=1.0, options={'step_size': STEP}),
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with h5py.File(out_path, 'w') as f:
        for name, value in (('z0', z0), ('l0', l0), ('w1', field.w1), ('b1', field.b1), ('w2', field.w2),
                            ('b2', field.b2)):
            f[name] = value.detach().numpy()
        for name, case in cases.items():
            field.calls = 0
            with torch.no_grad():
                z, l = torchdiffeq.odeint(field, (z0, l0), torch.tensor([case['t0'], case['t1']]), rtol=TOL, atol=TOL,
                                          method=case['method'], options=case['options'])
            g = f.create_group(name)
            g['z1'], g['l1'] = z[-1].numpy(), l[-1].numpy()
            g['nfe'] = np.int64(field.calls)
            g.attrs['method'] = np.bytes_(case['method'])  # fixed-length ASCII, as the C++ reader wants
            g.attrs['t0'], g.attrs['t1'] = case['t0'], case['t1']
            g.attrs['rtol'] = g.attrs['atol'] = TOL
            g.attrs['step_size'] = STEP if case['options'] else 0.0

        wz = torch.randn(N, D, generator=gen)
        wl = torch.randn(N, 1, generator=gen)
        z0g, l0g = z0.clone().requires_grad_(True), l0.clone().requires_grad_(True)
        field.calls = 0
        z, l = torchdiffeq.odeint_adjoint(field, (z0g, l0g), torch.tensor([0.0, 1.0]), rtol=TOL, atol=TOL,
                                          method='dopri5', adjoint_rtol=TOL, adjoint_atol=TOL,
                                          adjoint_params=tuple(field.parameters()))
        nfe_forward = field.calls
        field.calls = 0
        loss = (z[-1] * wz).sum() + (l[-1] * wl).sum()
        grads = torch.autograd.grad(loss, (z0g, l0g, field.w1, field.b1, field.w2, field.b2))
        g = f.create_group('adjoint')
        g['wz'], g['wl'] = wz.numpy(), wl.numpy()
        for name, value in zip(('grad_z0', 'grad_l0', 'grad_w1', 'grad_b1', 'grad_w2', 'grad_b2'), grads):
            g[name] = value.numpy()
        g['nfe_forward'], g['nfe_backward'] = np.int64(nfe_forward), np.int64(field.calls)
    print(f'make_ode_golden.py: wrote {out_path}')


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: make_ode_golden.py OUT.h5')
    main(sys.argv[1])
