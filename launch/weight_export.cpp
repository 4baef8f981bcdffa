#include "launch/weight_export.h"

#include <set>

#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/io/safetensors.h"

namespace ft::launch {

namespace {

// flowtrain's TARFLOW module names -> ml-tarflow's.
const std::vector<std::pair<std::string, std::string>> kTarflowRenames = {
    {".attention_norm.", ".attention.norm."}, {".attention.out.", ".attention.proj."},
    {".mlp_norm.", ".mlp.norm."},             {".mlp.fc1.", ".mlp.main.0."},
    {".mlp.fc2.", ".mlp.main.2."}};

bool is_tarflow(const Config& config) { return config.model.kind == "tarflow"; }

std::string external_name(const Config& config, std::string name) {
  if (!is_tarflow(config)) return name;
  for (const auto& [ours, theirs] : kTarflowRenames) {
    const size_t at = name.find(ours);
    if (at != std::string::npos) name.replace(at, ours.size(), theirs);
  }
  return name;
}

// ml-tarflow broadcasts class_embed as [classes, 1, width]; flowtrain keeps [classes, width].
Shape external_shape(const Config& config, const std::string& name, const Shape& shape) {
  if (is_tarflow(config) && name.ends_with("class_embed") && shape.size() == 2) return {shape[0], 1, shape[1]};
  return shape;
}

// ml-tarflow's per-block causal mask buffer: lower-triangular ones over the tokens.
Tensor causal_mask(int64_t tokens) {
  Tensor mask = Tensor::zeros({tokens, tokens});
  float* m = mask.data<float>();
  for (int64_t i = 0; i < tokens; ++i)
    for (int64_t j = 0; j <= i; ++j) m[i * tokens + j] = 1.0f;
  return mask;
}

std::vector<std::string> tarflow_mask_names(const Config& config) {
  std::vector<std::string> names;
  for (int64_t b = 0; b < config.model.blocks; ++b) names.push_back(fmt::format("blocks.{}.attn_mask", b));
  return names;
}

int64_t tarflow_tokens(const Config& config) {
  const int64_t side = config.model.image_size / config.model.patch_size;
  return side * side;
}

}  // namespace

void export_weights(const std::filesystem::path& out, const Config& config, const layers::FlowModel& model) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const nn::NamedTensors& group : {model.named_parameters(), model.named_buffers()})
    for (const auto& [name, tensor] : group) {
      Tensor value = tensor.detach().to(Device::cpu()).contiguous();
      tensors.emplace_back(external_name(config, name), value.reshape(external_shape(config, name, value.shape())));
    }
  if (is_tarflow(config))
    for (const std::string& name : tarflow_mask_names(config)) tensors.emplace_back(name, causal_mask(tarflow_tokens(config)));
  io::write_safetensors(out, tensors,
                        {{"flowtrain_config", config.to_toml()},
                         {"model_kind", config.model.kind},
                         {"names", is_tarflow(config) ? "apple/ml-tarflow" : "flowtrain"}});
}

void import_weights(const std::filesystem::path& file, const Config& config, layers::FlowModel& model) {
  const std::string where = file.string();
  io::SafetensorsContents contents = io::read_safetensors(file);
  std::set<std::string> unused;
  for (const auto& [name, tensor] : contents.tensors) unused.insert(name);
  if (is_tarflow(config))
    for (const std::string& name : tarflow_mask_names(config)) unused.erase(name);  // implied by the architecture
  NoGradGuard no_grad;
  for (const nn::NamedTensors& group : {model.named_parameters(), model.named_buffers()})
    for (const auto& [name, tensor] : group) {
      const std::string theirs = external_name(config, name);
      auto it = contents.tensors.find(theirs);
      if (it == contents.tensors.end())
        FT_FAIL("{}: no tensor '{}' (the model's {}); is it a {} model of this shape?", where, theirs, name,
                config.model.kind);
      const Shape expected = external_shape(config, name, tensor.shape());
      if (it->second.shape() != expected)
        FT_FAIL("{}: tensor '{}' has shape {}, the model's {} is {}", where, theirs, shape_str(it->second.shape()),
                name, shape_str(expected));
      Tensor slot = tensor;
      slot.copy_(it->second.reshape(tensor.shape()).to(tensor.dtype()).to(tensor.device()));
      unused.erase(theirs);
    }
  if (!unused.empty())
    FT_FAIL("{}: tensor '{}' has no place in this {} model (another architecture or size?)", where, *unused.begin(),
            config.model.kind);
}

}  // namespace ft::launch
