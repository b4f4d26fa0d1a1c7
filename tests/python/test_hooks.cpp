// libsignvote_test_hooks.so: test-only native helpers for tests/python,
// kept out of the shipped package. C ABI, loaded by test_hooks.py with
// ctypes. Statuses: 0 ok, else an error whose message is
// svt_last_error()'s (this thread's, until its next failing call).
#include "signvote/config.h"
#include "worker/problem.h"  // the quadratic toy

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#define SVT_API extern "C" __attribute__((visibility("default")))

namespace {

thread_local std::string t_error;

template <class F>
int guarded(F&& f) noexcept {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    t_error = e.what();
  } catch (...) {
    t_error = "unknown C++ exception";
  }
  return 1;
}

}  // namespace

// The C++ worker's quadratic toy, gradients only: the same RNG stream as
// `signvote train` gives worker `index`, at whatever x the caller holds.
struct svt_toy {
  svt_toy(const std::string& config_path, int index)
      : cfg(signvote::load_config(config_path)), p(signvote::worker::make_problem(cfg, index, 1)) {}
  signvote::Config cfg;
  std::unique_ptr<signvote::worker::Problem> p;
};

SVT_API const char* svt_last_error() { return t_error.c_str(); }

SVT_API int svt_toy_new(const char* config_path, int worker_index, svt_toy** out) {
  return guarded([&] { *out = new svt_toy(config_path, worker_index); });
}

SVT_API void svt_toy_free(svt_toy* t) { delete t; }

// x, g: n host floats; g = the toy's gradient at x for `step`; *loss its loss.
SVT_API int svt_toy_compute(svt_toy* t, const float* x, float* g, size_t n, uint64_t step, float* loss) {
  return guarded([&] {
    if (n != t->p->params().size()) throw std::invalid_argument("ToyGradients: wrong length");
    std::memcpy(t->p->params().data(), x, 4 * n);
    *loss = t->p->compute(step).loss;
    std::memcpy(g, t->p->grads().data(), 4 * n);
  });
}
