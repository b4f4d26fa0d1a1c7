#include "config/param_count.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace signvote {
namespace {

using u64 = uint64_t;

// conv k x k without bias (cin -> cout) followed by BatchNorm (scale, shift).
constexpr u64 conv_bn(u64 cin, u64 cout, u64 k) { return cin * cout * k * k + 2 * cout; }
// Linear with bias.
constexpr u64 linear(u64 in, u64 out) { return in * out + out; }

// MaxPool2d(2, 2) without padding: floor((n - 2) / 2) + 1 per side.
constexpr u64 pooled(u64 n) { return n < 2 ? 0 : (n - 2) / 2 + 1; }

// builders.cpp's small_cnn: [conv3x3 + BN + ReLU + maxpool2] x 2 with
// max(1, width/4) and max(1, width/2) channels, then a linear classifier.
u64 small_cnn_params(const nn::ModelSpec& s) {
  const u64 c1 = static_cast<u64>(std::max(1, s.width / 4)), c2 = static_cast<u64>(std::max(1, s.width / 2));
  const u64 side = pooled(pooled(static_cast<u64>(s.image_size)));
  return conv_bn(static_cast<u64>(s.in_channels), c1, 3) + conv_bn(c1, c2, 3) +
         linear(c2 * side * side, static_cast<u64>(s.num_classes));
}

// builders.cpp's mlp: flatten -> linear(2 * width) -> ReLU -> linear(classes).
u64 mlp_params(const nn::ModelSpec& s) {
  const u64 in = static_cast<u64>(s.in_channels) * static_cast<u64>(s.image_size) * static_cast<u64>(s.image_size);
  const u64 hidden = 2 * static_cast<u64>(s.width);
  return linear(in, hidden) + linear(hidden, static_cast<u64>(s.num_classes));
}

// The stem for in_channels other than 3 (resnet18_params counts 3).
u64 resnet18_spec_params(const nn::ModelSpec& s) {
  const u64 w = static_cast<u64>(s.width), cin = static_cast<u64>(s.in_channels);
  return resnet18_params(w, static_cast<u64>(s.num_classes)) - 3 * w * 9 + cin * w * 9;
}

}  // namespace

uint64_t resnet18_params(uint64_t w, uint64_t classes) {
  u64 total = conv_bn(3, w, 3), cin = w;  // stem
  for (int stage = 0; stage < 4; ++stage) {
    const u64 c = w << stage;
    total += conv_bn(cin, c, 3) + conv_bn(c, c, 3);        // block 1
    if (stage > 0 || cin != c) total += conv_bn(cin, c, 1);  // 1x1 shortcut + BN
    total += 2 * conv_bn(c, c, 3);                          // block 2
    cin = c;
  }
  return total + linear(cin, classes);
}

uint64_t count_params(const nn::ModelSpec& s) {
  for (const auto& [v, what] : {std::pair{s.width, "width"}, {s.num_classes, "num_classes"},
                                {s.in_channels, "in_channels"}, {s.image_size, "image_size"}})
    if (v < 1) throw std::invalid_argument(std::string("ModelSpec.") + what + " = " + std::to_string(v) + " must be >= 1");
  switch (s.name) {
    case ModelName::resnet18: return resnet18_spec_params(s);
    case ModelName::small_cnn: return small_cnn_params(s);
    case ModelName::mlp: return mlp_params(s);
    default: break;
  }
  throw std::invalid_argument("unknown model name '" + std::string(enum_name(s.name)) + "' (known: resnet18, small_cnn, mlp)");
}

}  // namespace signvote
