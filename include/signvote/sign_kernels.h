// CPU sign kernels for signSGD / Signum with majority vote: pack float signs
// into bits, fused momentum+pack, fused unpack+apply, and bit-sliced majority
// tally. Bit layout, tie rule and NaN policy: signvote/sign_layout.h.
// Implementations: scalar (portable), AVX2, AVX-512, chosen at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "signvote/config_enums.h"
#include "signvote/sign_layout.h"

namespace signvote::kernels {

enum class Isa { scalar, avx2, avx512 };

// "scalar" | "avx2" | "avx512".
const char* isa_name(Isa isa);
// Inverse of isa_name; throws std::invalid_argument naming the bad value.
Isa parse_isa(std::string_view name);
// ISAs this CPU (and OS) can run, best first; scalar is always present, last.
std::vector<Isa> available_isas();

struct SignOps {
  Isa isa;
  // x (n,) float -> out (packed_words(n),) uint32; bit i%32 of word i/32 =
  // x[i] >= 0; tail bits 0. Returns the number of NaN in x (non-zero = error).
  std::size_t (*pack)(const float* x, std::size_t n, std::uint32_t* out);
  // Fused Signum: m[i] = beta*m[i] + (1-beta)*g[i] (in place, m and g (n,)),
  // then pack(m) into out (packed_words(n),). Returns NaN count of the new m.
  std::size_t (*momentum_pack)(float* m, const float* g, std::size_t n, float beta,
                               std::uint32_t* out);
  // Fused unpack + apply, x (n,) in place: x[i] -= lr * (s_i + wd * x[i]),
  // s_i = bit i ? +1 : -1 from bits (packed_words(n),). Tail bits ignored.
  void (*apply)(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd);
  // Majority vote. votes: W rows, row r starts at votes + r*stride (uint32
  // words), `words` valid words each (stride >= words, e.g. wire_words(n)).
  // out (words,) = 1 where ones > W/2, 0 where ones < W/2, and where a tie
  // (even W, ones == W/2) the bit of `ties` (tie_word(round): ties alternate,
  // sign_layout.h). W in [1, 1023], else throws std::invalid_argument. Zero
  // input tail bits give zero output tail bits.
  void (*tally)(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                std::size_t words, std::uint32_t* out, std::uint32_t ties);
  // Fused Lion (Chen et al. 2023): c[i] = beta1*m[i] + (1-beta1)*g[i] packed
  // into out (packed_words(n),), then m[i] = beta2*m[i] + (1-beta2)*g[i] in
  // place. Same op order as momentum_update (beta1 = beta2 = b gives
  // momentum_pack's bits and m). Returns the number of NaN in c.
  std::size_t (*lion_pack)(float* m, const float* g, std::size_t n, float beta1, float beta2,
                           std::uint32_t* out);
};

// Kernels for one ISA; throws std::runtime_error "ISA avx512 not supported by
// this CPU" when the CPU cannot run it.
const SignOps& ops(Isa isa);
// ops(available_isas().front()).
const SignOps& best_ops();
// The config's choice (aggregation.isa): "auto" = best_ops(), else
// ops(parse_isa(name)); throws like parse_isa and ops.
const SignOps& ops_named(std::string_view name);
// aggregation.isa: automatic = best_ops(), else ops() of that ISA.
const SignOps& ops_for(IsaChoice choice);

// Adversary helper: flips the n valid bits of bits (packed_words(n),) in
// place, keeps the tail bits 0.
void invert_signs(std::uint32_t* bits, std::size_t n);

// Debugging / reference: per-coordinate vote counts (scalar, slow).
// counts (words*32,) = number of rows with the bit set, same votes layout as tally.
void tally_counts(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                  std::size_t words, std::uint32_t* counts);

}  // namespace signvote::kernels
