// Attacks that target the aggregation, SIMULATED BY THE SERVER as an
// omniscient, colluding attacker (adversary.mode collude | alie | ipm). A
// real adversary would need every honest worker's message of the round;
// here the server, which has them, replaces the adversaries' rows with the
// attack before it aggregates. The adversaries' own messages are ignored.
//
//   collude (majority_vote)  every adversary votes -sign(S), S the honest
//            sum per coordinate (S = 0 counts as +: they vote -1). Where
//            |S| <= f the f colluders flip or tie the coordinate; elsewhere
//            they cannot. Bits: adversary row = NOT(tally of the honest rows).
//   alie     (dense; Baruch et al. 2019, "A little is enough") every
//            adversary sends mu - z sigma, mu and sigma the coordinate-wise
//            mean and standard deviation (population, over the n - f honest
//            rows), s = floor(n/2 + 1) - f, z = Phi^-1((n - f - s)/(n - f)).
//   ipm      (dense; Xie et al. 2020, inner-product manipulation) every
//            adversary sends -eps * mean(honest), eps = adversary.scale.
#pragma once

#include "server/shard_server.h"
#include "signvote/sign_kernels.h"

#include <vector>

namespace signvote::server {

// rows[k] is an adversary's row iff adversary[k] (one flag per voter).
AggregateFn colluding_vote(const kernels::SignOps& ops, std::vector<char> adversary);

// The dense attacks: fills every adversary row of `rows` (W pointers to d
// floats; adversary rows point at writable scratch) from the honest ones.
struct DenseAttack {
  enum Kind { alie, ipm } kind = alie;
  float z = 0;    // alie
  float eps = 0;  // ipm
  void apply(const std::vector<const float*>& rows, const std::vector<char>& adversary, size_t d,
             const std::vector<float*>& writable) const;
};

// z of ALIE for n workers of which f are adversaries; throws
// std::invalid_argument when s = floor(n/2 + 1) - f < 1 (f too large).
float alie_z(int n, int f);
// Phi^-1(p), the standard normal quantile, p in (0, 1) (Newton on std::erfc).
double normal_quantile(double p);

}  // namespace signvote::server
