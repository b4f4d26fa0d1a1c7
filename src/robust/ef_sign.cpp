// Error-feedback signSGD (Karimireddy et al., ICML 2019); formulas and wire
// format in include/signvote/compressor.h.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "signvote/sign_kernels.h"
#include "signvote/sign_layout.h"
#include "robust/wire_bytes.h"
#include "signvote/compressor.h"

namespace signvote {

EfSignCodec::EfSignCodec(size_t d) : residual_(d, 0.0f), bits_(kernels::packed_words(d), 0u) {
  if (d == 0) throw std::invalid_argument("EfSignCodec: dimension d must be >= 1");
}

size_t EfSignCodec::encoded_bytes(size_t d) { return 4 + 4 * kernels::packed_words(d); }

void EfSignCodec::reset_residual() { std::fill(residual_.begin(), residual_.end(), 0.0f); }

size_t EfSignCodec::encode(std::span<const float> g, std::span<std::byte> out) {
  const size_t d = dim();
  if (g.size() != d || out.size() < encoded_bytes())
    throw std::invalid_argument("EfSignCodec::encode: got " + std::to_string(g.size()) + " floats / " +
                                std::to_string(out.size()) + " bytes, expected " + std::to_string(d) +
                                " / >= " + std::to_string(encoded_bytes()));
  // Pass 1: p = g + e, in place in the residual; L1 norm in double.
  float* const p = residual_.data();
  double l1 = 0.0;
  size_t nonfinite = 0;
  for (size_t i = 0; i < d; ++i) {
    p[i] = g[i] + p[i];
    if (!std::isfinite(p[i])) ++nonfinite;
    l1 += std::fabs(static_cast<double>(p[i]));
  }
  if (nonfinite > 0) {  // error: zero message, drop the poisoned residual
    reset_residual();
    std::memset(out.data(), 0, encoded_bytes());
    return nonfinite;
  }
  const float scale = static_cast<float>(l1 / static_cast<double>(d));
  // Signs of p with the shared (SIMD) packer; bit 1 <=> p_i >= 0.
  kernels::best_ops().pack(p, d, bits_.data());
  // Pass 2: e = p - scale * sign(p), the part of p the message did not carry.
  for (size_t i = 0; i < d; ++i)
    p[i] = p[i] - scale * kernels::sign_value(kernels::sign_bit(p[i]));
  robust::store_f32(out.data(), scale);
  std::memcpy(out.data() + 4, bits_.data(), 4 * bits_.size());
  return 0;
}

void EfSignCodec::decode(std::span<const std::byte> in, std::span<float> out) {
  const size_t d = out.size();
  if (in.size() < encoded_bytes(d))
    throw std::invalid_argument("EfSignCodec::decode: got " + std::to_string(in.size()) +
                                " bytes, expected >= " + std::to_string(encoded_bytes(d)) + " for d = " +
                                std::to_string(d));
  const float scale = robust::load_f32(in.data());
  std::uint32_t word = 0;
  for (size_t i = 0; i < d; ++i) {
    if (kernels::bit_of(i) == 0) word = robust::load_u32(in.data() + 4 + 4 * kernels::word_of(i));
    out[i] = ((word >> kernels::bit_of(i)) & 1u) ? scale : -scale;
  }
}

}  // namespace signvote
