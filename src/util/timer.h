// The one wall-clock timer of the project: steady_clock and seconds since.
#pragma once

#include <chrono>

namespace signvote::util {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The time point `s` seconds from now.
inline Clock::time_point after_seconds(double s) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace signvote::util
