// comm::NcclComm on real GPUs (one MPI rank per GPU):
//
//   test_nccl sum        every rank sums n floats; exact integer check
//                        (run alone, or mpiexec -np 2 with 2 GPUs visible)
//   test_nccl timeout    (1 rank) a 2-rank communicator whose peer never
//                        joins: the set-up must time out, abort and throw
//                        within seconds, and a new communicator must work after
//   test_nccl            sum, then (on 1 rank) timeout
//   --ranks N            fail unless the world has N ranks (a launcher that
//                        started fewer ranks must not pass as a 1-rank run)
//
// Rank 0 prints one line per case: "test_nccl <case>: ok: ..." or "FAILED:
// ..." (exit 1), or "Skipped: <reason>" (exit 77, ctest's SKIP_RETURN_CODE)
// without a CUDA device, or when ranks would share a GPU (NCCL refuses it).
#include "mpi_world.h"
#include "comm/gpu_plan.h"
#include "comm/mpi_check.h"
#include "comm/nccl_comm.h"
#include "kernels/device_buffer.h"
#include "worker/placement.h"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace kc = signvote::kernels::cuda;
using signvote::comm::NcclComm;
using Clock = std::chrono::steady_clock;

struct Result {
  int code = 0;  // 0 ok, 1 failed, 77 skipped
  std::string line;
};

// x_r[i] = (i % 1000) + 1000 r: small integers, so every sum is exact in fp32.
float value(size_t i, int rank) { return static_cast<float>(i % 1000 + 1000 * static_cast<size_t>(rank)); }

// Two sums in a row on one communicator: after the first, x[i] = W (i % 1000)
// + 1000 W (W-1)/2; the second multiplies that by W.
Result sum_case(int rank, int size) {
  const size_t n = (size_t{1} << 20) + 3;  // not a multiple of anything NCCL likes
  std::vector<float> host(n);
  for (size_t i = 0; i < n; ++i) host[i] = value(i, rank);
  kc::DeviceBuffer<float> x(n);
  kc::copy_to_device(x.data(), host.data(), n);
  cudaStream_t stream = nullptr;
  SV_CUDA_CHECK(cudaStreamCreate(&stream));
  bool healthy = false;
  {
    NcclComm comm(MPI_COMM_WORLD, rank, size);
    for (int round = 0; round < 2; ++round) {
      comm.all_reduce_sum(x.data(), n, stream);
      comm.synchronize(stream);
    }
    healthy = comm.healthy();
  }  // healthy: ncclCommFinalize + ncclCommDestroy
  SV_CUDA_CHECK(cudaStreamDestroy(stream));
  if (!healthy) return {1, "communicator unhealthy after two sums"};
  kc::copy_to_host(host.data(), x.data(), n);
  const size_t W = static_cast<size_t>(size);
  for (size_t i = 0; i < n; ++i) {
    const float want = static_cast<float>(W * (W * (i % 1000) + 1000 * W * (W - 1) / 2));
    if (host[i] != want)
      return {1, "x[" + std::to_string(i) + "] = " + std::to_string(host[i]) + ", want " + std::to_string(want)};
  }
  return {0, "sum over " + std::to_string(size) + " rank(s) of " + std::to_string(n) + " floats exact (twice)"};
}

// A communicator of 2 with no second rank: set-up can never finish.
Result timeout_case() {
  const auto limit = std::chrono::seconds(3);
  const auto t0 = Clock::now();
  std::string what;
  try {
    NcclComm lonely(MPI_COMM_SELF, 0, 2, limit);
    return {1, "a 2-rank communicator with one rank was set up"};
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (what.find("timed out after 3 s") == std::string::npos || what.find("communicator aborted") == std::string::npos)
    return {1, "unexpected error: " + what};
  if (s > 30) return {1, "the abort took " + std::to_string(s) + " s (limit 3 s)"};
  Result after = sum_case(0, 1);  // NCCL still usable after an abort
  if (after.code != 0) return {1, "after the abort: " + after.line};
  return {0, "set-up timed out and aborted in " + std::to_string(s).substr(0, 4) + " s (" + what +
                 "); a new communicator sums after it"};
}

// Every rank on its own GPU (by host and bus id), else the reason to skip.
// A rank that fails to name its GPU still takes part in the gather.
std::string place(int rank, int size) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  std::string why = err != cudaSuccess ? cudaGetErrorString(err) : count == 0 ? "0 devices" : "";
  const int device = why.empty() ? rank % count : -1;
  std::string id;
  try {
    if (device >= 0) {
      SV_CUDA_CHECK(cudaSetDevice(device));
      id = signvote::worker::gpu_identity(device);
    }
  } catch (const std::exception& e) {
    why = e.what();
  }
  const auto ids = signvote::comm::allgather_strings(MPI_COMM_WORLD, id);
  for (const auto& id : ids)
    if (id.empty()) return "no CUDA device visible" + (why.empty() ? std::string(" to some rank") : " (" + why + ")");
  const auto plan = signvote::comm::plan_gpus(ids, true);
  if (plan.shared)
    return std::to_string(size) + " ranks need " + std::to_string(size) + " GPUs, they share: " + plan.sharing;
  return {};
}

Result run_case(const std::string& which, int rank, int size) {
  if (which == "sum") return sum_case(rank, size);
  if (size != 1) return {1, "the timeout case runs on 1 rank"};
  return timeout_case();
}

// The worst result over the ranks (failed > skipped > ok): rank 0 learns it
// and prints the line of the first rank that had it.
int agree_and_print(const std::string& which, const Result& r, int rank, int size) {
  const int mine = r.code == 1 ? 2 : r.code == 77 ? 1 : 0;
  int worst = 0, first = 0;
  MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int who = mine == worst ? rank : size;
  MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rank == first && !(worst == 0 && r.line.empty())) {  // a passed set-up says nothing
    const std::string from = first ? "rank " + std::to_string(first) + ": " : "";
    if (worst == 1) std::printf("Skipped: %s%s\n", from.c_str(), r.line.c_str());
    else std::printf("test_nccl %s: %s: %s%s\n", which.c_str(), worst ? "FAILED" : "ok", from.c_str(), r.line.c_str());
    std::fflush(stdout);
  }
  return worst == 2 ? 1 : worst == 1 ? 77 : 0;
}

// One case, its exceptions turned into a failed result.
template <class F>
Result guarded(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return {1, e.what()};
  }
}

}  // namespace

int main(int argc, char** argv) {
  const MpiWorld world(&argc, &argv);
  const int rank = world.rank, size = world.size;
  std::vector<std::string> cases;
  int want_ranks = 0;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--ranks" && a + 1 < argc) want_ranks = std::atoi(argv[++a]);
    else cases.push_back(arg);
  }
  if (cases.empty()) cases = size == 1 ? std::vector<std::string>{"sum", "timeout"} : std::vector<std::string>{"sum"};
  int code = agree_and_print("setup", guarded([&]() -> Result {
    if (want_ranks > 0 && want_ranks != size)
      return {1, "started with " + std::to_string(size) + " rank(s), --ranks asks for " + std::to_string(want_ranks)};
    for (const auto& c : cases)
      if (c != "sum" && c != "timeout") return {1, "unknown case '" + c + "' (sum | timeout | --ranks N)"};
    const std::string skip = place(rank, size);
    return skip.empty() ? Result{0, ""} : Result{77, skip};
  }), rank, size);
  for (size_t i = 0; i < cases.size() && code == 0; ++i)
    code = agree_and_print(cases[i], guarded([&] { return run_case(cases[i], rank, size); }), rank, size);
  return code;
}
