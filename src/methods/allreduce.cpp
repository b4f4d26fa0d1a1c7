// allreduce: the fp32 baseline. The workers all-reduce their gradients among
// themselves (MPI, or NCCL on cuda workers) and step SGD/Adam; the server
// only validates header-only REPORTs, so it cannot be sharded.
#include "methods/method.h"

namespace signvote::methods {
namespace {

class Allreduce final : public Method {
 public:
  const char* name() const override { return "allreduce"; }
  RoundKind round_kind() const override { return RoundKind::allreduce; }
  const char* unshardable_reason() const override { return "its servers only validate reports"; }
};

}  // namespace

const Method& allreduce_method() {
  static const Allreduce m;
  return m;
}

}  // namespace signvote::methods
