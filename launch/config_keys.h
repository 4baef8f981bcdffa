// The one table of configuration keys. Each KEY(section, name, value_type,
// default_toml, model_kind, choices...) gives a key's type, its default as a TOML
// value, the model kind using it ("" for every kind; else glow, tarflow or flow) and,
// for strings of a fixed set, the allowed values. config_schema.cpp makes the schema
// that validates files from it, config.h the typed sections the code reads.
// (Comments in this table are block comments: a line comment would swallow the
// line continuation.)
#pragma once

#define FT_MODEL_KEYS(KEY)                                                                 \
  KEY(model, kind, string, "\"tarflow\"", "", "glow", "tarflow", "flow")                  \
  KEY(model, channels, integer, "3", "")                                                 \
  KEY(model, image_size, integer, "32", "")                                              \
  KEY(model, num_classes, integer, "0", "")                                              \
  KEY(model, width, integer, "256", "")                                                  \
  KEY(model, levels, integer, "3", "glow")                                               \
  KEY(model, depth, integer, "32", "glow")                                               \
  KEY(model, coupling, string, "\"affine\"", "glow", "affine", "additive")               \
  KEY(model, permutation, string, "\"lu\"", "glow", "lu", "plain")                       \
  KEY(model, n_bits, integer, "8", "glow")                                               \
  KEY(model, learn_top, boolean, "true", "glow")                                         \
  KEY(model, patch_size, integer, "4", "tarflow")                                        \
  KEY(model, blocks, integer, "4", "tarflow")                                            \
  KEY(model, layers_per_block, integer, "4", "tarflow")                                  \
  KEY(model, head_dim, integer, "64", "tarflow")                                         \
  KEY(model, label_dropout, number, "0.1", "tarflow")                                    \
  /* A flow of the library (layers/flows): the transforms in order, data to noise,       \
     repeated model.repeat times; launch/flow_builder.h lists the types and their keys.  \
     features > 0: vectors of D features; 0: images. preprocess runs once, before the    \
     repeated list (the logit). */                                                       \
  KEY(model, features, integer, "0", "flow")                                             \
  KEY(model, preprocess, tables, "[]", "flow")                                           \
  KEY(model, transforms, tables, "[]", "flow")                                           \
  KEY(model, repeat, integer, "1", "flow")                                               \
  KEY(model, distribution, string, "\"standard_normal\"", "flow", "standard_normal",     \
      "standard_logistic", "diagonal_normal")

#define FT_DATA_KEYS(KEY)                                                   \
  KEY(data, train, string, "\"\"", "")                                     \
  KEY(data, test, string, "\"\"", "")                                      \
  KEY(data, noise, string, "\"uniform\"", "", "uniform", "gaussian")       \
  KEY(data, noise_std, number, "0.05", "")                                 \
  KEY(data, flip, boolean, "false", "")                                    \
  KEY(data, loader_threads, integer, "2", "")

/* train.device: cpu, cpu:1 (host memory counted as a second device, for tests;
   framework/core/dtype.h), cuda (the GPU of the local rank) or cuda:N; checked by
   launch/training_checks.cpp. micro_batch: examples per forward and backward on a
   rank, whose gradients accumulate into one step (0: the rank's whole share of
   global_batch). recompute: activation recomputation per TARFLOW block and Glow
   step (layers/flow_model.h). */
#define FT_TRAIN_KEYS(KEY)                                                        \
  KEY(train, steps, integer, "1000", "")                                         \
  KEY(train, global_batch, integer, "64", "")                                    \
  KEY(train, micro_batch, integer, "0", "")                                      \
  KEY(train, recompute, boolean, "false", "")                                    \
  KEY(train, seed, integer, "0", "")                                             \
  KEY(train, device, string, "\"cpu\"", "")                                     \
  KEY(train, precision, string, "\"fp32\"", "", "fp32", "bf16", "fp16")          \
  KEY(train, bucket_mb, number, "25.0", "")                                      \
  KEY(train, zero1, boolean, "false", "")                                        \
  KEY(train, max_skipped_steps, integer, "20", "")

#define FT_OPTIM_KEYS(KEY)                                                      \
  KEY(optim, name, string, "\"adamw\"", "", "adamw", "adamax", "adam")         \
  KEY(optim, lr, number, "1e-3", "")                                           \
  KEY(optim, betas, numbers, "[0.9, 0.999]", "")                               \
  KEY(optim, eps, number, "1e-8", "")                                          \
  KEY(optim, weight_decay, number, "0.0", "")                                  \
  KEY(optim, warmup_steps, integer, "0", "")                                   \
  KEY(optim, warmup_start_lr, number, "0.0", "")                               \
  KEY(optim, schedule, string, "\"cosine\"", "", "cosine", "constant")         \
  KEY(optim, min_lr, number, "0.0", "")                                        \
  KEY(optim, clip_norm, number, "0.0", "")                                     \
  KEY(optim, ema, number, "0.0", "")

#define FT_CHECKPOINT_KEYS(KEY)                         \
  KEY(checkpoint, every_steps, integer, "0", "")       \
  KEY(checkpoint, every_minutes, number, "0.0", "")    \
  KEY(checkpoint, keep_last, integer, "3", "")         \
  KEY(checkpoint, keep_every, integer, "0", "")

#define FT_LOG_KEYS(KEY)                                 \
  KEY(log, every_steps, integer, "10", "")              \
  KEY(log, eval_every_steps, integer, "0", "")          \
  KEY(log, eval_batches, integer, "0", "")              \
  KEY(log, sample_every_steps, integer, "0", "")        \
  KEY(log, sample_count, integer, "16", "")             \
  KEY(log, temperature, number, "1.0", "")

// SECTION(section, struct name, its keys), in file order.
#define FT_CONFIG_SECTIONS(SECTION)                        \
  SECTION(model, ModelSection, FT_MODEL_KEYS)              \
  SECTION(data, DataSection, FT_DATA_KEYS)                 \
  SECTION(train, TrainSection, FT_TRAIN_KEYS)              \
  SECTION(optim, OptimSection, FT_OPTIM_KEYS)              \
  SECTION(checkpoint, CheckpointSection, FT_CHECKPOINT_KEYS) \
  SECTION(log, LogSection, FT_LOG_KEYS)
