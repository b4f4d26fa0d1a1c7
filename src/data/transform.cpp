#include "data/transform.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "data/cifar10.h"
#include "data/rng.h"

namespace signvote::data {
namespace {

// Source index for padded coordinate p (= output coord + offset - pad) in
// [-pad, 32+pad); -1 means "pad pixel" under zero padding.
int source_index(int p, PadMode mode) {
  if (p >= 0 && p < kImageSide) return p;
  if (mode == PadMode::zero) return -1;
  return p < 0 ? -p : 2 * (kImageSide - 1) - p;  // reflect, no edge repeat
}

void check_pad(int pad) {
  if (pad < 0 || pad >= kImageSide)
    throw std::invalid_argument("augmentation pad " + std::to_string(pad) +
                                " out of range [0, 31]");
}

}  // namespace

const char* pad_mode_name(PadMode m) { return enum_name(m).data(); }  // table entries are literals

PadMode parse_pad_mode(std::string_view name) {
  if (const auto m = enum_from_name<PadMode>(name)) return *m;
  throw std::invalid_argument("unknown pad mode '" + std::string(name) +
                              "' (expected zero or reflect)");
}

Augment draw_augment(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index, int pad) {
  check_pad(pad);
  rng::Stream s(rng::stream_key(seed, rng::kTagAugment, epoch, index));
  const auto range = static_cast<std::uint64_t>(2 * pad + 1);
  Augment a;
  a.dx = static_cast<int>(s.below(range));
  a.dy = static_cast<int>(s.below(range));
  a.flip = s.below(2) == 1;
  return a;
}

PixelConverter::PixelConverter(const Normalize& norm) {
  for (int c = 0; c < kChannels; ++c) {
    if (!(norm.std[c] > 0.0f) || !std::isfinite(norm.mean[c]))
      throw std::invalid_argument("normalisation std must be > 0 and mean finite (channel " +
                                  std::to_string(c) + ")");
    for (int v = 0; v < 256; ++v)
      lut_[c][v] = static_cast<float>((v / 255.0 - norm.mean[c]) / norm.std[c]);
  }
}

void PixelConverter::convert(const std::uint8_t* src, float* dst) const {
  for (int c = 0; c < kChannels; ++c) {
    const auto& lut = lut_[c];
    for (int i = 0; i < kPlanePixels; ++i) dst[c * kPlanePixels + i] = lut[src[c * kPlanePixels + i]];
  }
}

void PixelConverter::convert_augmented(const std::uint8_t* src, float* dst, const Augment& a,
                                       int pad, PadMode mode) const {
  check_pad(pad);
  if (a.dx < 0 || a.dx > 2 * pad || a.dy < 0 || a.dy > 2 * pad)
    throw std::invalid_argument("augmentation offset outside [0, 2*pad]");
  // Source row / column for each output row / column (-1 = zero pad).
  std::array<int, kImageSide> rows{}, cols{};
  for (int i = 0; i < kImageSide; ++i) {
    rows[i] = source_index(i + a.dy - pad, mode);
    const int x = a.flip ? kImageSide - 1 - i : i;
    cols[i] = source_index(x + a.dx - pad, mode);
  }
  for (int c = 0; c < kChannels; ++c) {
    const auto& lut = lut_[c];
    const std::uint8_t* plane = src + c * kPlanePixels;
    float* out = dst + c * kPlanePixels;
    for (int y = 0; y < kImageSide; ++y) {
      for (int x = 0; x < kImageSide; ++x) {
        const bool inside = rows[y] >= 0 && cols[x] >= 0;
        out[y * kImageSide + x] = lut[inside ? plane[rows[y] * kImageSide + cols[x]] : 0];
      }
    }
  }
}

}  // namespace signvote::data
