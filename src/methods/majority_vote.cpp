// majority_vote (signSGD / Signum with majority vote, Bernstein et al. 2019):
// each worker sends the packed signs of its momentum, 1 bit per coordinate;
// the server's tally (server/shard_server.h) returns the packed majority.
// Coordinates are independent, so any number of server shards works.
#include "methods/method.h"

namespace signvote::methods {
namespace {

class MajorityVote final : public Method {
 public:
  const char* name() const override { return "majority_vote"; }
  RoundKind round_kind() const override { return RoundKind::vote; }
};

}  // namespace

const Method& majority_vote_method() {
  static const MajorityVote m;
  return m;
}

}  // namespace signvote::methods
