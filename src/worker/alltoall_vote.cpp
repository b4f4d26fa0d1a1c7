#include "worker/alltoall_vote.h"

#include "comm/mpi_check.h"
#include "comm/wire.h"

#include <algorithm>

namespace signvote::worker {

using protocol::MsgHeader;
using protocol::MsgKind;

AlltoallVote::AlltoallVote(const comm::Topology& topo, size_t d, const kernels::SignOps& ops)
    : topo_(topo), ops_(ops), chunks_(comm::plan_shards(d, topo.workers())) {
  for (const auto& c : chunks_) slot_words_ = std::max(slot_words_, comm::payload_words(c.length));
  slot_bytes_ = protocol::kHeaderBytes + 4 * slot_words_;  // a multiple of 64: every slot stays aligned
  const size_t W = chunks_.size();
  send_ = AlignedBuffer<std::byte>(W * slot_bytes_);
  recv_ = AlignedBuffer<std::byte>(W * slot_bytes_);
  mine_ = AlignedBuffer<std::byte>(slot_bytes_);
  results_ = AlignedBuffer<std::byte>(W * slot_bytes_);
}

uint32_t* AlltoallVote::words(AlignedBuffer<std::byte>& b, size_t j) const {
  return reinterpret_cast<uint32_t*>(b.data() + j * slot_bytes_ + protocol::kHeaderBytes);
}
const uint32_t* AlltoallVote::words(const AlignedBuffer<std::byte>& b, size_t j) const {
  return reinterpret_cast<const uint32_t*>(b.data() + j * slot_bytes_ + protocol::kHeaderBytes);
}
MsgHeader& AlltoallVote::header(AlignedBuffer<std::byte>& b, size_t j) const {
  return *reinterpret_cast<MsgHeader*>(b.data() + j * slot_bytes_);
}

void AlltoallVote::fill_headers(uint64_t step) {
  for (size_t j = 0; j < chunks_.size(); ++j) {
    MsgHeader& h = header(send_, j);
    h = MsgHeader{};
    h.kind = MsgKind::vote;
    h.rank = static_cast<uint32_t>(topo_.world_rank());
    h.shard = static_cast<uint16_t>(j);
    h.step = step;
    h.length = chunks_[j].length;
    h.offset = chunks_[j].offset;
    h.words = slot_words_;
  }
}

// Worker j's part: validate the W votes of its chunk and tally them into
// mine_'s payload. Returns the RESULT header (an error names the sender).
MsgHeader AlltoallVote::tally(uint64_t step) {
  const size_t me = static_cast<size_t>(topo_.worker_index()), W = chunks_.size();
  const comm::Shard& c = chunks_[me];
  MsgHeader out, first;
  const comm::Expect want{MsgKind::vote, step, c.length, c.offset, slot_words_};
  size_t bad = 0;
  for (size_t i = 0; i < W; ++i) {
    MsgHeader v;
    if (comm::validate(header(recv_, i), want, slot_bytes_, topo_.worker_rank(static_cast<int>(i)), v)) continue;
    if (bad++ == 0) first = v;
  }
  if (2 * bad > W) {  // most senders agree with each other, not with this worker: it is the odd one
    out = first;
    out.err_rank = static_cast<uint32_t>(topo_.world_rank());
    std::swap(out.err_expected, out.err_got);
  } else if (bad) {
    out = first;
  }
  if (out.status == protocol::ErrorCode::ok)  // rows i at recv_ + i * slot_bytes_ + header
    ops_.tally(words(recv_, 0), W, slot_bytes_ / 4, comm::payload_words(c.length), words(mine_, 0));
  out.kind = MsgKind::result;
  out.rank = static_cast<uint32_t>(topo_.world_rank());
  out.shard = static_cast<uint16_t>(me);
  out.step = step;
  out.length = c.length;
  out.offset = c.offset;
  out.words = slot_words_;
  return out;
}

// Every worker sees the same RESULT slots, so an error a tallying worker
// found (checked first) is the same verdict everywhere.
MsgHeader AlltoallVote::check_results(uint64_t step) const {
  const auto slot = [&](size_t j) -> const MsgHeader& {
    return *reinterpret_cast<const MsgHeader*>(results_.data() + j * slot_bytes_);
  };
  for (size_t j = 0; j < chunks_.size(); ++j)
    if (slot(j).magic == protocol::kMagic && slot(j).status != protocol::ErrorCode::ok) return slot(j);
  MsgHeader verdict;
  for (size_t j = 0; j < chunks_.size(); ++j) {
    const comm::Expect want{MsgKind::result, step, chunks_[j].length, chunks_[j].offset, slot_words_};
    if (!comm::validate(slot(j), want, slot_bytes_, topo_.worker_rank(static_cast<int>(j)), verdict)) break;
  }
  return verdict;
}

MsgHeader AlltoallVote::exchange(uint64_t step) {
  const int n = static_cast<int>(slot_bytes_);
  fill_headers(step);
  SV_MPI_CHECK(MPI_Alltoall(send_.data(), n, MPI_BYTE, recv_.data(), n, MPI_BYTE, topo_.workers_comm()));
  *reinterpret_cast<MsgHeader*>(mine_.data()) = tally(step);
  SV_MPI_CHECK(MPI_Allgather(mine_.data(), n, MPI_BYTE, results_.data(), n, MPI_BYTE, topo_.workers_comm()));
  return check_results(step);
}

}  // namespace signvote::worker
