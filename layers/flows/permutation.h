// Fixed permutations of the features of [N, D]: z[:, i] = x[:, order[i]]; logabsdet 0.
#pragma once
#include <vector>

#include "framework/random/generator.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class Permutation : public Transform {
 public:
  explicit Permutation(std::vector<int64_t> order);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  Tensor order;  // i64 [D], a buffer so checkpoints keep a random one

 private:
  Tensor inverse_order_;
};

std::vector<int64_t> reverse_order(int64_t features);
std::vector<int64_t> random_order(int64_t features, Generator& gen);

}  // namespace ft::layers::flows
