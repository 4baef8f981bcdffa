// TARFLOW's pieces as Transforms of the flows library (layers/flows/transform.h), so
// Tarflow is Flow(Composite(patchify, blocks...), StandardNormal) like the other
// families. Labels travel as the library's context: one_hot(label) [N, num_classes],
// an all-zero row meaning "no label" (label dropout's -1, the mean class embedding).
#pragma once
#include <memory>

#include "layers/flows/transform.h"
#include "layers/tarflow/tarflow_block.h"

namespace ft::layers {

// Images [N, C, S, S] <-> tokens [N, T, C*P*P] (layers/tarflow/patchify.h); volume-preserving.
class PatchifyTransform : public flows::Transform {
 public:
  PatchifyTransform(int64_t channels, int64_t image_size, int64_t patch_size)
      : channels_(channels), image_size_(image_size), patch_size_(patch_size) {}
  flows::TransformResult forward(const Tensor& x, const Tensor& context) override;
  flows::TransformResult inverse(const Tensor& y, const Tensor& context) override;

 private:
  int64_t channels_, image_size_, patch_size_;
};

// One TarflowBlock, registered transparently (its parameters keep the block's names).
// The inverse is the block's token-by-token one without guidance, and its
// log-determinant minus that of a forward over the result; Tarflow's sampling calls
// the block itself for guidance, caches and Jacobi windows.
class TarflowBlockTransform : public flows::Transform {
 public:
  explicit TarflowBlockTransform(std::shared_ptr<TarflowBlock> block);
  flows::TransformResult forward(const Tensor& x, const Tensor& context) override;
  flows::TransformResult inverse(const Tensor& y, const Tensor& context) override;
  TarflowBlock& block() { return *block_; }

 private:
  Tensor labels_of(const Tensor& context, const Tensor& x) const;
  std::shared_ptr<TarflowBlock> block_;
};

// Labels i64 [N] in [-1, num_classes) as the context one_hot(label), -1 as a zero row;
// undefined labels give an undefined context.
Tensor label_context(const Tensor& labels, int64_t num_classes, DType dtype);
// The inverse: the class of each row, -1 for a zero row; throws on a row that is not
// one-hot or zero.
Tensor labels_of_context(const Tensor& context);

}  // namespace ft::layers
