#include "launch/model_factory.h"

#include "framework/core/check.h"
#include "launch/flow_builder.h"
#include "layers/glow/glow.h"
#include "layers/tarflow/tarflow.h"

namespace ft::launch {

layers::GlowConfig glow_config_from(const Config& config) {
  layers::GlowConfig c;
  c.channels = config.integer("model.channels");
  c.image_size = config.integer("model.image_size");
  c.num_classes = config.integer("model.num_classes");
  c.width = config.integer("model.width");
  c.levels = config.integer("model.levels");
  c.depth = config.integer("model.depth");
  c.coupling = layers::coupling_from_name(config.string("model.coupling"));
  c.permutation = layers::permutation_from_name(config.string("model.permutation"));
  c.n_bits = int(config.integer("model.n_bits"));
  c.learn_top = config.boolean("model.learn_top");
  if (config.string("data.noise") != "uniform")
    FT_FAIL("{}: data.noise = \"{}\" but Glow is a likelihood model with uniform dequantization", config.origin(),
            config.string("data.noise"));
  c.validate();
  return c;
}

layers::TarflowConfig tarflow_config_from(const Config& config) {
  layers::TarflowConfig c;
  c.channels = config.integer("model.channels");
  c.image_size = config.integer("model.image_size");
  c.num_classes = config.integer("model.num_classes");
  c.width = config.integer("model.width");
  c.patch_size = config.integer("model.patch_size");
  c.blocks = config.integer("model.blocks");
  c.layers_per_block = config.integer("model.layers_per_block");
  c.head_dim = config.integer("model.head_dim");
  c.label_dropout = config.number("model.label_dropout");
  c.dequantization = config.string("data.noise");
  c.noise_std = c.dequantization == "gaussian" ? config.number("data.noise_std") : 0.0;
  c.validate();
  return c;
}

std::shared_ptr<layers::FlowModel> build_model(const Config& config, Generator& gen) {
  if (config.model_kind() == "glow") return std::make_shared<layers::Glow>(glow_config_from(config), gen);
  if (config.model_kind() == "flow") return build_flow_model(config, gen);
  return std::make_shared<layers::Tarflow>(tarflow_config_from(config), gen);
}

}  // namespace ft::launch
