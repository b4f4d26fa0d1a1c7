#include "comm/topology.h"

#include "comm/mpi_check.h"
#include "signvote/protocol.h"

#include <fmt/format.h>

#include <algorithm>

namespace signvote::comm {

[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) len = 0;
  throw MpiError(fmt::format("{}:{}: {} failed: {}", file, line, call, std::string(msg, len)));
}

std::vector<Range> split_ranges(size_t d, int n) {
  constexpr size_t kBlock = 512;  // coordinates per 64-byte block of packed words
  const size_t blocks = (d + kBlock - 1) / kBlock;
  std::vector<Range> ranges(static_cast<size_t>(n));
  size_t begin_block = 0;
  for (int s = 0; s < n; ++s) {
    const size_t nblk = blocks / static_cast<size_t>(n) + (static_cast<size_t>(s) < blocks % static_cast<size_t>(n) ? 1 : 0);
    const size_t begin = std::min(d, begin_block * kBlock);
    const size_t end = std::min(d, (begin_block + nblk) * kBlock);
    ranges[static_cast<size_t>(s)] = {begin, end - begin};
    begin_block += nblk;
  }
  return ranges;
}

std::vector<Range> plan_ranges(size_t d, int servers, size_t bucket_coords) {
  constexpr size_t kBlock = 512;
  std::vector<Range> ranges;
  const auto shards = split_ranges(d, servers);
  for (int s = 0; s < servers; ++s) {
    const Range& sh = shards[static_cast<size_t>(s)];
    const size_t want = bucket_coords ? (sh.length + bucket_coords - 1) / bucket_coords : 1;
    const size_t blocks = (sh.length + kBlock - 1) / kBlock;
    const size_t n = std::max<size_t>(1, std::min({want, blocks, static_cast<size_t>(protocol::kMaxBuckets)}));
    for (const Range& b : split_ranges(sh.length, static_cast<int>(n)))
      ranges.push_back({sh.offset + b.offset, b.length, s, 0});
    for (size_t i = 0; i < n; ++i) ranges[ranges.size() - n + i].bucket = static_cast<int>(i);
  }
  return ranges;
}

Topology::Topology(int servers, int workers, NodeLayout layout)
    : servers_(servers), workers_(workers), hierarchy_(layout.hierarchy) {
  SV_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world_rank_));
  SV_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_size_));
  if (world_size_ != servers + workers) {
    throw std::runtime_error(fmt::format(
        "topology: {} servers + {} workers need {} ranks, but mpirun started {}", servers, workers,
        servers + workers, world_size_));
  }
  // Workers' communicator (the all-reduce baseline); servers get MPI_COMM_NULL.
  const int color = is_server() ? MPI_UNDEFINED : 1;
  SV_MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, color, world_rank_, &workers_comm_));
  SV_MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, is_server() ? 1 : MPI_UNDEFINED, world_rank_, &servers_comm_));
  if (servers_comm_ != MPI_COMM_NULL) SV_MPI_CHECK(MPI_Comm_set_errhandler(servers_comm_, MPI_ERRORS_RETURN));
  if (workers_comm_ != MPI_COMM_NULL) {
    SV_MPI_CHECK(MPI_Comm_set_errhandler(workers_comm_, MPI_ERRORS_RETURN));
    if (layout.ranks_per_node > 0)  // consecutive workers form a "node"
      SV_MPI_CHECK(MPI_Comm_split(workers_comm_, worker_index() / layout.ranks_per_node, world_rank_, &node_comm_));
    else
      SV_MPI_CHECK(MPI_Comm_split_type(workers_comm_, MPI_COMM_TYPE_SHARED, world_rank_, MPI_INFO_NULL, &node_comm_));
    SV_MPI_CHECK(MPI_Comm_set_errhandler(node_comm_, MPI_ERRORS_RETURN));
    SV_MPI_CHECK(MPI_Comm_rank(node_comm_, &local_index_));
    SV_MPI_CHECK(MPI_Comm_size(node_comm_, &local_count_));
    voter_ = !hierarchy_ || local_index_ == 0;
    SV_MPI_CHECK(MPI_Comm_split(workers_comm_, voter_ ? 1 : MPI_UNDEFINED, world_rank_, &voters_comm_));
    if (voters_comm_ != MPI_COMM_NULL) {
      SV_MPI_CHECK(MPI_Comm_set_errhandler(voters_comm_, MPI_ERRORS_RETURN));
      SV_MPI_CHECK(MPI_Comm_rank(voters_comm_, &voter_index_));
    }
  }
  // Every rank learns who votes (the servers size their receives by it).
  std::vector<int> flags(static_cast<size_t>(world_size_));
  int mine = voter_ ? 1 : 0;
  SV_MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT, flags.data(), 1, MPI_INT, MPI_COMM_WORLD));
  for (int r = 0; r < world_size_; ++r)
    if (flags[static_cast<size_t>(r)]) voters_.push_back(r);
}

Topology::~Topology() {
  int done = 0;
  MPI_Finalized(&done);  // a Python worker's objects may outlive MPI_Finalize at exit
  if (done) return;
  if (voters_comm_ != MPI_COMM_NULL) MPI_Comm_free(&voters_comm_);
  if (node_comm_ != MPI_COMM_NULL) MPI_Comm_free(&node_comm_);
  if (servers_comm_ != MPI_COMM_NULL) MPI_Comm_free(&servers_comm_);
  if (workers_comm_ != MPI_COMM_NULL) MPI_Comm_free(&workers_comm_);
}

}  // namespace signvote::comm
