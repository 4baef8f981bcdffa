// Activation recomputation (torch.utils.checkpoint's idea): a segment runs without
// recording its graph, so its intermediate activations are freed as it goes; the
// backward pass runs it once more, recording, and differentiates that run. One more
// forward per segment buys the memory of every activation inside it.
#pragma once
#include <functional>
#include <vector>

#include "framework/core/tensor.h"

namespace ft {

using Segment = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

// segment(inputs), with gradients for the inputs and for `parameters` (the leaves
// the segment reads besides its inputs) computed by recomputation. The segment must
// compute the same values when run again: no random draws, no state it changes that
// the second run would see differently (a data-dependent initialisation that has
// already run is fine). It runs again under the autocast dtype it first ran under.
// Outputs may be undefined; the defined ones must be floating, of one dtype. Without
// grad mode, or when nothing requires grad, this is segment(inputs). First-order
// only: a graph of the gradient through a recomputed segment fails naming it.
std::vector<Tensor> recomputed(const Segment& segment, const std::vector<Tensor>& inputs,
                               const std::vector<Tensor>& parameters);

}  // namespace ft
