// Byzantine worker behaviours; table and defaults in include/signvote/adversary.h.
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "robust/counter_rng.h"
#include "signvote/adversary.h"

namespace signvote {
namespace {

// g_i = c_i * scale * |g_i| with c_i = +-1 from bit i%64 of draw i/64
// (one 64-bit draw per 64 coordinates).
void random_signs(float scale, std::span<float> g, std::uint64_t key) {
  std::uint64_t coins = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (i % 64 == 0) coins = robust::draw(key, i / 64);
    const float mag = scale * std::fabs(g[i]);
    g[i] = ((coins >> (i % 64)) & 1u) ? mag : -mag;
  }
}

// g_i ~ N(0, scale^2), Box-Muller on draws (2k, 2k+1) for coordinates
// (2k, 2k+1): z0 = R cos(theta), z1 = R sin(theta).
void gaussian(float scale, std::span<float> g, std::uint64_t key) {
  const double sd = static_cast<double>(scale);
  for (size_t i = 0; i < g.size(); i += 2) {
    const double u1 = robust::uniform53_open0(robust::draw(key, i));      // (0, 1]
    const double u2 = robust::uniform53_open0(robust::draw(key, i + 1));  // (0, 1]
    double z0 = 0, z1 = 0;
    util::box_muller(u1, u2, sd, &z0, &z1);
    g[i] = static_cast<float>(z0);
    if (i + 1 < g.size()) g[i + 1] = static_cast<float>(z1);
  }
}

}  // namespace

AdversaryMode parse_adversary_mode(std::string_view name) {
  if (const auto m = enum_from_name<AdversaryMode>(name)) return *m;
  throw std::invalid_argument("adversary.mode = '" + std::string(name) +
                              "' is not an adversary mode (valid: invert, negative, random, gaussian, collude, alie, ipm)");
}

const char* adversary_mode_name(AdversaryMode mode) {
  const std::string_view name = enum_name(mode);  // a literal from the table, or ""
  return name.empty() ? "?" : name.data();
}

float default_adversary_scale(AdversaryMode mode) {
  switch (mode) {
    case AdversaryMode::negative:
    case AdversaryMode::random: return 10.0f;
    case AdversaryMode::invert:
    case AdversaryMode::gaussian:
    case AdversaryMode::collude:
    case AdversaryMode::alie:
    case AdversaryMode::ipm: return 1.0f;
  }
  return 1.0f;
}

void corrupt_gradient(AdversaryMode mode, float scale, std::span<float> g, std::uint64_t seed,
                      std::uint64_t step) {
  switch (mode) {
    case AdversaryMode::invert:
      for (float& x : g) x = -x;
      return;
    case AdversaryMode::negative:
      for (float& x : g) x *= -scale;
      return;
    case AdversaryMode::random:
      random_signs(scale, g, robust::stream_key(seed, robust::kTagRandomSign, step));
      return;
    case AdversaryMode::gaussian:
      gaussian(scale, g, robust::stream_key(seed, robust::kTagGaussian, step));
      return;
    case AdversaryMode::collude:
    case AdversaryMode::alie:
    case AdversaryMode::ipm:
      return;  // simulated by the server (server_simulated)
  }
  throw std::invalid_argument("corrupt_gradient: invalid AdversaryMode");
}

}  // namespace signvote
