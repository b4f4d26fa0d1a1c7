// Byzantine worker behaviours for the robustness experiments (Bernstein et
// al., ICLR 2019, Sec. 4 / App.; Blanchard et al. 2017). An adversary
// computes its honest gradient g, then replaces it by corrupt_gradient(g)
// before sending. For sign aggregation `invert` is applied to the packed
// bits instead (kernels::invert_signs), which equals packing -g except at
// g_i == 0 (sign(0) = +1 in both cases, so -0 packs as +1; invert gives -1).
//
//   mode       result                                        default scale
//   invert     g_i = -g_i              (scale ignored)          1
//   negative   g_i = -scale * g_i                              10 (paper)
//   random     g_i = c_i * scale * |g_i|, c_i = +-1 fair coin  10
//   gaussian   g_i = N(0, scale^2), independent of g            1
//
// Randomness (random, gaussian) is a pure function of (seed, step, i)
// (SplitMix64, counter based; Box-Muller for the normal), so runs are
// reproducible. Pass a per-worker seed (e.g. hash of run seed and worker
// index) so that colluding adversaries do not send identical noise, unless
// that is the experiment.
#pragma once

#include "signvote/config_enums.h"

#include <cstdint>
#include <span>
#include <string_view>

namespace signvote {

// AdversaryMode (signvote/config_enums.h, with its name table): collude, alie
// and ipm are simulated by the server as an omniscient attacker
// (src/server/attacks.h): the adversary workers send honest messages and
// corrupt_gradient leaves g alone.
// collude | alie | ipm: the server forges the adversaries' rows.
inline bool server_simulated(AdversaryMode m) {
  return m == AdversaryMode::collude || m == AdversaryMode::alie || m == AdversaryMode::ipm;
}

// "invert" | "negative" | "random" | "gaussian" | "collude" | "alie" | "ipm"; throws std::invalid_argument
// naming the bad value, the key `adversary.mode` and the valid values.
AdversaryMode parse_adversary_mode(std::string_view name);
const char* adversary_mode_name(AdversaryMode mode);
// Default scale of each mode (table above).
float default_adversary_scale(AdversaryMode mode);

// g (d,) in place, per the table above. Deterministic in (seed, step).
void corrupt_gradient(AdversaryMode mode, float scale, std::span<float> g, std::uint64_t seed,
                      std::uint64_t step);

}  // namespace signvote
