#include "worker/optimizer_state.h"

namespace signvote::worker {

OptimizerState::OptimizerState(size_t d, bool vote, bool adam, std::span<float> residual)
    : m_(d), v_(!vote && adam ? d : 0), e_(vote ? std::span<float>{} : residual) {}

void OptimizerState::to_host() {
  if (device_) device_->download(m(), v());
}

void OptimizerState::to_device() {
  if (device_) device_->upload(m(), v());
}

}  // namespace signvote::worker
