// Bits per dimension on a held-out set, across ranks: every test image counted
// exactly once, with fixed dequantization noise (deterministic for a seed).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "framework/dist/communicator.h"
#include "launch/config.h"
#include "layers/flow_model.h"

namespace ft::launch {

struct EvalResult {
  double bits_per_dim = 0.0;
  double nats_per_dim = 0.0;  // -log p(x) / D in model space (no bin term)
  int64_t images = 0;
  // Test sets drawn by `data make-toy` know their true density p: then the mean of
  // log p over the same examples, and KL(p || q) ~ mean(log p - log q) in nats.
  std::optional<double> target_log_prob, kl_to_target;
};

// max_batches <= 0: the whole test set. Runs in eval mode without gradients. A collective;
// the test shards' checksums are not read here: verify them once per job first
// (verify_dataset_across_ranks), as train and eval do at start-up. on_batch(global
// batches done, batches) after each batch, on every rank, for a progress line.
EvalResult evaluate_bits_per_dim(layers::FlowModel& model, const Config& config, dist::Communicator& comm,
                                 int64_t max_batches,
                                 const std::function<void(int64_t done, int64_t total)>& on_batch = {});

// The least bits/dim a model trained on data.noise = "gaussian" can reach: the entropy of
// the added noise itself, (ln sqrt(2 pi e) sigma + ln bins_per_unit) / ln 2. 0 for uniform
// dequantization, whose bits/dim is an exact bound on the discrete likelihood.
double noise_floor_bits_per_dim(const layers::FlowModel& model, const Config& config);

// One line for a person: what this bits/dim measures, and what it compares with.
std::string explain_bits_per_dim(const EvalResult& result, const layers::FlowModel& model, const Config& config);

}  // namespace ft::launch
