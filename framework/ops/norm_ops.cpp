#include <cmath>

#include "framework/autograd/grad.h"
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
  record(
      "layer_norm", y, inputs,
      [xs = x.detach(), ws = weight.defined() ? weight.detach() : Tensor(), has_bias = bias.defined(), mean_rows,
       rstd_rows](const Tensor& g) {
        Tensor gx, gw, gb;
        kernels::layer_norm_backward(g, xs, ws, mean_rows, rstd_rows, &gx, &gw, &gb);
        std::vector<Tensor> grads{gx};
        if (ws.defined()) grads.push_back(gw);
        if (has_bias) grads.push_back(gb);
        return grads;
      },
      [x, weight, bias, eps](const Tensor& g) {
        auto composite = [eps](const std::vector<Tensor>& in) {
          Tensor centered = sub(in[0], mean(in[0], {-1}, true));
          Tensor normalized = mul(centered, pow(add(mean(square(centered), {-1}, true), eps), -0.5));
          if (in[1].defined()) normalized = mul(normalized, in[1]);
          return in[2].defined() ? add(normalized, in[2]) : normalized;
        };
        std::vector<Tensor> grads = gradients_by_recomputation(composite, {x, weight, bias}, g);
        std::vector<Tensor> per_input{grads[0]};
        if (weight.defined()) per_input.push_back(grads[1]);
        if (bias.defined()) per_input.push_back(grads[2]);
        return per_input;
      });
  return y;
}

Tensor channel_affine(const Tensor& x, const Tensor& shift, const Tensor& log_scale) {
  Tensor y = kernels::channel_affine(x, shift.detach(), log_scale.detach());
  record(
      "channel_affine", y, {x, shift, log_scale},
      [ys = y.detach(), ls = log_scale.detach(), shift_shape = shift.shape()](const Tensor& g) {
        Tensor gx, gb, gs;
        kernels::channel_affine_backward(g, ys, ls, &gx, &gb, &gs);
        return std::vector<Tensor>{gx, gb.reshape(shift_shape), gs.reshape(ls.shape())};
      },
      [x, shift, log_scale](const Tensor& g) {
        Shape per_channel(size_t(x.dim()), 1);
        per_channel[1] = x.size(1);
        auto composite = [&](const std::vector<Tensor>& in) {
          return mul(add(in[0], in[1].reshape(per_channel)), exp(in[2].reshape(per_channel)));
        };
        return gradients_by_recomputation(composite, {x, shift, log_scale}, g);
      });
  return y;
}

Tensor softmax(const Tensor& x, int64_t dim) {
  int d = normalize_dim(dim, x.shape().size());
  if (d != x.dim() - 1) return softmax(x.transpose(d, -1), -1).transpose(d, -1);
  Tensor y = kernels::softmax(x);
  record(
      "softmax", y, {x}, [ys = y.detach()](const Tensor& g) { return std::vector<Tensor>{kernels::softmax_backward(ys, g)}; },
      [x](const Tensor& g) {  // y (g - <g, y>), y recomputed: saving it would be a cycle
        Tensor s = softmax(x, -1);
        return std::vector<Tensor>{mul(s, sub(g, sum(mul(g, s), {-1}, true)))};
      });
  return y;
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor shift = kernels::max(x.detach(), dim, true, nullptr);  // constant: no gradient needed
  Tensor centered = sub(x, shift);
  return sub(centered, log(sum(exp(centered), {dim}, true)));
}

namespace {

// softmax(q k^T scale + causal mask) v from primitives: the double backward of the
// fused attention, which keeps no scores to differentiate.
Tensor attention_from_primitives(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  int64_t t = q.size(-2);
  std::vector<double> mask(size_t(t * t), 0.0);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = i + 1; j < t; ++j) mask[size_t(i * t + j)] = -1e30;  // exp underflows to 0
  Tensor above = Tensor::from_vector(mask, {t, t}).to(q.dtype()).to(q.device());
  Tensor scores = add(mul(matmul(q, k.transpose(-2, -1)), scale), above);
  return matmul(softmax(scores, -1), v);
}

// q, k or v ([B, H, T, D]) of a packed [B, T, 3, H, D] projection, as a view.
Tensor heads_first(const Tensor& packed, int64_t which) { return packed.select(2, which).permute({0, 2, 1, 3}); }

}  // namespace

Tensor causal_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, double scale) {
  Tensor q = autocast_input(q_in).contiguous(), k = autocast_input(k_in).contiguous(),
         v = autocast_input(v_in).contiguous();
  if (scale == 0.0) scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor lse;
  Tensor y = kernels::causal_attention(q.detach(), k.detach(), v.detach(), scale, &lse);
  record(
      "causal_attention", y, {q, k, v},
      [qs = q.detach(), ks = k.detach(), vs = v.detach(), ys = y.detach(), lse, scale](const Tensor& g) {
        Tensor gq, gk, gv;
        kernels::causal_attention_backward(qs, ks, vs, ys, lse, g, scale, &gq, &gk, &gv);
        return std::vector<Tensor>{gq, gk, gv};
      },
      [q, k, v, scale](const Tensor& g) {
        auto composite = [scale](const std::vector<Tensor>& in) {
          return attention_from_primitives(in[0], in[1], in[2], scale);
        };
        return gradients_by_recomputation(composite, {q, k, v}, g);
      });
  return y;
}

Tensor causal_attention_packed(const Tensor& qkv_in, double scale) {
  FT_CHECK(qkv_in.dim() == 5 && qkv_in.size(2) == 3, "packed attention needs qkv [B, T, 3, H, D], got {}",
           shape_str(qkv_in.shape()));
  Tensor qkv = autocast_input(qkv_in).contiguous();
  if (scale == 0.0) scale = 1.0 / std::sqrt(double(qkv.size(-1)));
  const Tensor packed = qkv.detach();
  Tensor lse;
  Tensor y = kernels::causal_attention(heads_first(packed, 0), heads_first(packed, 1), heads_first(packed, 2),
                                       scale, &lse);
  record(
      "causal_attention_packed", y, {qkv},
      // The three gradients go straight into one packed tensor: no zero-filled
      // slices to add up, as three separate views of qkv would need.
      [packed, ys = y.detach(), lse, scale](const Tensor& g) {
        Tensor gq, gk, gv;
        kernels::causal_attention_backward(heads_first(packed, 0), heads_first(packed, 1), heads_first(packed, 2),
                                           ys, lse, g, scale, &gq, &gk, &gv);
        Tensor grad = Tensor::empty(packed.shape(), gq.dtype(), gq.device());
        heads_first(grad, 0).copy_(gq);
        heads_first(grad, 1).copy_(gk);
        heads_first(grad, 2).copy_(gv);
        return std::vector<Tensor>{grad};
      },
      [qkv, scale](const Tensor& g) {
        auto composite = [scale](const std::vector<Tensor>& in) {
          return attention_from_primitives(heads_first(in[0], 0), heads_first(in[0], 1), heads_first(in[0], 2),
                                           scale);
        };
        return gradients_by_recomputation(composite, {qkv}, g);
      });
  return y;
}

}  // namespace ft
