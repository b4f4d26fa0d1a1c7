// StepUpdate on the device (step_update.h).
#include "kernels/device_buffer.h"
#include "kernels/sign_kernels_cuda.h"
#include "step_update.h"

namespace signvote::bench {
namespace {

namespace kc = kernels::cuda;

class CudaUpdate final : public StepUpdate {
 public:
  CudaUpdate(nn::Model& m, float lr, float wd)
      : m_(m), lr_(lr), wd_(wd), stream_(static_cast<cudaStream_t>(m.cuda_stream())), mom_(m.num_params()),
        bits_(kernels::packed_words(m.num_params())), nans_(1) {
    SV_CUDA_CHECK(cudaMemsetAsync(mom_.data(), 0, mom_.size() * sizeof(float), stream_));
    kc::reset_counters(nans_.data(), nans_.size(), stream_);  // the packs add to it; never read here
  }
  void run() override {
    const size_t n = m_.num_params();
    kc::momentum_pack(mom_.data(), m_.grads().data(), n, 0.9f, bits_.data(), nans_.data(), stream_);
    kc::apply(m_.params().data(), n, bits_.data(), lr_, wd_, stream_);
    SV_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

 private:
  nn::Model& m_;
  float lr_, wd_;
  cudaStream_t stream_;
  kc::DeviceBuffer<float> mom_;
  kc::DeviceBuffer<std::uint32_t> bits_;
  kc::DeviceBuffer<unsigned long long> nans_;
};

}  // namespace

std::unique_ptr<StepUpdate> make_cuda_update(nn::Model& model, float lr, float wd) {
  return std::make_unique<CudaUpdate>(model, lr, wd);
}

}  // namespace signvote::bench
