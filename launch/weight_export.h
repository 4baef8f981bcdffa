// Trained weights as a safetensors file that PyTorch code loads directly, and back.
//
// TARFLOW tensors carry apple/ml-tarflow's state_dict names (transformer_flow.py:
// blocks.B.attn_blocks.K.attention.norm.weight, ...mlp.main.0.weight, class_embed
// as [classes, 1, width], and each block's attn_mask buffer), so
// `model.load_state_dict(safetensors.torch.load_file(path))` works on ml-tarflow's
// Model. Glow tensors carry flowtrain's own names, parameters and buffers (ActNorm
// `initialized`, the LU permutation and signs), listed in the README; openai/glow is
// TensorFlow and has no state_dict to match. The metadata holds the resolved config
// ("flowtrain_config", TOML), the model kind and the naming ("names").
#pragma once
#include <filesystem>

#include "launch/config.h"
#include "layers/flow_model.h"

namespace ft::launch {

void export_weights(const std::filesystem::path& out, const Config& config, const layers::FlowModel& model);

// Loads a file written by export_weights, or by PyTorch under the same names, into
// every parameter and buffer of `model`. A missing tensor, a shape that differs or
// a tensor the model does not have is an error naming it and the file.
void import_weights(const std::filesystem::path& file, const Config& config, layers::FlowModel& model);

}  // namespace ft::launch
