// Per-image transforms: uint8 CHW -> normalised float CHW, optionally through
// the standard CIFAR augmentation (pad, random 32x32 crop, horizontal flip).
//
// Order of operations, matching torchvision's RandomCrop(32, padding=P) ->
// RandomHorizontalFlip -> ToTensor -> Normalize:
//   padded(y, x)  = src(y - P, x - P) inside, else the pad rule (below),
//                   (3, 32+2P, 32+2P)
//   cropped(y, x) = padded(y + dy, x + dx),     dx, dy in [0, 2P]
//   out(y, x)     = cropped(y, flip ? 31 - x : x)
//   value         = (v / 255 - mean[c]) / std[c]
// Zero padding pads raw pixel value 0 (black) before normalisation, so a pad
// pixel becomes -mean[c]/std[c]. Reflect padding mirrors without repeating
// the edge (numpy 'reflect': index -1 -> 1, 32 -> 30).
#pragma once

#include "signvote/config_enums.h"

#include <array>
#include <cstdint>
#include <string_view>

namespace signvote::data {

using PadMode = signvote::PadMode;  // data.pad_mode (signvote/config_enums.h)

// "zero" | "reflect"; parse throws std::invalid_argument naming the value.
const char* pad_mode_name(PadMode m);
PadMode parse_pad_mode(std::string_view name);

// Per-channel (R, G, B) statistics of pixel/255 over the CIFAR-10 train set.
struct Normalize {
  std::array<float, 3> mean{0.4914f, 0.4822f, 0.4465f};
  std::array<float, 3> std{0.2470f, 0.2435f, 0.2616f};
};

// One image's augmentation draw: crop offset into the padded image and flip.
struct Augment {
  int dx = 0;  // column offset, [0, 2*pad]
  int dy = 0;  // row offset, [0, 2*pad]
  bool flip = false;
};

// The draw for dataset image `index` in `epoch`: a pure function of its
// arguments (counter-based RNG, data/rng.h), independent of batch size,
// shard and position. pad in [0, 31].
Augment draw_augment(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index, int pad);

// Converts images with a 3 x 256 lookup table built once from a Normalize:
// lut[c][v] = float((v/255.0 - mean[c]) / std[c]) computed in double.
class PixelConverter {
 public:
  explicit PixelConverter(const Normalize& norm);

  float value(int channel, std::uint8_t v) const { return lut_[channel][v]; }
  // src (3, 32, 32) uint8 -> dst (3, 32, 32) float, no augmentation.
  void convert(const std::uint8_t* src, float* dst) const;
  // src (3, 32, 32) uint8 -> dst (3, 32, 32) float through pad / crop / flip
  // as in the header comment. pad in [0, 31]; a.dx, a.dy in [0, 2*pad].
  void convert_augmented(const std::uint8_t* src, float* dst, const Augment& a, int pad,
                         PadMode mode) const;

 private:
  std::array<std::array<float, 256>, 3> lut_{};
};

}  // namespace signvote::data
