// What one round carries and how the server combines it, for every
// aggregation.method (the all-reduce baseline has header-only rounds); each
// method's object (src/methods/<name>.cpp) says its format and its
// decoder + rule, make_aggregate adds the tally or the simulated attacks:
//
//   method              VOTE payload (worker -> server)   RESULT payload
//   majority_vote       packed signs, 1 bit/coordinate    packed majority
//   mean, multi_krum,   fp32 gradient                     fp32 aggregate
//   coordinate_median
//   qsgd                QsgdCodec message (norm, signs,   fp32 mean of the
//                       level indices)                    decoded gradients
//   ef_sign             EfSignCodec message (scale, signs) fp32 mean of the
//                                                         decoded gradients
#pragma once

#include "comm/wire.h"
#include "config/run_plan.h"
#include "signvote/sign_kernels.h"
#include "server/shard_server.h"
#include "signvote/config.h"

namespace signvote::server {

// The server's combine step for cfg.aggregation.method over `workers` rows
// of one shard of `shard_length` coordinates: the sign tally for a vote
// method, else the method's ServerSide (methods/method.h).
AggregateFn make_aggregate(const Config& cfg, int workers, size_t shard_length, const kernels::SignOps& ops);

}  // namespace signvote::server
