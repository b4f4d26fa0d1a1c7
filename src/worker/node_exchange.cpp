#include "worker/node_exchange.h"

#include "comm/collectives.h"
#include "comm/wire.h"

#include <algorithm>
#include <cstring>

namespace signvote::worker {
namespace {

// What the leader tells the node after each wait_next(): the part (parts()
// when the round is done), its budget clock and stop flag, or the error.
struct Verdict {
  uint64_t part = 0;
  double progress = 0, elapsed_s = 0;
  int32_t stop = 0, failed = 0, code = 0, offender = -1;
  char what[496] = {};  // the RoundError's message, cut to fit
};
static_assert(sizeof(Verdict) % 8 == 0);

void bcast_verdict(Verdict& v, MPI_Comm node) {
  comm::bcast(std::span<std::byte>(reinterpret_cast<std::byte*>(&v), sizeof v), 0, node);
}

}  // namespace

NodeExchange::NodeExchange(const comm::Topology& topo, Exchange& inner)
    : topo_(topo), inner_(inner), leader_(topo.local_worker_index() == 0) {
  progress_.assign(inner.parts(), 0.0);
  posted_.assign(inner.parts(), 0);
  if (!leader_)
    for (size_t p = 0; p < inner.parts(); ++p) words_.emplace_back(comm::payload_words(inner.part(p).length));
}

const uint32_t* NodeExchange::result_bits(size_t p) const {
  return leader_ ? inner_.result_bits(p) : words_[p].data();
}

void NodeExchange::begin(uint64_t step) {
  if (leader_) inner_.begin(step);
  std::fill(posted_.begin(), posted_.end(), 0);
}

void NodeExchange::post(uint64_t step, size_t p, const WorkerReport& r) {
  if (leader_) inner_.post(step, p, r);
  posted_[p] = 1;
}

size_t NodeExchange::wait_next() {
  const MPI_Comm node = topo_.node_comm();
  Verdict v;
  if (leader_) {
    try {
      v.part = inner_.wait_next();
    } catch (const RoundError& e) {
      v.failed = 1, v.code = static_cast<int32_t>(e.code), v.offender = e.offender;
      std::strncpy(v.what, e.what(), sizeof v.what - 1);
      bcast_verdict(v, node);  // the node learns the error too
      throw;
    }
    v.stop = inner_.stop_requested() ? 1 : 0;
    v.elapsed_s = inner_.elapsed_s();
    if (v.part < inner_.parts()) v.progress = inner_.progress(v.part);
  }
  bcast_verdict(v, node);
  if (v.failed) throw RoundError(v.what, static_cast<protocol::ErrorCode>(v.code), v.offender);
  stop_ = v.stop != 0;
  elapsed_s_ = v.elapsed_s;
  const size_t p = v.part;
  if (p == parts()) return p;
  progress_[p] = v.progress;
  const size_t n = comm::payload_words(part(p).length);
  uint32_t* w = leader_ ? const_cast<uint32_t*>(inner_.result_bits(p)) : words_[p].data();  // the root only reads
  comm::bcast(std::span<uint32_t>(w, n), 0, node);
  return p;
}

void NodeExchange::agree(WorkerReport& r) const {
  const MPI_Comm node = topo_.node_comm();
  const int status = comm::allreduce_one(static_cast<int>(r.status), comm::Op::max, node);
  const uint64_t lo = comm::allreduce_one(r.weight_hash, comm::Op::min, node);
  const uint64_t hi = comm::allreduce_one(r.weight_hash, comm::Op::max, node);
  if (status != 0 && r.status == protocol::ErrorCode::ok) r.status = static_cast<protocol::ErrorCode>(status);
  if (lo != hi && r.status == protocol::ErrorCode::ok)
    r.status = protocol::ErrorCode::hash_mismatch, r.err_got = lo ^ hi;
}

}  // namespace signvote::worker
