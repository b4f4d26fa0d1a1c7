// faults.*: the failures a test injects into one worker rank (config keys
// faults.*, docs/reliability.md), both in one place:
//
//   wrong_step_rank, wrong_step_at, wrong_field
//       that rank's vote of that step gets one header field wrong (step:
//       claims step + 1000; version; length), seen by the last part alone
//   delay_rank, delay_ms, every
//       that rank is a straggler: it sleeps delay_ms before its round on
//       every `every`-th step
#pragma once

#include "signvote/config.h"
#include "worker/server_exchange.h"

#include <chrono>
#include <cstdint>

namespace signvote::worker {

class Faults {
 public:
  Faults(const FaultConfig& f, int world_rank) : f_(f), rank_(world_rank) {}
  // Whether this rank sends the wrong header at `step`.
  bool wrong_header_due(uint64_t step) const;
  // How late this rank's round starts at `step` (0: on time).
  std::chrono::milliseconds delay_at(uint64_t step) const;

  // Before the step: arms the wrong header on the client's last part
  // (before the round begins, so an overlapped round sends it this step).
  void before_step(uint64_t step, ServerExchange& client) const;
  // Between the compute and the round: the straggler's sleep (logged).
  void before_round(uint64_t step) const;

 private:
  FaultConfig f_;
  int rank_;
};

}  // namespace signvote::worker
