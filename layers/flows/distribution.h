// Base distributions of a Flow over vectors [N, D]: log_prob per example [N] and
// sampling; context as in transform.h (undefined: none).
#pragma once
#include <memory>

#include "framework/nn/module.h"
#include "framework/random/generator.h"
#include "layers/flows/dense_network.h"

namespace ft::layers::flows {

class Distribution : public nn::Module {
 public:
  virtual Tensor log_prob(const Tensor& z, const Tensor& context) = 0;
  // n samples, or with a context [M, F] n per context row ([M*n, D], row-major by context).
  virtual Tensor sample(int64_t n, const Tensor& context, Generator& gen) = 0;
  virtual int64_t features() const = 0;
};

class StandardNormal : public Distribution {
 public:
  explicit StandardNormal(int64_t features) : features_(features) {}
  Tensor log_prob(const Tensor& z, const Tensor& context) override;
  Tensor sample(int64_t n, const Tensor& context, Generator& gen) override;
  int64_t features() const override { return features_; }

 private:
  int64_t features_;
};

// The standard logistic per feature (NICE's prior on MNIST, Dinh et al. 2015):
// log p(z) = sum log_sigmoid(z) + log_sigmoid(-z); samples log u - log(1 - u).
class StandardLogistic : public Distribution {
 public:
  explicit StandardLogistic(int64_t features) : features_(features) {}
  Tensor log_prob(const Tensor& z, const Tensor& context) override;
  Tensor sample(int64_t n, const Tensor& context, Generator& gen) override;
  int64_t features() const override { return features_; }

 private:
  int64_t features_;
};

// N(mean, exp(log_std)^2) with learned mean and log_std [D] (both start at 0).
class DiagonalNormal : public Distribution {
 public:
  explicit DiagonalNormal(int64_t features);
  Tensor log_prob(const Tensor& z, const Tensor& context) override;
  Tensor sample(int64_t n, const Tensor& context, Generator& gen) override;
  int64_t features() const override { return mean.size(0); }
  Tensor mean, log_std;
};

// Mean and log_std from the context: encoder(context) = [mean (D), log_std (D)].
class ConditionalDiagonalNormal : public Distribution {
 public:
  ConditionalDiagonalNormal(int64_t features, std::shared_ptr<DenseNetwork> context_encoder);
  Tensor log_prob(const Tensor& z, const Tensor& context) override;
  Tensor sample(int64_t n, const Tensor& context, Generator& gen) override;
  int64_t features() const override { return features_; }

 private:
  std::pair<Tensor, Tensor> parameters(const Tensor& context, DType dtype) const;
  int64_t features_;
  std::shared_ptr<DenseNetwork> encoder_;
};

// Each context row repeated n times in a row ([M, F] -> [M*n, F]).
Tensor repeat_rows(const Tensor& context, int64_t n);

}  // namespace ft::layers::flows
