#include <cmath>

#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"
#include "framework/precision/autocast.h"

namespace ft {

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  Tensor mean_rows, rstd_rows;
  Tensor y = kernels::layer_norm(x, weight.defined() ? weight.detach() : Tensor(),
                                 bias.defined() ? bias.detach() : Tensor(), eps, &mean_rows, &rstd_rows);
  std::vector<Tensor> inputs{x};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  record("layer_norm", y, inputs,
         [xs = x.detach(), ws = weight.defined() ? weight.detach() : Tensor(), has_bias = bias.defined(), mean_rows,
          rstd_rows](const Tensor& g) {
           Tensor gx, gw, gb;
           kernels::layer_norm_backward(g, xs, ws, mean_rows, rstd_rows, &gx, &gw, &gb);
           std::vector<Tensor> grads{gx};
           if (ws.defined()) grads.push_back(gw);
           if (has_bias) grads.push_back(gb);
           return grads;
         });
  return y;
}

Tensor channel_affine(const Tensor& x, const Tensor& shift, const Tensor& log_scale) {
  Tensor y = kernels::channel_affine(x, shift.detach(), log_scale.detach());
  record("channel_affine", y, {x, shift, log_scale},
         [ys = y.detach(), ls = log_scale.detach(), shift_shape = shift.shape()](const Tensor& g) {
           Tensor gx, gb, gs;
           kernels::channel_affine_backward(g, ys, ls, &gx, &gb, &gs);
           return std::vector<Tensor>{gx, gb.reshape(shift_shape), gs.reshape(ls.shape())};
         });
  return y;
}

Tensor softmax(const Tensor& x, int64_t dim) {
  int d = normalize_dim(dim, x.shape().size());
  if (d != x.dim() - 1) return softmax(x.transpose(d, -1), -1).transpose(d, -1);
  Tensor y = kernels::softmax(x);
  record("softmax", y, {x}, [ys = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{kernels::softmax_backward(ys, g)};
  });
  return y;
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor shift = kernels::max(x.detach(), dim, true, nullptr);  // constant: no gradient needed
  Tensor centered = sub(x, shift);
  return sub(centered, log(sum(exp(centered), {dim}, true)));
}

Tensor causal_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, double scale) {
  Tensor q = autocast_input(q_in).contiguous(), k = autocast_input(k_in).contiguous(),
         v = autocast_input(v_in).contiguous();
  if (scale == 0.0) scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor lse;
  Tensor y = kernels::causal_attention(q.detach(), k.detach(), v.detach(), scale, &lse);
  record("causal_attention", y, {q, k, v},
         [qs = q.detach(), ks = k.detach(), vs = v.detach(), ys = y.detach(), lse, scale](const Tensor& g) {
           Tensor gq, gk, gv;
           kernels::causal_attention_backward(qs, ks, vs, ys, lse, g, scale, &gq, &gk, &gv);
           return std::vector<Tensor>{gq, gk, gv};
         });
  return y;
}

}  // namespace ft
