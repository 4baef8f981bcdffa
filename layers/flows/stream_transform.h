// Transforms that draw random numbers in their forward (Hutchinson probes of
// residual blocks and continuous flows, roulette series lengths): the model hands
// each one a stream of its own every step (ComposedFlowModel::set_forward_generator),
// whose offset counts examples, so a batch split across ranks draws what one rank
// would and a resumed run what the uninterrupted one did. Without one set, the
// stream is Generator()'s.
#pragma once
#include "framework/random/generator.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class StreamTransform : public Transform {
 public:
  void set_generator(const Generator& gen) { gen_ = gen; }

 protected:
  Generator gen_;
};

}  // namespace ft::layers::flows
