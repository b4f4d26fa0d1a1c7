#include "comm/gpu_plan.h"

#include "comm/mpi_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <numeric>

namespace signvote::comm {

GpuPlan plan_gpus(const std::vector<std::string>& ids, bool share_allowed, int first_rank) {
  GpuPlan plan;
  plan.ranks = static_cast<int>(ids.size());
  // identity -> the ranks holding it, in rank order; first_dup: the first
  // rank whose identity an earlier rank holds (-1: none).
  std::map<std::string, std::vector<int>> holders;
  std::vector<std::string> order;  // identities in order of first appearance
  int first_dup = -1, first_holder = -1;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k].empty()) continue;
    auto& h = holders[ids[k]];
    if (h.empty()) order.push_back(ids[k]);
    else if (first_dup < 0) first_dup = static_cast<int>(k), first_holder = h.front();
    h.push_back(first_rank + static_cast<int>(k));
  }
  plan.distinct = static_cast<int>(holders.size());
  plan.shared = first_dup >= 0;
  if (!plan.shared) return plan;
  for (const std::string& id : order) {
    const auto& h = holders[id];
    if (h.size() < 2) continue;
    if (!plan.sharing.empty()) plan.sharing += "; ";
    plan.sharing += fmt::format("{}: ranks {}", id, fmt::join(h, ", "));
  }
  if (!share_allowed)
    plan.error = fmt::format(
        "rank {}: its GPU {} is already used by rank {} ({} worker ranks on {} distinct GPU(s)); start one worker rank "
        "per GPU, or set model.share_gpus: true",
        first_rank + first_dup, ids[static_cast<size_t>(first_dup)], first_holder, plan.ranks, plan.distinct);
  return plan;
}

std::vector<std::string> allgather_strings(MPI_Comm comm, const std::string& mine) {
  int size = 0;
  SV_MPI_CHECK(MPI_Comm_size(comm, &size));
  const int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<size_t>(size)), displs(static_cast<size_t>(size));
  SV_MPI_CHECK(MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, comm));
  std::exclusive_scan(lens.begin(), lens.end(), displs.begin(), 0);
  std::string all(static_cast<size_t>(displs.back() + lens.back()), '\0');
  SV_MPI_CHECK(MPI_Allgatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, comm));
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r)
    out.push_back(all.substr(static_cast<size_t>(displs[static_cast<size_t>(r)]), static_cast<size_t>(lens[static_cast<size_t>(r)])));
  return out;
}

}  // namespace signvote::comm
