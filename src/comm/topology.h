// Who is who: servers, workers, shards and the communicators between them.
//
//   world ranks 0..S-1 = servers (server s owns shard s)
//   world ranks S..S+W-1 = workers (worker k = rank S+k)
//   workers_comm  = the W workers (all-reduce baseline)
//   node_comm     = the workers on this node (MPI_Comm_split_type SHARED,
//                   or groups of ranks_per_node consecutive workers: tests)
//   voters        = the ranks whose votes the servers tally: every worker,
//                   or with the hierarchy one leader per node (local index 0)
//   Votes and results travel point-to-point on MPI_COMM_WORLD (see
//   include/signvote/protocol.h), so a worker that disagrees on the size
//   still gets a readable error instead of a broken collective.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace signvote::comm {

// A coordinate range [offset, offset + length) of the flat parameter vector:
// a server shard, one of its buckets (a part of the server exchange), or an
// all-to-all chunk. "Shard" means a server's range only. Ranges start on
// multiples of 512 coordinates (16 words = 64 bytes), so each packs on its own.
struct Range {
  size_t offset = 0;  // first coordinate
  size_t length = 0;  // coordinates
  int server = 0;     // the server shard it belongs to (plan_ranges)
  int bucket = 0;     // its bucket within that shard: tags kTagVote/kTagResult + bucket
};

// Splits d coordinates into n ranges (the S server shards, or the W
// all-to-all chunks) in 512-coordinate blocks, as evenly as possible;
// trailing ranges may be empty when d is small.
std::vector<Range> split_ranges(size_t d, int n);
// The shards cut into buckets of about bucket_coords coordinates (whole
// 512-coordinate blocks, at most protocol::kMaxBuckets per shard, so a
// bucket may be larger than asked); 0 = one bucket per shard. In offset
// order: server-major, each range tagged with its server and bucket.
std::vector<Range> plan_ranges(size_t d, int servers, size_t bucket_coords);

// How workers group into nodes: ranks_per_node = 0 asks MPI which ranks
// share a node; > 0 groups consecutive workers (tests form several "nodes"
// on one machine). hierarchy: only node leaders vote.
struct NodeLayout {
  int ranks_per_node = 0;
  bool hierarchy = false;
};

class Topology {
 public:
  // Collective over MPI_COMM_WORLD. Requires world size == servers + workers.
  Topology(int servers, int workers, NodeLayout layout = {});
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  int world_rank() const { return world_rank_; }
  int world_size() const { return world_size_; }
  int servers() const { return servers_; }
  int workers() const { return workers_; }
  bool is_server() const { return world_rank_ < servers_; }
  int shard_index() const { return world_rank_; }               // servers only
  int worker_index() const { return world_rank_ - servers_; }    // workers only
  int worker_rank(int k) const { return servers_ + k; }
  MPI_Comm workers_comm() const { return workers_comm_; }       // MPI_COMM_NULL on servers
  // Workers on this node (MPI_Comm_split_type SHARED over workers_comm):
  // this worker's index among them, in world-rank order, and their count.
  int local_worker_index() const { return local_index_; }      // workers only
  int local_workers() const { return local_count_; }
  MPI_Comm node_comm() const { return node_comm_; }             // MPI_COMM_NULL on servers
  MPI_Comm servers_comm() const { return servers_comm_; }       // the S servers; MPI_COMM_NULL on workers
  // The ranks the servers receive votes from, in world-rank order.
  int voters() const { return static_cast<int>(voters_.size()); }
  int voter_rank(int v) const { return voters_[static_cast<size_t>(v)]; }
  bool is_voter() const { return voter_; }
  // The voting workers (every worker, or the node leaders), and this one's
  // index among them; MPI_COMM_NULL / -1 on servers and non-voters.
  MPI_Comm voters_comm() const { return voters_comm_; }
  int voter_index() const { return voter_index_; }
  bool hierarchical() const { return hierarchy_; }

 private:
  int world_rank_ = 0, world_size_ = 0, servers_ = 0, workers_ = 0;
  MPI_Comm workers_comm_ = MPI_COMM_NULL, node_comm_ = MPI_COMM_NULL, servers_comm_ = MPI_COMM_NULL;
  MPI_Comm voters_comm_ = MPI_COMM_NULL;
  int local_index_ = 0, local_count_ = 0, voter_index_ = -1;
  std::vector<int> voters_;
  bool voter_ = false, hierarchy_ = false;
};

}  // namespace signvote::comm
