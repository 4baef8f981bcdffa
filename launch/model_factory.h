// Builds the model a configuration describes.
#pragma once
#include <memory>

#include "framework/random/generator.h"
#include "launch/config.h"
#include "layers/flow_model.h"
#include "layers/glow/glow_config.h"
#include "layers/tarflow/tarflow_config.h"

namespace ft::launch {

layers::GlowConfig glow_config_from(const Config& config);
layers::TarflowConfig tarflow_config_from(const Config& config);
std::shared_ptr<layers::FlowModel> build_model(const Config& config, Generator& gen);

}  // namespace ft::launch
