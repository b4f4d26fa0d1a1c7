// Runtime dispatch for the CPU sign kernels (compiled with default flags: this
// TU must run on any x86-64). Validates tally arguments once, then calls the
// per-ISA kernel from sign_kernels_{scalar,avx2,avx512}.cpp.
#include "signvote/sign_kernels.h"

#include <stdexcept>
#include <string>

#include "kernels/sign_kernels_detail.h"

namespace signvote::kernels {
namespace {

void check_tally_args(std::size_t W, std::size_t stride, std::size_t words) {
  if (W < 1 || W > kMaxVoters) {
    throw std::invalid_argument("tally: W = " + std::to_string(W) + " voters, must be in [1, " +
                                std::to_string(kMaxVoters) + "]");
  }
  if (W > 1 && stride < words) {
    throw std::invalid_argument("tally: stride " + std::to_string(stride) +
                                " words < row length " + std::to_string(words));
  }
}

// tally entry = argument check + the ISA kernel.
template <void (*Kernel)(const std::uint32_t*, std::size_t, std::size_t, std::size_t,
                         std::uint32_t*, std::uint32_t)>
void checked_tally(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                   std::size_t words, std::uint32_t* out, std::uint32_t ties) {
  check_tally_args(W, stride, words);
  Kernel(votes, W, stride, words, out, ties);
}

const SignOps kScalarOps{Isa::scalar, detail::pack_scalar, detail::momentum_pack_scalar,
                         detail::apply_scalar, checked_tally<detail::tally_scalar>, detail::lion_pack_scalar};
#ifdef SIGNVOTE_KERNELS_X86
const SignOps kAvx2Ops{Isa::avx2, detail::pack_avx2, detail::momentum_pack_avx2,
                       detail::apply_avx2, checked_tally<detail::tally_avx2>, detail::lion_pack_avx2};
const SignOps kAvx512Ops{Isa::avx512, detail::pack_avx512, detail::momentum_pack_avx512,
                         detail::apply_avx512, checked_tally<detail::tally_avx512>, detail::lion_pack_avx512};
#endif

// Exactly the -m flags each ISA TU is compiled with (CMakeLists.txt).
bool cpu_supports(Isa isa) {
#ifdef SIGNVOTE_KERNELS_X86
  __builtin_cpu_init();
  switch (isa) {
    case Isa::scalar:
      return true;
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi2");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq") &&
             __builtin_cpu_supports("bmi2");
  }
  return false;
#else
  return isa == Isa::scalar;
#endif
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "unknown";
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
    if (name == isa_name(isa)) return isa;
  }
  throw std::invalid_argument("unknown ISA '" + std::string(name) +
                              "' (expected scalar, avx2 or avx512)");
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::avx512, Isa::avx2, Isa::scalar}) {
    if (cpu_supports(isa)) out.push_back(isa);
  }
  return out;
}

const SignOps& ops(Isa isa) {
  if (!cpu_supports(isa)) {
    throw std::runtime_error(std::string("ISA ") + isa_name(isa) + " not supported by this CPU");
  }
  switch (isa) {
#ifdef SIGNVOTE_KERNELS_X86
    case Isa::avx512:
      return kAvx512Ops;
    case Isa::avx2:
      return kAvx2Ops;
#endif
    default:
      return kScalarOps;
  }
}

const SignOps& best_ops() {
  static const SignOps& best = ops(available_isas().front());
  return best;
}

const SignOps& ops_for(IsaChoice choice) {
  switch (choice) {
    case IsaChoice::avx512: return ops(Isa::avx512);
    case IsaChoice::avx2: return ops(Isa::avx2);
    case IsaChoice::scalar: return ops(Isa::scalar);
    default: return best_ops();  // automatic
  }
}

// A name outside aggregation.isa's table goes to parse_isa for its error.
const SignOps& ops_named(std::string_view name) {
  const auto choice = enum_from_name<IsaChoice>(name);
  return choice ? ops_for(*choice) : ops(parse_isa(name));
}

void invert_signs(std::uint32_t* bits, std::size_t n) {
  const std::size_t words = packed_words(n);
  for (std::size_t w = 0; w < words; ++w) bits[w] = inverted_word(bits[w], n, w);
}

void tally_counts(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                  std::size_t words, std::uint32_t* counts) {
  for (std::size_t i = 0; i < words * kBitsPerWord; ++i) counts[i] = 0;
  for (std::size_t r = 0; r < W; ++r) {
    for (std::size_t i = 0; i < words * kBitsPerWord; ++i) {
      counts[i] += get_bit(votes + r * stride, i);
    }
  }
}

}  // namespace signvote::kernels
