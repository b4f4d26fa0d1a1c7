// oneDNN plumbing: engine/stream, descriptors, error conversion.
#include "dnnl_util.h"

#ifdef SIGNVOTE_HAVE_DNNL
#include <stdexcept>

namespace signvote::nn {

DnnlContext::DnnlContext() {
  dnnl_try("create CPU engine/stream", [&] {
    engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
    stream = dnnl::stream(engine);
    // cpu_isa values are bit sets: an ISA includes avx512_core iff it has all its bits.
    const unsigned isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const unsigned avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    blocked = (isa & avx512) == avx512 ? Layout::nChw16c : Layout::nChw8c;
  });
}

void throw_dnnl_error(const std::string& what, const dnnl::error& e) {
  throw std::runtime_error("oneDNN: " + what + " failed: " + e.what() +
                           " (status " + std::to_string(int(e.status)) + ")");
}

dnnl::memory::desc md_of(const Shape& s, Layout l) {
  using tag = dnnl::memory::format_tag;
  return dnnl_try("memory descriptor " + to_string(s), [&] {
    return dnnl::memory::desc({s.n, s.c, s.h, s.w}, dnnl::memory::data_type::f32,
                              l == Layout::nChw16c ? tag::nChw16c
                              : l == Layout::nChw8c ? tag::nChw8c
                              : l == Layout::nhwc   ? tag::nhwc
                                                    : tag::nchw);
  });
}

dnnl::memory mem_of(const dnnl::memory::desc& md, const DnnlContext& ctx, const float* p) {
  return dnnl_try("wrap memory", [&] {
    return dnnl::memory(md, ctx.engine, const_cast<float*>(p));  // oneDNN takes void*
  });
}

void dnnl_exec(const DnnlContext& ctx, const dnnl::primitive& prim,
               const std::unordered_map<int, dnnl::memory>& args, const char* what) {
  dnnl_try(what, [&] {
    auto& s = ctx.stream;
    prim.execute(s, args);
    s.wait();
  });
}

}  // namespace signvote::nn
#endif  // SIGNVOTE_HAVE_DNNL
