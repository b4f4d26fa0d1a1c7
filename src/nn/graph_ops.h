// GraphOps: the work of a GraphModel that is not a unary layer -- residual
// adds, gradient sums, the loss, staging the caller's images, timing -- for
// the model's memory space. Host: add.h, softmax_xent.h and wall-clock
// timers. CUDA (graph_ops_cuda.cpp): the same maths as kernels on the
// context's stream, images uploaded through a pinned buffer on the copy
// stream, per-kind times from CUDA events read after the step's sync.
#pragma once

#include "common.h"
#include "signvote/model.h"
#include "softmax_xent.h"

#include <memory>

namespace signvote::nn {

class GraphOps {
 public:
  virtual ~GraphOps() = default;
  virtual MemSpace space() const = 0;
  // y = a + b (relu: max(a + b, 0)).
  virtual void add(const Tensor& a, const Tensor& b, Tensor& y, bool relu) = 0;
  // d = dy * mask (or d += ...); mask = (y > 0) when y is non-null, else 1.
  virtual void add_backward(const Tensor* y, const Tensor& dy, Tensor& d, bool accumulate) = 0;
  // Loss of logits (N, K, 1, 1) against host labels (bad labels throw
  // before any work). The result is read by loss_result(), which on cuda
  // waits for the device: call it after queueing the backward pass.
  virtual void loss_forward(const Tensor& logits, const int* labels) = 0;
  virtual void loss_backward(Tensor& dlogits) = 0;
  virtual LossResult loss_result() = 0;
  // The tensor the first layer reads for host `images` (first `batch`
  // samples): host -> a view; cuda -> `store` (batch capacity) filled.
  virtual Tensor stage_input(const Tensor& images, int batch, Tensor& store) = 0;
  virtual void zero(float* p, size_t n) = 0;
  // Brackets one node's work for the per-kind time breakdown.
  virtual void begin_timing() = 0;
  virtual void end_timing(LayerKind k) = 0;
  // Adds the bracketed times of the finished pass into `t` (syncs on cuda).
  virtual void collect_times(LayerTimes& t) = 0;
};

std::unique_ptr<GraphOps> make_host_ops();
// Throws std::logic_error in a build without CUDA.
std::unique_ptr<GraphOps> make_cuda_ops(std::shared_ptr<CudaContext> ctx);

}  // namespace signvote::nn
