// The one parallel loop: [0, n) cut into `threads` contiguous slices whose
// bounds are multiples of `grain` (the sign kernels' 512 coordinates, so no
// two threads write one packed word), fn(begin, end) run on each; slice 0
// runs on the calling thread. threads <= 1 or n <= grain: one call, no
// thread started. An exception in any slice is rethrown after all joined.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace signvote::util {

template <class Fn>
void parallel_slices(size_t n, int threads, size_t grain, Fn&& fn) {
  const size_t blocks = (n + grain - 1) / grain;
  const size_t t = std::min<size_t>(threads > 1 ? static_cast<size_t>(threads) : 1, std::max<size_t>(blocks, 1));
  if (t <= 1) {
    fn(size_t{0}, n);
    return;
  }
  const auto bound = [&](size_t i) { return std::min(n, (blocks * i / t) * grain); };
  std::vector<std::exception_ptr> errors(t);
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (size_t i = 1; i < t; ++i)
    pool.emplace_back([&, i] {
      try {
        fn(bound(i), bound(i + 1));
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  try {
    fn(bound(0), bound(1));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace signvote::util
