// ShardServer's deadline mode (cluster.round_deadline_ms): tally the votes
// that arrived in time, let the late ones abstain, keep every late worker's
// receive posted and its results queued until it catches up.
//
//   round t:  post a receive for every worker without one pending
//             poll (Transport::test_some) until all W votes of step t arrived or the
//             deadline passed; a vote of an earlier step is stale: counted
//             nowhere, logged with how late it was, its receive re-posted
//   tally:    the P present rows (majority threshold ceil(P/2): an absent
//             vote counts 0, so coordinates without margin go to +1)
//   reply:    Isend RESULT(t) to every worker without waiting; each
//             worker's sends queue (in order) in its outbox until done
//   stale:    a stale vote carrying an error (the late worker failed) stops
//             the run naming it
//   limit:    a worker late cluster.max_missed_rounds rounds in a row stops
//             the run (ErrorCode::worker_late naming it)
#include "server/shard_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <thread>

namespace signvote::server {

using protocol::MsgHeader;

void ShardServer::post_receive(int k) {
  net_.irecv(slots_.data() + size_t(k) * slot_bytes_, slot_bytes_, voter_rank(k), vote_tag(), &reqs_[size_t(k)]);
}

// A well-formed VOTE of an earlier step: a late worker catching up. Anything
// malformed is not stale: it is validated (and rejected) as this round's.
bool ShardServer::is_stale(int k, int count, uint64_t step) const {
  if (count < static_cast<int>(protocol::kHeaderBytes)) return false;
  const auto& h = *reinterpret_cast<const MsgHeader*>(slots_.data() + size_t(k) * slot_bytes_);
  return h.magic == protocol::kMagic && h.version == protocol::kProtocolVersion && h.kind == protocol::MsgKind::vote &&
         h.step < step;
}

ShardServer::~ShardServer() {
  for (auto& r : reqs_) net_.cancel(&r);  // no throw from a destructor; kNoRequest skipped
  for (auto& box : outbox_)
    for (auto& o : box) {
      if (o.req == comm::kNoRequest) continue;
      net_.release(&o.req);                                  // completes in the background...
      new std::shared_ptr<comm::Message>(std::move(o.msg));  // ...from a buffer deliberately kept
    }
}

void ShardServer::receive_by_deadline(uint64_t step, bool account) {
  const int W = voters();
  for (int k = 0; k < W; ++k) {
    present_[size_t(k)] = 0;
    if (reqs_[size_t(k)] == comm::kNoRequest) post_receive(k);
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(policy_.deadline_ms);
  std::vector<int> done;
  std::vector<comm::Status> st;
  int have = 0;
  while (have < W) {
    const int n = net_.test_some(reqs_, done, st);  // -1: none active
    for (int i = 0; i < n; ++i) {
      const int k = done[size_t(i)];
      const int count = st[size_t(i)].bytes;
      if (is_stale(k, count, step)) {
        const auto& h = *reinterpret_cast<const MsgHeader*>(slots_.data() + size_t(k) * slot_bytes_);
        if (h.status != protocol::ErrorCode::ok && account) {  // a late worker failed: stop the run, naming it
          MsgHeader verdict = h;
          verdict.err_rank = static_cast<uint32_t>(voter_rank(k));
          reply_error(step, verdict);
          throw RoundError(fmt::format("server rank {} stopped the run at step {}: {}", peers_.world_rank, step,
                                       comm::describe_error(error_.header())));
        }
        const uint64_t old = h.step;
        const auto it = deadlines_.find(old);
        const double late_ms = it == deadlines_.end() ? 0.0
            : std::chrono::duration<double, std::milli>(Clock::now() - it->second).count();
        spdlog::info("server rank {}: rank {}'s vote for step {} came {:.0f} ms after that round's deadline; discarded",
                     peers_.world_rank, voter_rank(k), old, late_ms);
        post_receive(k);
        continue;
      }
      counts_[size_t(k)] = count;
      present_[size_t(k)] = 1;
      ++have;
    }
    if (have == W || Clock::now() >= deadline) break;
    if (n <= 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (account) note_late(step, deadline);
}

void ShardServer::note_late(uint64_t step, Clock::time_point deadline) {
  late_ = 0;
  for (int k = 0; k < voters(); ++k) {
    if (present_[size_t(k)]) {
      missed_[size_t(k)] = 0;
      continue;
    }
    ++late_;
    if (++missed_[size_t(k)] >= policy_.max_missed) {
      MsgHeader verdict;
      verdict.status = protocol::ErrorCode::worker_late;
      verdict.err_rank = static_cast<uint32_t>(voter_rank(k));
      verdict.err_expected = static_cast<uint64_t>(policy_.max_missed);
      verdict.err_got = static_cast<uint64_t>(missed_[size_t(k)]);
      reply_error(step, verdict);
      throw RoundError(fmt::format("server rank {} stopped the run at step {}: {}", peers_.world_rank, step,
                                   comm::describe_error(error_.header())));
    }
    spdlog::warn("server rank {}: rank {} missed the {} ms deadline of step {}; its vote abstains", peers_.world_rank,
                 voter_rank(k), policy_.deadline_ms, step);
  }
  if (late_ > 0) deadlines_[step] = deadline;
  while (deadlines_.size() > 4096) deadlines_.erase(deadlines_.begin());
}

// The rows to tally: the slots themselves when every vote arrived, else a
// copy of the present ones (a late worker's slot still has a receive
// posted, so rows are never moved within slots_).
const uint32_t* ShardServer::present_rows(size_t* rows, size_t* stride_words) {
  *stride_words = slot_bytes_ / 4;
  if (late_ == 0) {
    *rows = static_cast<size_t>(voters());
    return reinterpret_cast<const uint32_t*>(slots_.data() + protocol::kHeaderBytes);
  }
  if (compact_.size() == 0) compact_ = AlignedBuffer<std::byte>(slots_.size());
  size_t p = 0;
  for (int k = 0; k < voters(); ++k)
    if (present_[size_t(k)])
      std::memcpy(compact_.data() + p++ * slot_bytes_, slots_.data() + size_t(k) * slot_bytes_, slot_bytes_);
  *rows = p;
  return reinterpret_cast<const uint32_t*>(compact_.data() + protocol::kHeaderBytes);
}

void ShardServer::reply_queued(const comm::Message& msg) {
  auto copy = std::make_shared<comm::Message>(msg.words());
  std::memcpy(copy->data(), const_cast<comm::Message&>(msg).data(), msg.bytes());
  for (int k = 0; k < voters(); ++k) {
    auto& box = outbox_[size_t(k)];
    box.push_back({copy, comm::kNoRequest});
    net_.isend(copy->data(), copy->bytes(), voter_rank(k), result_tag(), &box.back().req);
    // Never wait here: a worker receives when it next calls MPI (a late one
    // as it catches up, an overlapping one after its backward pass). Drop
    // the sends that have completed; finish() waits for the rest.
    while (!box.empty() && net_.test(&box.front().req)) box.pop_front();
  }
}

void ShardServer::finish(uint64_t last_step) {
  if (!deadline_mode()) return;
  for (int k = 0; k < voters(); ++k) {
    // A worker still behind sends its remaining (stale) votes: take them so
    // its sends complete, and let it receive every queued result.
    while (reqs_[size_t(k)] != comm::kNoRequest) {
      comm::Status st;
      net_.wait(&reqs_[size_t(k)], &st);
      if (is_stale(k, st.bytes, last_step)) post_receive(k);
    }
    for (auto& o : outbox_[size_t(k)]) net_.wait(&o.req);
    outbox_[size_t(k)].clear();
  }
}

}  // namespace signvote::server
