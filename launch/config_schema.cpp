#include "launch/config_schema.h"

namespace ft::launch {

const std::vector<KeySpec>& config_schema() {
  static const std::vector<KeySpec> schema = {
      // [model]
      {"model.kind", KeyType::string, "\"tarflow\"", "", {"glow", "tarflow", "flow"}},
      {"model.channels", KeyType::integer, "3", "", {}},
      {"model.image_size", KeyType::integer, "32", "", {}},
      {"model.num_classes", KeyType::integer, "0", "", {}},
      {"model.width", KeyType::integer, "256", "", {}},
      {"model.levels", KeyType::integer, "3", "glow", {}},
      {"model.depth", KeyType::integer, "32", "glow", {}},
      {"model.coupling", KeyType::string, "\"affine\"", "glow", {"affine", "additive"}},
      {"model.permutation", KeyType::string, "\"lu\"", "glow", {"lu", "plain"}},
      {"model.n_bits", KeyType::integer, "8", "glow", {}},
      {"model.learn_top", KeyType::boolean, "true", "glow", {}},
      {"model.patch_size", KeyType::integer, "4", "tarflow", {}},
      {"model.blocks", KeyType::integer, "4", "tarflow", {}},
      {"model.layers_per_block", KeyType::integer, "4", "tarflow", {}},
      {"model.head_dim", KeyType::integer, "64", "tarflow", {}},
      {"model.label_dropout", KeyType::number, "0.1", "tarflow", {}},
      // A flow of the library (layers/flows): the transforms in order, data to noise,
      // repeated model.repeat times; launch/flow_builder.h lists the types and their keys.
      {"model.features", KeyType::integer, "0", "flow", {}},  // > 0: vectors of D features; 0: images
      {"model.preprocess", KeyType::tables, "[]", "flow", {}},  // once, before the repeated list (logit)
      {"model.transforms", KeyType::tables, "[]", "flow", {}},
      {"model.repeat", KeyType::integer, "1", "flow", {}},
      {"model.distribution", KeyType::string, "\"standard_normal\"", "flow",
       {"standard_normal", "standard_logistic", "diagonal_normal"}},
      // [data]
      {"data.train", KeyType::string, "\"\"", "", {}},
      {"data.test", KeyType::string, "\"\"", "", {}},
      {"data.noise", KeyType::string, "\"uniform\"", "", {"uniform", "gaussian"}},
      {"data.noise_std", KeyType::number, "0.05", "", {}},
      {"data.flip", KeyType::boolean, "false", "", {}},
      {"data.loader_threads", KeyType::integer, "2", "", {}},
      // [train]
      {"train.steps", KeyType::integer, "1000", "", {}},
      {"train.global_batch", KeyType::integer, "64", "", {}},
      {"train.seed", KeyType::integer, "0", "", {}},
      // cpu:1 is host memory counted as a second device (framework/core/dtype.h), for tests.
      {"train.device", KeyType::string, "\"cpu\"", "", {"cpu", "cpu:1", "cuda"}},
      {"train.precision", KeyType::string, "\"fp32\"", "", {"fp32", "bf16", "fp16"}},
      {"train.bucket_mb", KeyType::number, "25.0", "", {}},
      {"train.zero1", KeyType::boolean, "false", "", {}},
      {"train.max_skipped_steps", KeyType::integer, "20", "", {}},
      // [optim]
      {"optim.name", KeyType::string, "\"adamw\"", "", {"adamw", "adamax", "adam"}},
      {"optim.lr", KeyType::number, "1e-3", "", {}},
      {"optim.betas", KeyType::numbers, "[0.9, 0.999]", "", {}},
      {"optim.eps", KeyType::number, "1e-8", "", {}},
      {"optim.weight_decay", KeyType::number, "0.0", "", {}},
      {"optim.warmup_steps", KeyType::integer, "0", "", {}},
      {"optim.warmup_start_lr", KeyType::number, "0.0", "", {}},
      {"optim.schedule", KeyType::string, "\"cosine\"", "", {"cosine", "constant"}},
      {"optim.min_lr", KeyType::number, "0.0", "", {}},
      {"optim.clip_norm", KeyType::number, "0.0", "", {}},
      {"optim.ema", KeyType::number, "0.0", "", {}},
      // [checkpoint]
      {"checkpoint.every_steps", KeyType::integer, "0", "", {}},
      {"checkpoint.every_minutes", KeyType::number, "0.0", "", {}},
      {"checkpoint.keep_last", KeyType::integer, "3", "", {}},
      {"checkpoint.keep_every", KeyType::integer, "0", "", {}},
      // [log]
      {"log.every_steps", KeyType::integer, "10", "", {}},
      {"log.eval_every_steps", KeyType::integer, "0", "", {}},
      {"log.eval_batches", KeyType::integer, "0", "", {}},
      {"log.sample_every_steps", KeyType::integer, "0", "", {}},
      {"log.sample_count", KeyType::integer, "16", "", {}},
      {"log.temperature", KeyType::number, "1.0", "", {}},
  };
  return schema;
}

const KeySpec* find_key(const std::string& key) {
  for (const KeySpec& spec : config_schema())
    if (spec.key == key) return &spec;
  return nullptr;
}

const char* key_type_name(KeyType type) {
  switch (type) {
    case KeyType::integer: return "an integer";
    case KeyType::number: return "a number";
    case KeyType::string: return "a string";
    case KeyType::boolean: return "true or false";
    case KeyType::numbers: return "an array of numbers";
    case KeyType::tables: return "an array of tables ([[section.key]])";
  }
  return "?";
}

}  // namespace ft::launch
