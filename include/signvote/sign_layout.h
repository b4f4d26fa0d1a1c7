// The ONE definition of the packed-sign bit layout, shared by the CPU kernels
// (.cpp, any ISA) and the CUDA kernels (.cu). Everything here is plain integer
// / float maths usable on host and device.
//
// Layout of a packed sign vector for n coordinates (n = 70 shown):
//
//   coordinate i  ->  word i / 32, bit i % 32 (bit 0 = LSB)
//
//   word 0                      word 1                      word 2
//   bit 31 ............... 0    bit 31 ............... 0    bit 31 ... 6 5 ... 0
//   [x31 x30 ...  x1  x0]       [x63 x62 ... x33 x32]       [0 0 ... 0 x69..x64]
//                                                            '-- tail --'
//   packed_words(70) = 3, tail_mask(70) = 0x3F (6 valid bits in word 2)
//
//   bit = 1  <=>  sign +1  <=>  x >= 0.0f  (+0.0f and -0.0f both give +1)
//   bit = 0  <=>  sign -1  <=>  x <  0.0f  (and NaN, which is also COUNTED:
//                                           pack returns the number of NaNs,
//                                           callers treat non-zero as error)
//
// Tail padding: bits of the last word beyond n are 0 after pack; apply ignores
// them; tally of zero-tailed inputs has zero tail bits (0 votes < threshold).
//
// Wire padding: in gather buffers each worker's vector occupies
// wire_words(n) = round_up(packed_words(n), 16) words (64-byte slots, MPI
// gather was 3.7x slower with unaligned slots). Padding words are ignored.
//
//   gather buffer (W workers):  [ worker 0: packed | pad ][ worker 1 ... ]
//                               <------ wire_words(n) ---->
//
// Majority vote over W workers (signSGD with majority vote, Bernstein et al.
// ICLR 2019): output bit = 1 iff sum of +-1 votes > 0, 0 iff < 0.
// Ties (even W, ones == W/2: sign(sum) = 0, which one bit cannot say)
// alternate: coordinate i of round r goes to +1 iff i + r is even
// (tie_word; r = step / H, the round's index, H = aggregation.local_steps).
// A coordinate tied round after round moves -lr, +lr, ...: no drift, where
// a fixed +1 moved every tied coordinate down every round.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define SV_HD __host__ __device__
#define SV_INLINE __forceinline__
#else
#define SV_HD
// always_inline: these helpers are included by TUs compiled with different
// -m flags (scalar / AVX2 / AVX-512). Forcing inlining (also at -O0) means no
// out-of-line COMDAT copy exists for the linker to pick from an AVX TU and run
// on the scalar path of a CPU that lacks AVX.
#define SV_INLINE inline __attribute__((always_inline))
#endif
// Full unroll of the (<= 11 iteration) counter-plane loops: device pass uses
// nvcc's pragma, g++ GCC's; nothing in nvcc's host pass (cudafe rejects the
// GCC pragma, and .cu host code never runs these loops hot).
#if defined(__CUDA_ARCH__)
#define SV_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define SV_UNROLL
#else
#define SV_UNROLL _Pragma("GCC unroll 16")
#endif

namespace signvote::kernels {

inline constexpr std::size_t kBitsPerWord = 32;
// 16 words = 64 bytes: per-worker slot alignment in gather buffers.
inline constexpr std::size_t kWireAlignWords = 16;
// Largest supported number of voters; counters are at most 11 bit-planes.
inline constexpr std::size_t kMaxVoters = 1023;
inline constexpr int kMaxCounterBits = 10;  // 2^10 = 1024 >= kMaxVoters

// n coordinates -> ceil(n / 32) uint32 words.
SV_HD SV_INLINE constexpr std::size_t packed_words(std::size_t n) {
  return (n + kBitsPerWord - 1) / kBitsPerWord;
}
// Word holding coordinate i.
SV_HD SV_INLINE constexpr std::size_t word_of(std::size_t i) { return i / kBitsPerWord; }
// Bit position (0 = LSB) of coordinate i inside its word.
SV_HD SV_INLINE constexpr unsigned bit_of(std::size_t i) {
  return static_cast<unsigned>(i % kBitsPerWord);
}
// Valid-bit mask of the LAST word of an n-coordinate vector (all ones when n
// is a multiple of 32; n == 0 has no words, the mask is then all ones too).
SV_HD SV_INLINE constexpr std::uint32_t tail_mask(std::size_t n) {
  const unsigned r = bit_of(n);
  return r == 0 ? 0xFFFFFFFFu : ((1u << r) - 1u);
}
// Valid-bit mask of word w of an n-coordinate vector (0 for words past the end).
SV_HD SV_INLINE constexpr std::uint32_t word_mask(std::size_t n, std::size_t w) {
  const std::size_t words = packed_words(n);
  return w + 1 < words ? 0xFFFFFFFFu : (w + 1 == words ? tail_mask(n) : 0u);
}
// Words per worker slot in gather buffers: packed_words rounded up to 16.
SV_HD SV_INLINE constexpr std::size_t wire_words(std::size_t n) {
  return (packed_words(n) + kWireAlignWords - 1) / kWireAlignWords * kWireAlignWords;
}

// Word w of an n-coordinate vector with every valid sign flipped (the
// adversary's "invert" mode); padding bits stay 0.
SV_HD SV_INLINE constexpr std::uint32_t inverted_word(std::uint32_t word, std::size_t n, std::size_t w) {
  return ~word & word_mask(n, w);
}

// Sign bit of one coordinate: 1 (+1) iff x >= 0 (+-0 -> 1, NaN -> 0).
SV_HD SV_INLINE constexpr std::uint32_t sign_bit(float x) { return x >= 0.0f ? 1u : 0u; }
// The packs count non-finite coordinates (NaN and +-inf: x - x is NaN for
// them, 0 otherwise) and the worker reports them as nan_gradient: an
// infinite momentum would otherwise vote +1 or -1 forever without a word.
SV_HD SV_INLINE bool non_finite(float x) { return !(x - x == x - x); }
// Bit (0 or 1) -> -1.0f / +1.0f; arithmetic, not a branch (random sign bits
// mispredict: a branchy scalar apply ran 65 ms for 11.2M coordinates).
SV_HD SV_INLINE constexpr float sign_value(std::uint32_t bit) {
  return static_cast<float>(static_cast<int>(bit & 1u) * 2 - 1);
}
// Bit of coordinate i in a packed vector.
SV_HD SV_INLINE constexpr std::uint32_t get_bit(const std::uint32_t* bits, std::size_t i) {
  return (bits[word_of(i)] >> bit_of(i)) & 1u;
}

// Majority vote: output +1 iff ones >= ceil(W/2), except a tie (even W,
// ones == W/2), which takes tie_bit.
SV_HD SV_INLINE constexpr std::uint32_t majority_threshold(std::uint32_t W) {
  return (W + 1u) / 2u;
}
SV_HD SV_INLINE constexpr std::uint32_t majority_bit(std::uint32_t ones, std::uint32_t W, std::uint32_t tie_bit) {
  if (W % 2u == 0 && 2u * ones == W) return tie_bit & 1u;
  return ones >= majority_threshold(W) ? 1u : 0u;
}
// The bits ties take in round r: bit b (coordinate 32w + b, any word w:
// ranges start on whole words, so b's parity is the coordinate's) = 1 iff
// b + r is even. Every tally of round r gets tie_word(r). The round index,
// not the step: with H local steps every step is a multiple of H, and for an
// even H the step's parity would send every tie of a coordinate the same way.
SV_HD SV_INLINE constexpr std::uint32_t tie_word(std::uint64_t round) {
  return (round & 1u) ? 0xAAAAAAAAu : 0x55555555u;
}
// Coordinate i's bit in round r, for references: majority_bit(ones, W, tie_bit(i, r)).
SV_HD SV_INLINE constexpr std::uint32_t tie_bit(std::uint64_t i, std::uint64_t round) {
  return ((i + round) & 1u) ? 0u : 1u;
}

// ---- element-wise float maths (bit-exact across scalar, SIMD and CUDA) ----
// Every operation is a separately rounded IEEE op: CPU kernels are compiled
// with -ffp-contract=off, device code uses the _rn intrinsics (nvcc would
// otherwise contract into FMA). SIMD kernels repeat exactly this op sequence.

SV_HD SV_INLINE float fmul(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
SV_HD SV_INLINE float fadd(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
SV_HD SV_INLINE float fsub(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
// Signum momentum: m' = beta*m + omb*g with omb = 1.0f - beta (computed once, float).
SV_HD SV_INLINE float momentum_update(float m, float g, float beta, float omb) {
  return fadd(fmul(beta, m), fmul(omb, g));
}
// Sign descent step: x' = x - lr * (s + wd * x), s = +-1.
SV_HD SV_INLINE float apply_update(float x, float s, float lr, float wd) {
  return fsub(x, fmul(lr, fadd(s, fmul(wd, x))));
}

// ---- bit-sliced vote counting (any V with & and ^: uint32/64, SIMD) -------
// A counter per bit position, stored "vertically": plane k holds bit k of all
// counters. K = counter_bits(W) is the smallest K with 2^K >= W. The counter
// is preloaded with 2^K - T (T = majority_threshold(W)); after adding all W
// votes it holds 2^K - T + ones, whose bit K is set iff ones >= T. The sum
// stays below 2^(K+1) (ones - T < 2^K), so K+1 planes never overflow.

SV_HD SV_INLINE constexpr int counter_bits(std::uint32_t W) {
  int k = 0;
  while ((1u << k) < W) ++k;
  return k;
}
SV_HD SV_INLINE constexpr std::uint32_t counter_preload(std::uint32_t W) {
  return (1u << counter_bits(W)) - majority_threshold(W);
}

// planes[k] = all-ones where bit k of counter_preload(W) is set, else zero.
template <int K, class V>
SV_HD SV_INLINE void bitslice_preload(V (&planes)[K + 1], std::uint32_t W, V zero, V ones) {
  const std::uint32_t init = counter_preload(W);
  SV_UNROLL
  for (int k = 0; k <= K; ++k) planes[k] = ((init >> k) & 1u) ? ones : zero;
}

// Adds one vote word (1 bit per counter) into the counters: ripple of K half
// adders, the top plane only needs the sum (it cannot carry out, see above).
template <int K, class V>
SV_HD SV_INLINE void bitslice_add(V (&planes)[K + 1], V vote) {
  SV_UNROLL
  for (int k = 0; k < K; ++k) {
    const V carry = planes[k] & vote;
    planes[k] = planes[k] ^ vote;
    vote = carry;
  }
  planes[K] = planes[K] ^ vote;
}

// The output word once all W votes are in: plane K (ones >= T), but where W
// is even and ones == T = W/2 (a tie: the counter is exactly 2^K, so plane K
// set and planes 0..K-1 clear) the bit of `ties`.
template <int K, class V>
SV_HD SV_INLINE V bitslice_result(const V (&planes)[K + 1], std::uint32_t W, V ties) {
  if (W % 2u != 0 || K == 0) return planes[K];
  V low = planes[0];
  SV_UNROLL
  for (int k = 1; k < K; ++k) low = low | planes[k];
  const V tie = planes[K] & ~low;
  return (planes[K] & ~tie) | (tie & ties);
}

}  // namespace signvote::kernels
