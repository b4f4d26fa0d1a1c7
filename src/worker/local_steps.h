// Local steps (aggregation.local_steps = H > 1, DiLoCo's inner loop) as a
// Problem over the worker's own. compute(step) runs the inner steps
// step-H+1 .. step, each the base problem's gradient and the inner
// optimizer's update of x (inner.*: SGD or AdamW, its state kept across
// rounds), then leaves
//   grads()  = x_start - x_H     (d,) the pseudo-gradient
//   params() = x_start           (d,) the replicas' common point
// so that every round -- the vote over any transport, a dense method, the
// fp32 all-reduce -- aggregates the pseudo-gradient as it would a gradient,
// and the outer rule (optimizer.*) steps from x_start:
//   vote:  x <- x_start - lr (majority sign + wd x_start)
//   mean:  SGD (Nesterov) on the mean pseudo-gradient (DiLoCo).
// Adversaries corrupt g after compute(), so they act on the pseudo-gradient.
// The backward pass's grad-ready hook is not forwarded: only the last inner
// step's gradients would be final, and they are not what the round sends.
#pragma once

#include "signvote/config.h"
#include "worker/problem.h"

#include <memory>

namespace signvote::worker {

// `base` wrapped in the inner loop when aggregation.local_steps > 1, else
// `base` itself (H = 1 is the run without local steps, bit for bit).
std::unique_ptr<Problem> with_local_steps(const Config& cfg, std::unique_ptr<Problem> base);

}  // namespace signvote::worker
