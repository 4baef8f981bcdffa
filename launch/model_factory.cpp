#include "launch/model_factory.h"

#include "framework/core/check.h"
#include "launch/flow_builder.h"
#include "layers/glow/glow.h"
#include "layers/tarflow/tarflow.h"

namespace ft::launch {

layers::GlowConfig glow_config_from(const Config& config) {
  layers::GlowConfig c;
  c.channels = config.model.channels;
  c.image_size = config.model.image_size;
  c.num_classes = config.model.num_classes;
  c.width = config.model.width;
  c.levels = config.model.levels;
  c.depth = config.model.depth;
  c.coupling = layers::coupling_from_name(config.model.coupling);
  c.permutation = layers::permutation_from_name(config.model.permutation);
  c.n_bits = int(config.model.n_bits);
  c.learn_top = config.model.learn_top;
  if (config.data.noise != "uniform")
    FT_FAIL("{}: data.noise = \"{}\" but Glow is a likelihood model with uniform dequantization", config.origin(),
            config.data.noise);
  c.validate();
  return c;
}

layers::TarflowConfig tarflow_config_from(const Config& config) {
  layers::TarflowConfig c;
  c.channels = config.model.channels;
  c.image_size = config.model.image_size;
  c.num_classes = config.model.num_classes;
  c.width = config.model.width;
  c.patch_size = config.model.patch_size;
  c.blocks = config.model.blocks;
  c.layers_per_block = config.model.layers_per_block;
  c.head_dim = config.model.head_dim;
  c.label_dropout = config.model.label_dropout;
  c.dequantization = config.data.noise;
  c.noise_std = c.dequantization == "gaussian" ? config.data.noise_std : 0.0;
  c.validate();
  return c;
}

std::shared_ptr<layers::FlowModel> build_model(const Config& config, Generator& gen) {
  if (config.model.kind == "glow") return std::make_shared<layers::Glow>(glow_config_from(config), gen);
  if (config.model.kind == "flow") return build_flow_model(config, gen);
  return std::make_shared<layers::Tarflow>(tarflow_config_from(config), gen);
}

}  // namespace ft::launch
