// Waiting for messages without holding a core (cluster.server_wait: sleep):
// busy polls for the first kSpin, then sleeps that double from 10 us up to
// kMaxSleep. A colocated worker's threads get the core while the server
// waits for its votes; a vote that arrives during a sleep waits at most
// kMaxSleep (0.5 ms) for the server to notice it.
#pragma once

#include "util/timer.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace signvote::util {

class Backoff {
 public:
  void pause() {
    if (Clock::now() - start_ < kSpin) return;
    std::this_thread::sleep_for(sleep_);
    sleep_ = std::min(2 * sleep_, kMaxSleep);
  }

 private:
  static constexpr std::chrono::microseconds kSpin{100}, kMaxSleep{500};
  Clock::time_point start_ = Clock::now();
  std::chrono::microseconds sleep_{10};
};

}  // namespace signvote::util
