// `model.kind = "flow"`: a flow of the library (layers/flows) written in TOML,
//
//   [model]
//   kind = "flow"
//   features = 2                  # vectors of 2 features (0: images of model.channels x image_size^2)
//   distribution = "standard_normal"   # | "standard_logistic" | "diagonal_normal"
//   repeat = 5                    # model.transforms, 5 times
//   [[model.preprocess]]          # once, before them (same syntax)
//   type = "logit"
//   [[model.transforms]]
//   type = "maf"
//   hidden = 64
//   [[model.transforms]]
//   type = "reverse"
//
// Transforms run in order from data to noise (forward = nflows' direction). Vector
// transforms see images flattened to [N, C*H*W]. With model.num_classes > 0 the
// conditional transforms and the base get the context one_hot(label).
// Each type's keys and defaults are kTransformTypes in flow_builder.cpp; `flowtrain
// info --transforms` prints them. An unknown type or key, a wrong value type or a
// mask that does not fit the shape is an error naming model.transforms[i].key.
#pragma once
#include <memory>
#include <string>

#include "framework/random/generator.h"
#include "launch/config.h"
#include "layers/flows/composed_flow_model.h"

namespace ft::launch {

std::shared_ptr<layers::flows::ComposedFlowModel> build_flow_model(const Config& config, Generator& gen);
// Every transform type with its keys and defaults, one line each (info --transforms).
std::string describe_transform_types();

}  // namespace ft::launch
