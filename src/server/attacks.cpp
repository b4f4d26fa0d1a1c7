#include "server/attacks.h"

#include "signvote/aligned_buffer.h"
#include "signvote/sign_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <stdexcept>

namespace signvote::server {

AggregateFn colluding_vote(const kernels::SignOps& ops, std::vector<char> adversary) {
  auto scratch = std::make_shared<AlignedBuffer<uint32_t>>();
  return [&ops, adversary = std::move(adversary), scratch](const uint32_t* rows, size_t W, size_t stride,
                                                            const comm::Range& shard, uint32_t* out, uint32_t ties) {
    const size_t words = comm::payload_words(shard.length);
    if (scratch->size() < (W + 1) * words) *scratch = AlignedBuffer<uint32_t>((W + 1) * words);
    uint32_t* honest_majority = scratch->data() + W * words;
    size_t h = 0;  // honest rows first, packed at the start of the scratch
    for (size_t k = 0; k < W; ++k)
      if (!adversary[k]) std::copy_n(rows + k * stride, words, scratch->data() + h++ * words);
    if (h == 0) {  // nobody honest: the adversaries have nothing to oppose
      ops.tally(rows, W, stride, words, out, ties);
      return;
    }
    ops.tally(scratch->data(), h, words, words, honest_majority, ties);  // bit 1 iff S > 0 (S = 0: the tie's bit)
    kernels::invert_signs(honest_majority, shard.length);          // -sign(S), tail bits 0
    for (size_t r = h; r < W; ++r) std::copy_n(honest_majority, words, scratch->data() + r * words);
    ops.tally(scratch->data(), W, words, words, out, ties);
  };
}

void DenseAttack::apply(const std::vector<const float*>& rows, const std::vector<char>& adversary, size_t d,
                        const std::vector<float*>& writable) const {
  size_t honest = 0;
  for (char a : adversary) honest += a ? 0 : 1;
  if (honest == 0) return;
  for (size_t i = 0; i < d; ++i) {
    double mean = 0, sq = 0;
    for (size_t k = 0; k < rows.size(); ++k)
      if (!adversary[k]) mean += rows[k][i];
    mean /= double(honest);
    float value = static_cast<float>(-eps * mean);  // ipm
    if (kind == alie) {                             // sigma: alie alone needs it
      for (size_t k = 0; k < rows.size(); ++k)
        if (!adversary[k]) sq += (rows[k][i] - mean) * (rows[k][i] - mean);
      value = static_cast<float>(mean - z * std::sqrt(sq / double(honest)));
    }
    for (size_t k = 0; k < rows.size(); ++k)
      if (adversary[k]) writable[k][i] = value;
  }
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument(fmt::format("normal_quantile: p = {} is not in (0, 1)", p));
  double x = 0;  // Newton on Phi(x) - p, Phi(x) = erfc(-x / sqrt 2) / 2
  for (int it = 0; it < 100; ++it) {
    const double f = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
    const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
    const double step = f / std::max(pdf, 1e-300);
    x -= std::clamp(step, -1.0, 1.0);  // damped far in the tails
    if (std::fabs(step) < 1e-14) break;
  }
  return x;
}

float alie_z(int n, int f) {
  const int s = n / 2 + 1 - f;
  if (s < 1)
    throw std::invalid_argument(fmt::format(
        "adversary.mode = alie needs s = floor(n/2 + 1) - f >= 1, but n = {} workers and f = {} adversaries give s = {}",
        n, f, s));
  return static_cast<float>(normal_quantile(double(n - f - s) / double(n - f)));
}

}  // namespace signvote::server
