#!/usr/bin/python3
"""Golden data for the optimizer parity tests (tests/optim/optim_parity_test.cpp).

Usage: make_optim_golden.py OUT.h5   (Debian's /usr/bin/python3: python3-torch, h5py, numpy)

torch.optim (f32, CPU, the single-tensor path) runs each optimizer for STEPS steps
on one parameter vector with fixed random gradients and a LambdaLR warmup+cosine
learning rate; clip_grad_norm_ clips a few gradient sets; LambdaLR records the
warmup+cosine values of a few schedules. Layout, one group per case:

  /optim_<case>/hyper        f64 [kind (0 adam, 1 adamw, 2 adamax), beta1, beta2, eps, weight_decay]
  /optim_<case>/params0      f32 [n]        parameters before the first step
  /optim_<case>/grads        f32 [STEPS, n] gradient of each step
  /optim_<case>/lr           f64 [STEPS]    learning rate of each step
  /optim_<case>/params       f32 [STEPS, n] parameters after each step
  /optim_<case>/exp_avg, exp_avg_sq (adam, adamw) | exp_avg, exp_inf (adamax)
                             f32 [STEPS, n] optimizer state after each step
  /clip_<case>/grads         f32 [n]  the gradients of several parameters, concatenated
  /clip_<case>/norm          f64 [max_norm, total_norm returned by clip_grad_norm_]
  /clip_<case>/clipped       f32 [n]  the gradients after clipping
  /schedule_<case>/config    f64 [lr, min_lr, warmup_start_lr, warmup_steps, total_steps, kind (0 cosine, 1 constant)]
  /schedule_<case>/lr        f64 [total_steps + 5] the learning rate of steps 0.. (past the end too)

Every case is seeded from its own name, so adding a case never changes the others.
The file is written under a temporary name and renamed, so a reader never sees a
partial file.
"""
import math
import os
import sys
import zlib

import h5py
import numpy as np
import torch

STEPS = 25
N = 257  # odd, so no vector width divides it

# name: (kind, betas, eps, weight_decay)
OPTIMIZERS = {
    'adam_default': ('adam', (0.9, 0.999), 1e-8, 0.0),
    'adam_wd': ('adam', (0.8, 0.99), 1e-6, 0.1),
    'adamw_default': ('adamw', (0.9, 0.999), 1e-8, 0.0),
    'adamw_wd': ('adamw', (0.9, 0.95), 1e-8, 0.05),
    'adamw_strong_wd': ('adamw', (0.5, 0.9), 1e-7, 0.5),
    'adamax_default': ('adamax', (0.9, 0.999), 1e-8, 0.0),
    'adamax_wd': ('adamax', (0.95, 0.99), 1e-7, 0.01),
    'adamax_glow': ('adamax', (0.9, 0.9999), 1e-8, 0.0),
}
KINDS = {'adam': (0, torch.optim.Adam), 'adamw': (1, torch.optim.AdamW), 'adamax': (2, torch.optim.Adamax)}

# name: (max_norm, sizes of the parameters, gradient scale)
CLIPS = {
    'clipped': (1.0, [7, 64, 3, 100], 1.0),
    'unclipped': (100.0, [7, 64, 3, 100], 1.0),
    'tiny_max': (1e-3, [50, 50], 3.0),
    'small_grads': (0.5, [1, 200], 1e-3),
}

# name: (lr, min_lr, warmup_start_lr, warmup_steps, total_steps, kind)
SCHEDULES = {
    'warmup_cosine': (1e-3, 1e-5, 0.0, 10, 60, 'cosine'),
    'warmup_from_start_lr': (3e-4, 0.0, 1e-5, 7, 40, 'cosine'),
    'cosine_no_warmup': (2e-3, 2e-4, 0.0, 0, 33, 'cosine'),
    'constant_warmup': (5e-4, 0.0, 0.0, 4, 20, 'constant'),
    'constant': (1e-3, 0.0, 0.0, 0, 10, 'constant'),
}


def seed_for(name):
    # crc32 rather than hash(): Python salts str hashes per process.
    torch.manual_seed(zlib.crc32(name.encode()))


def schedule_value(step, lr, min_lr, warmup_start_lr, warmup_steps, total_steps, kind):
    """The learning rate of the update at 0-based `step`: the formula the C++ must reproduce."""
    if step < warmup_steps:
        return warmup_start_lr + (lr - warmup_start_lr) * step / warmup_steps
    if kind == 'constant':
        return lr
    span = total_steps - warmup_steps
    progress = min(1.0, (step - warmup_steps) / span) if span > 0 else 1.0
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def lambda_lr_values(params, count, schedule):
    """Learning rates seen by the optimizer through torch's LambdaLR, steps 0..count-1."""
    base = schedule[0]
    opt = torch.optim.SGD(params, lr=base)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: schedule_value(step, *schedule) / base)
    values = []
    for _ in range(count):
        values.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    return values


def gradients(steps, n):
    # Magnitudes over four decades, and some exact zeros (a parameter unused by a batch).
    scale = 10.0 ** (torch.rand(steps, n) * 4 - 3)
    grads = torch.randn(steps, n) * scale
    grads[torch.rand(steps, n) < 0.05] = 0.0
    return grads


def write_optimizer_case(h5, name, kind, betas, eps, weight_decay):
    seed_for(name)
    params0 = torch.randn(N)
    grads = gradients(STEPS, N)
    param = torch.nn.Parameter(params0.clone())
    kind_id, cls = KINDS[kind]
    opt = cls([param], lr=1e-2, betas=betas, eps=eps, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: schedule_value(step, 1e-2, 1e-4, 1e-3, 5, STEPS, 'cosine') / 1e-2)
    second = 'exp_inf' if kind == 'adamax' else 'exp_avg_sq'
    lrs, history = [], {'params': [], 'exp_avg': [], second: []}
    for step in range(STEPS):
        lrs.append(opt.param_groups[0]['lr'])
        param.grad = grads[step].clone()
        opt.step()
        sched.step()
        state = opt.state[param]
        history['params'].append(param.detach().clone())
        history['exp_avg'].append(state['exp_avg'].clone())
        history[second].append(state[second].clone())
    g = h5.create_group('optim_' + name)
    g['hyper'] = np.array([kind_id, betas[0], betas[1], eps, weight_decay], dtype=np.float64)
    g['params0'] = params0.numpy()
    g['grads'] = grads.numpy()
    g['lr'] = np.array(lrs, dtype=np.float64)
    for key, values in history.items():
        g[key] = torch.stack(values).numpy()


def write_clip_case(h5, name, max_norm, sizes, scale):
    seed_for(name)
    params = [torch.nn.Parameter(torch.zeros(size)) for size in sizes]
    for p in params:
        p.grad = torch.randn(p.shape) * scale
    grads = torch.cat([p.grad.clone() for p in params])
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    g = h5.create_group('clip_' + name)
    g['grads'] = grads.numpy()
    g['norm'] = np.array([max_norm, float(total)], dtype=np.float64)
    g['clipped'] = torch.cat([p.grad for p in params]).numpy()


def write_schedule_case(h5, name, schedule):
    lr, min_lr, warmup_start_lr, warmup_steps, total_steps, kind = schedule
    values = lambda_lr_values([torch.nn.Parameter(torch.zeros(1))], total_steps + 5, schedule)
    g = h5.create_group('schedule_' + name)
    g['config'] = np.array([lr, min_lr, warmup_start_lr, warmup_steps, total_steps,
                            0 if kind == 'cosine' else 1], dtype=np.float64)
    g['lr'] = np.array(values, dtype=np.float64)


def main():
    torch.set_num_threads(2)
    out = sys.argv[1]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + '.tmp%d' % os.getpid()
    with h5py.File(tmp, 'w') as h5:
        for name, (kind, betas, eps, wd) in OPTIMIZERS.items():
            write_optimizer_case(h5, name, kind, betas, eps, wd)
        for name, (max_norm, sizes, scale) in CLIPS.items():
            write_clip_case(h5, name, max_norm, sizes, scale)
        for name, schedule in SCHEDULES.items():
            write_schedule_case(h5, name, schedule)
    os.replace(tmp, out)


if __name__ == '__main__':
    main()
