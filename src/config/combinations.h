// The combinations of keys signvote refuses, in one table with the reason
// for each (`signvote config --explain` prints it; docs/configuration.md
// quotes it). Everything not listed composes: any exchange (server shards,
// alltoall) with or without the hierarchy, under either schedule (whole,
// overlap), with or without buckets.
#pragma once

#include "signvote/config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace signvote {

struct Refusal {
  std::string keys;  // the keys involved, e.g. "aggregation.transport=alltoall + cluster.servers>1"
  std::string why;   // the reason, one sentence
  bool (*refuses)(const Config&);
  std::string (*message)(const Config&);  // the one error line parse_config prints (no origin)
};

const std::vector<Refusal>& refusals();
// What `signvote serve` refuses besides (PyTorch workers), checked by serve
// on the server's config and on every worker's.
const std::vector<Refusal>& serve_refusals();

// run.steps under `signvote serve` when the config sets none: "until the
// workers leave".
constexpr int64_t kServeSteps = int64_t{1} << 40;

// The first refusal that applies to c, or nullptr.
const Refusal* refused(const Config& c);
const Refusal* refused_in_serve(const Config& c);

// The table as text: one "keys\n    why\n" block per refusal.
std::string explain_refusals();

}  // namespace signvote
