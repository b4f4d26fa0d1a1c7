// GPU placement and NCCL waiting rules, on the CPU: comm::plan_gpus over
// injected GPU identities (what each worker rank's device reports), and
// the poll verdicts of a nonblocking NCCL communicator.
#include <catch2/catch.hpp>

#include "comm/gpu_plan.h"
#include "comm/nccl_wait.h"

#include <chrono>
#include <string>
#include <vector>

using namespace signvote::comm;
using namespace std::chrono_literals;

namespace {

// Identities as gpu_identity makes them: host / PCI bus id.
const std::string A = "node0/0000:1b:00.0";
const std::string B = "node0/0000:3b:00.0";
const std::string C = "node1/0000:1b:00.0";
const std::string D = "node1/0000:3b:00.0";

}  // namespace

TEST_CASE("every worker rank on its own GPU: NCCL, whatever the counts", "[comm][placement]") {
  // 4 workers on a 4-GPU node, unrestricted: devices 0..3 of the node.
  for (bool allowed : {false, true}) {
    const GpuPlan p = plan_gpus({A, B, C, D}, allowed, 1);
    CHECK_FALSE(p.shared);
    CHECK(p.error.empty());
    CHECK(p.sharing.empty());
    CHECK(p.ranks == 4);
    CHECK(p.distinct == 4);
  }
}

TEST_CASE("CUDA_VISIBLE_DEVICES per rank: each sees device 0, the bus ids differ", "[comm][placement]") {
  // Slurm --gpus-per-task=1: every rank's only visible device is index 0,
  // one GPU per rank; counting visible devices (1 < 4 ranks) was wrong.
  const GpuPlan p = plan_gpus({A, B, C, D}, false, 1);
  CHECK_FALSE(p.shared);
  CHECK(p.error.empty());
}

TEST_CASE("two ranks on one GPU without model.share_gpus: an error naming the rank", "[comm][placement]") {
  // 1 server (rank 0), 3 workers (ranks 1..3); ranks 1 and 3 hold GPU A.
  const GpuPlan p = plan_gpus({A, B, A}, false, 1);
  CHECK(p.shared);
  CHECK(p.distinct == 2);
  CHECK(p.error ==
        "rank 3: its GPU " + A + " is already used by rank 1 (3 worker ranks on 2 distinct GPU(s)); start one worker "
        "rank per GPU, or set model.share_gpus: true");
  CHECK(p.sharing == A + ": ranks 1, 3");
}

TEST_CASE("two ranks on one GPU with model.share_gpus: shared, MPI, no error", "[comm][placement]") {
  const GpuPlan p = plan_gpus({A, B, A}, true, 1);
  CHECK(p.shared);
  CHECK(p.error.empty());
  CHECK(p.sharing == A + ": ranks 1, 3");
}

TEST_CASE("several shared GPUs are all listed, in order of first holder", "[comm][placement]") {
  // 2 nodes of 2 GPUs, 8 workers (ranks 2..9), round-robin on each node.
  const GpuPlan p = plan_gpus({A, B, A, B, C, D, C, D}, true, 2);
  CHECK(p.shared);
  CHECK(p.distinct == 4);
  CHECK(p.sharing == A + ": ranks 2, 4; " + B + ": ranks 3, 5; " + C + ": ranks 6, 8; " + D + ": ranks 7, 9");
  const GpuPlan q = plan_gpus({A, B, A, B, C, D, C, D}, false, 2);
  CHECK(q.error.rfind("rank 4: its GPU " + A + " is already used by rank 2 (8 worker ranks on 4 distinct GPU(s))", 0) == 0);
}

TEST_CASE("the same GPU on two nodes is impossible, the same bus id is not", "[comm][placement]") {
  // Equal bus ids on two hosts are two GPUs; MIG instances of one GPU
  // (one bus id, different UUIDs) are one, as NCCL sees them.
  CHECK_FALSE(plan_gpus({"node0/0000:3b:00.0", "node1/0000:3b:00.0"}, false).shared);
  CHECK(plan_gpus({"node0/0000:3b:00.0", "node0/0000:3b:00.0"}, true).shared);
}

TEST_CASE("ranks without a GPU (empty ids) are never counted as sharing", "[comm][placement]") {
  const GpuPlan p = plan_gpus({"", A, "", B}, false, 1);
  CHECK_FALSE(p.shared);
  CHECK(p.error.empty());
  CHECK(p.distinct == 2);
  CHECK(p.ranks == 4);
  CHECK_FALSE(plan_gpus({}, false).shared);
  CHECK_FALSE(plan_gpus({A}, false).shared);
}

TEST_CASE("NCCL poll verdicts: done, wait, abort on error, abort on timeout", "[comm][nccl]") {
  const auto t = std::chrono::steady_clock::duration(60s);
  CHECK(nccl_verdict(NcclState::done, 0s, t) == NcclVerdict::done);
  CHECK(nccl_verdict(NcclState::done, 120s, t) == NcclVerdict::done);  // finished late still counts
  CHECK(nccl_verdict(NcclState::in_progress, 0s, t) == NcclVerdict::wait);
  CHECK(nccl_verdict(NcclState::in_progress, 59999ms, t) == NcclVerdict::wait);
  CHECK(nccl_verdict(NcclState::in_progress, 60s, t) == NcclVerdict::abort_timed_out);
  CHECK(nccl_verdict(NcclState::failed, 0s, t) == NcclVerdict::abort_failed);
  CHECK(nccl_verdict(NcclState::failed, 120s, t) == NcclVerdict::abort_failed);  // the error, not the timeout
  CHECK(kNcclTimeout == 60s);
}

TEST_CASE("NCCL abort messages: file:line, call, reason, NCCL's last error", "[comm][nccl]") {
  CHECK(nccl_abort_message("nccl_comm.cpp", 42, "ncclAllReduce(...)", "remote process exited or there was a network error",
                           "NET/IB : Got completion with error 12") ==
        "nccl_comm.cpp:42: ncclAllReduce(...): remote process exited or there was a network error "
        "(NET/IB : Got completion with error 12); communicator aborted");
  CHECK(nccl_abort_message("f.cpp", 7, "ncclCommInitRankConfig(...)", nccl_timeout_text(60s), "") ==
        "f.cpp:7: ncclCommInitRankConfig(...): timed out after 60 s; communicator aborted");
  CHECK(nccl_timeout_text(1500ms) == "timed out after 1500 ms");
}
