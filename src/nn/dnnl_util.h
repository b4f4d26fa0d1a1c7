// oneDNN plumbing for signvote_nn (compiled only with SIGNVOTE_HAVE_DNNL).
// Every oneDNN call goes through dnnl_try(), which turns dnnl::error into a
// std::runtime_error naming the operation and the oneDNN status.
#pragma once

#ifdef SIGNVOTE_HAVE_DNNL
#include "common.h"
#include "signvote/tensor.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <unordered_map>

namespace signvote::nn {

struct DnnlContext {
  dnnl::engine engine;
  mutable dnnl::stream stream;  // execute() needs a non-const stream
  // The blocked activation layout oneDNN's JIT kernels use on this CPU:
  // nChw16c from AVX-512 up, nChw8c below (AVX2, AVX, SSE4.1).
  Layout blocked = Layout::nChw8c;
  DnnlContext();
};

[[noreturn]] void throw_dnnl_error(const std::string& what, const dnnl::error& e);

// Runs f(); rethrows oneDNN errors with `what` as context.
template <class F>
auto dnnl_try(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw_dnnl_error(what, e);
  }
}

// Memory descriptor of a tensor: dims {N, C, H, W}, f32, nchw, nChw16c or nChw8c.
dnnl::memory::desc md_of(const Shape& s, Layout l);
// Wraps a float buffer (no copy).
dnnl::memory mem_of(const dnnl::memory::desc& md, const DnnlContext& ctx, const float* p);

// Executes `prim` on the context's stream and waits for it.
void dnnl_exec(const DnnlContext& ctx, const dnnl::primitive& prim,
               const std::unordered_map<int, dnnl::memory>& args, const char* what);

}  // namespace signvote::nn
#endif  // SIGNVOTE_HAVE_DNNL
