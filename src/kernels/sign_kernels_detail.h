// Internal: per-ISA kernel entry points. Each ISA lives in its own TU compiled
// with its own -m flags (see src/kernels/CMakeLists.txt); only the dispatcher
// (sign_kernels.cpp, default flags) calls these, after checking the CPU.
#pragma once

#include <cstddef>
#include <cstdint>

namespace signvote::kernels::detail {

// Same contracts as SignOps (sign_kernels.h); tally_* assume W in
// [1, kMaxVoters] and stride >= words (validated by the dispatcher).
#define SV_DECLARE_ISA(SUFFIX)                                                          \
  std::size_t pack_##SUFFIX(const float* x, std::size_t n, std::uint32_t* out);         \
  std::size_t momentum_pack_##SUFFIX(float* m, const float* g, std::size_t n, float beta, \
                                     std::uint32_t* out);                               \
  void apply_##SUFFIX(float* x, std::size_t n, const std::uint32_t* bits, float lr,     \
                      float wd);                                                        \
  void tally_##SUFFIX(const std::uint32_t* votes, std::size_t W, std::size_t stride,    \
                      std::size_t words, std::uint32_t* out, std::uint32_t ties);       \
  std::size_t lion_pack_##SUFFIX(float* m, const float* g, std::size_t n, float beta1,  \
                                 float beta2, std::uint32_t* out);

SV_DECLARE_ISA(scalar)
#ifdef SIGNVOTE_KERNELS_X86
SV_DECLARE_ISA(avx2)
SV_DECLARE_ISA(avx512)
#endif

#undef SV_DECLARE_ISA

}  // namespace signvote::kernels::detail
