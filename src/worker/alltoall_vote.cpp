#include "worker/alltoall_vote.h"

#include "comm/collectives.h"
#include "comm/wire.h"

#include <algorithm>
#include <stdexcept>

namespace signvote::worker {

using protocol::MsgHeader;
using protocol::MsgKind;

AlltoallVote::AlltoallVote(const comm::Topology& topo, size_t d, const kernels::SignOps& ops, ServerExchange& report,
                           uint64_t round_steps)
    : topo_(topo), ops_(ops), report_(report), chunks_(comm::split_ranges(d, topo.voters())),
      round_steps_(std::max<uint64_t>(1, round_steps)) {
  posted_.assign(chunks_.size(), 0);
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
  const size_t me = static_cast<size_t>(topo_.voter_index()), W = chunks_.size();
  const comm::Range& c = chunks_[me];
  MsgHeader out, first;
  const comm::Expect want{MsgKind::vote, step, c.length, c.offset, slot_words_};
  size_t bad = 0;
  for (size_t i = 0; i < W; ++i) {
    MsgHeader v;
    if (comm::validate(header(recv_, i), want, slot_bytes_, topo_.voter_rank(static_cast<int>(i)), v)) continue;
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
    ops_.tally(words(recv_, 0), W, slot_bytes_ / 4, comm::payload_words(c.length), words(mine_, 0),
               kernels::tie_word(step / round_steps_));  // chunks start on whole words: the servers' tie bits
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
    if (!comm::validate(slot(j), want, slot_bytes_, topo_.voter_rank(static_cast<int>(j)), verdict)) break;
  }
  return verdict;
}

MsgHeader AlltoallVote::vote(uint64_t step) {
  fill_headers(step);
  comm::alltoall(send_.data(), recv_.data(), slot_bytes_, topo_.voters_comm());
  *reinterpret_cast<MsgHeader*>(mine_.data()) = tally(step);
  comm::allgather(mine_.data(), results_.data(), slot_bytes_, topo_.voters_comm());
  return check_results(step);
}

void AlltoallVote::begin(uint64_t step) {
  step_ = step;
  next_ = SIZE_MAX;
  std::fill(posted_.begin(), posted_.end(), 0);
}

void AlltoallVote::post(uint64_t step, size_t j, const WorkerReport& r) {
  if (step != step_) begin(step);
  posted_[j] = 1;
  mine_report_ = r;
}

// The vote, then the REPORT, which carries any failure (NaN, a failed
// worker, a diverged hash, a header the all-to-all rejected: every voter
// holds the same verdict) to the server; it stops the run naming the rank,
// or marks the last round, before anyone applies.
size_t AlltoallVote::wait_next() {
  if (next_ == SIZE_MAX) {
    if (std::find(posted_.begin(), posted_.end(), 0) != posted_.end())
      throw std::logic_error("AlltoallVote::wait_next: a chunk was not posted");
    const MsgHeader verdict = vote(step_);
    if (verdict.status != protocol::ErrorCode::ok && mine_report_.status == protocol::ErrorCode::ok) {
      mine_report_.status = verdict.status;
      mine_report_.err_rank = verdict.err_rank;
      mine_report_.err_expected = verdict.err_expected;
      mine_report_.err_got = verdict.err_got;
    }
    report_.round_trip(step_, mine_report_);
    next_ = 0;
  }
  return next_ < chunks_.size() ? next_++ : chunks_.size();
}

}  // namespace signvote::worker
