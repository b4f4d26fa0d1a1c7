#include "worker/faults.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace signvote::worker {

bool Faults::wrong_header_due(uint64_t step) const {
  return f_.wrong_step_rank == rank_ && f_.wrong_step_at == static_cast<int64_t>(step);
}

std::chrono::milliseconds Faults::delay_at(uint64_t step) const {
  if (f_.delay_rank != rank_ || f_.delay_ms <= 0 || f_.every <= 0 || step % static_cast<uint64_t>(f_.every) != 0)
    return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(f_.delay_ms);
}

void Faults::before_step(uint64_t step, ServerExchange& client) const {
  if (wrong_header_due(step)) client.inject_wrong_header(client.parts() - 1, f_.wrong_field_kind);
}

void Faults::before_round(uint64_t step) const {
  const auto late = delay_at(step);
  if (late.count() == 0) return;
  spdlog::info("faults: rank {} delays its vote of step {} by {} ms", rank_, step, late.count());
  std::this_thread::sleep_for(late);
}

}  // namespace signvote::worker
