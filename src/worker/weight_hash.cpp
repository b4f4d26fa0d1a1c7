#include "worker/weight_hash.h"

#include "formats/hash.h"

namespace signvote::worker {

uint64_t WeightHash::at(uint64_t step, Problem& p) const {
  if (!due(step)) return 0;
  p.pull(Flat::params);
  return data::hash_floats(p.params()) | 1u;
}

}  // namespace signvote::worker
