#include "server/shard_server.h"

#include "signvote/sign_layout.h"
#include "util/backoff.h"
#include "util/timer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <map>

namespace signvote::server {

using protocol::ErrorCode;
using protocol::MsgHeader;
using protocol::MsgKind;

AggregateFn majority_vote(const kernels::SignOps& ops) {
  return [&ops](const uint32_t* rows, size_t W, size_t stride, const comm::Range& shard, uint32_t* out, uint32_t ties) {
    ops.tally(rows, W, stride, comm::payload_words(shard.length), out, ties);
  };
}

ShardServer::ShardServer(const comm::Topology& topo, size_t dim, const kernels::SignOps& ops)
    : ShardServer(topo, dim, comm::RoundFormat::sign_bits(), majority_vote(ops)) {}

ShardServer::ShardServer(const comm::Topology& topo, size_t dim, const comm::RoundFormat& format, AggregateFn aggregate,
                       DeadlinePolicy deadline)
    : ShardServer(comm::Peers::of(topo), comm::mpi_transport(), dim, format, std::move(aggregate), deadline) {}

ShardServer::ShardServer(const comm::Topology& topo, const comm::Range& range, const comm::RoundFormat& format,
                       AggregateFn aggregate, DeadlinePolicy deadline)
    : ShardServer(comm::Peers::of(topo), comm::mpi_transport(), range, format, std::move(aggregate), deadline) {}

// dim = 0 (reports only): an empty range, so no payload either way.
ShardServer::ShardServer(comm::Peers peers, comm::Transport& net, size_t dim, const comm::RoundFormat& format,
                       AggregateFn aggregate, DeadlinePolicy deadline)
    : ShardServer(peers, net, dim == 0 ? comm::Range{} : comm::split_ranges(dim, peers.servers)[size_t(peers.world_rank)],
                 format, std::move(aggregate), deadline) {
  report_only_ = dim == 0;
}

ShardServer::ShardServer(comm::Peers peers, comm::Transport& net, const comm::Range& range,
                       const comm::RoundFormat& format, AggregateFn aggregate, DeadlinePolicy deadline)
    : peers_(std::move(peers)), net_(net), aggregate_(std::move(aggregate)), report_only_(false), shard_(range) {
  policy_ = deadline;
  words_ = format.up_words(shard_.length);
  down_words_ = format.down_words(shard_.length);
  slot_bytes_ = protocol::kHeaderBytes + 4 * words_ + protocol::kWireAlignBytes;
  const size_t W = static_cast<size_t>(voters());
  slots_ = AlignedBuffer<std::byte>(W * slot_bytes_);
  reqs_.assign(W, comm::kNoRequest);
  sends_.assign(W, comm::kNoRequest);
  status_.resize(W);
  counts_.assign(W, 0);
  result_ = comm::Message(down_words_);
  error_ = comm::Message(0);
  tail_def_ = format.tail;
  set_tail_rules(kernels::best_ops(), {});
  present_.assign(W, 1);
  missed_.assign(W, 0);
  outbox_.resize(W);
}

void ShardServer::set_tail_rules(const kernels::SignOps& ops, const std::vector<double>& fixed_lr) {
  if (tail_def_.active() && !report_only_) tail_ = TailVotes(tail_def_, shard_, ops, fixed_lr);
}

// A present worker flagged a non-finite gradient (optimizer.nonfinite: skip).
bool ShardServer::any_non_finite() const {
  for (int k = 0; k < voters(); ++k)
    if (present_[k] && (slots().header(size_t(k)).flags & protocol::kFlagNonFinite)) return true;
  return false;
}

// Polls the vote receives until all arrived, keeping each one's byte count
// (-1: truncated) as it completes. cluster.server_wait: sleep pauses with
// util::Backoff between polls (spin: none, as MPI_Waitall would).
// A stall is counted from the round's first vote: the workers send at about
// the same time, so the missing ones are late, whereas before the first vote
// they may all be computing (H local steps, an evaluation). Every
// run.stall_warn_s seconds of it, one line names the ranks. With no vote at
// all, the count starts after 3x the slowest wait for a first vote so far
// (round 1, with the workers' start-up, excluded).
void ShardServer::await_votes(uint64_t step) {
  util::Backoff backoff;
  const auto t0 = util::Clock::now();
  std::optional<util::Clock::time_point> first;  // the first vote's arrival
  double next_warn = policy_.stall_warn_s;
  std::vector<int> done;
  std::vector<comm::Status> st;
  for (;;) {
    const int n = net_.test_some(reqs_, done, st);
    if (n < 0) break;  // none left
    for (int i = 0; i < n; ++i) counts_[size_t(done[i])] = st[size_t(i)].bytes;
    if (n > 0 && !first) first = util::Clock::now(), next_warn = policy_.stall_warn_s;
    if (n > 0) continue;
    if (policy_.sleep) backoff.pause();
    if (next_warn <= 0) continue;
    const double waited = util::seconds_since(first ? *first : t0);
    if ((first ? waited : waited - 3 * slowest_first_vote_s_) >= next_warn)
      warn_stalled(step, waited, first.has_value()), next_warn += policy_.stall_warn_s;
  }
  if (first && rounds_awaited_++ > 0)
    slowest_first_vote_s_ = std::max(slowest_first_vote_s_, std::chrono::duration<double>(*first - t0).count());
}

// "server rank 0: step 57: still waiting for the votes of worker ranks 3, 5 (20 s after the first vote; ...)"
void ShardServer::warn_stalled(uint64_t step, double waited_s, bool any_voted) const {
  std::string ranks;
  int missing = 0;
  for (int k = 0; k < voters(); ++k) {
    if (reqs_[size_t(k)] == comm::kNoRequest) continue;  // completed
    ranks += fmt::format("{}{}", missing++ ? ", " : "", voter_rank(k));
  }
  // A report-only server (all-reduce, all-to-all) waits for each worker's REPORT, sent after the workers' collective.
  const char* what = report_only_ ? "report" : "vote";
  spdlog::warn("server rank {}: step {}: still waiting for the {}s of worker rank{} {} ({:.0f} s {}; without "
               "cluster.round_deadline_ms the round waits for every worker)", peers_.world_rank, step, what,
               missing > 1 ? "s" : "", ranks, waited_s,
               any_voted ? fmt::format("after the first {}", what) : fmt::format("with no {} yet", what));
}

void ShardServer::receive_all(uint64_t step) {
  if (deadline_mode()) return receive_by_deadline(step, /*account=*/true);
  for (int k = 0; k < voters(); ++k) {
    net_.irecv(slots_.data() + k * slot_bytes_, slot_bytes_, voter_rank(k), vote_tag(), &reqs_[k]);
  }
  if (policy_.sleep || policy_.stall_warn_s > 0) return await_votes(step);
  net_.wait_all(reqs_, status_);
  for (int k = 0; k < voters(); ++k) counts_[k] = status_[size_t(k)].bytes;  // -1: truncated
}

// Every worker must agree with this server on kind, step, shard length and
// offset, and send exactly the bytes that implies.
bool ShardServer::validate_all(uint64_t step, MsgHeader& verdict) {
  const comm::Expect want{report_only_ ? MsgKind::report : MsgKind::vote, step, shard_.length, shard_.offset, words_};
  for (int k = 0; k < voters(); ++k) {
    if (!present_[k]) continue;  // late: abstains (deadline mode)
    const int rank = voter_rank(k);
    if (counts_[k] < 0) {
      verdict.status = ErrorCode::size_mismatch;
      verdict.err_rank = static_cast<uint32_t>(rank);
      verdict.err_expected = protocol::kHeaderBytes + 4 * words_;
      verdict.err_got = slot_bytes_ + 1;  // at least this much: it did not fit
      return false;
    }
    const auto& h = *reinterpret_cast<const MsgHeader*>(slots_.data() + k * slot_bytes_);
    if (!comm::validate(h, want, static_cast<size_t>(counts_[k]), rank, verdict)) return false;
  }
  return check_hashes(verdict);
}

// On hash steps every worker reports a weight hash; they must all agree.
// The odd one out (the rank whose hash differs from the most common) is named.
bool ShardServer::check_hashes(MsgHeader& verdict) const {
  std::map<uint64_t, int> votes;
  for (int k = 0; k < voters(); ++k)
    if (present_[k]) votes[reinterpret_cast<const MsgHeader*>(slots_.data() + k * slot_bytes_)->weight_hash]++;
  if (votes.size() <= 1) return true;
  uint64_t common = 0;
  int best = -1;
  for (auto [h, n] : votes)
    if (n > best) best = n, common = h;
  for (int k = 0; k < voters(); ++k) {
    if (!present_[k]) continue;  // a late voter's slot may still be receiving
    const uint64_t h = reinterpret_cast<const MsgHeader*>(slots_.data() + k * slot_bytes_)->weight_hash;
    if (h != common) {
      verdict.status = ErrorCode::hash_mismatch;
      verdict.err_rank = static_cast<uint32_t>(voter_rank(k));
      verdict.err_expected = common;
      verdict.err_got = h;
      break;
    }
  }
  return false;
}

void ShardServer::reply(const comm::Message& msg) {
  if (deadline_mode()) return reply_queued(msg);
  for (int k = 0; k < voters(); ++k) {
    net_.isend(const_cast<comm::Message&>(msg).data(), msg.bytes(), voter_rank(k), result_tag(), &sends_[size_t(k)]);
  }
  net_.wait_all(sends_, send_status_);
}

RoundSummary ShardServer::summarize() const {
  RoundSummary s;
  const double W = std::max(1, voters() - late_);  // means over the votes that arrived
  for (int k = 0; k < voters(); ++k) {
    if (!present_[k]) continue;
    const auto& h = *reinterpret_cast<const MsgHeader*>(slots_.data() + k * slot_bytes_);
    s.loss += h.loss / W;
    s.t_compute += h.t_compute / W;
    s.t_pack += h.t_pack / W;
    s.t_comm += h.t_comm / W;
    s.t_apply += h.t_apply / W;
    s.correct += h.correct;
    s.samples += h.samples;
    s.hashed = s.hashed || h.weight_hash != 0;
  }
  s.bytes_recv_per_worker = protocol::kHeaderBytes + 4 * words_;
  s.bytes_sent_per_worker = result_.bytes();
  s.late = late_;
  return s;
}

void ShardServer::reply_error(uint64_t step, const MsgHeader& verdict) {
  auto& h = error_.header();
  h = verdict;
  h.magic = protocol::kMagic;
  h.version = protocol::kProtocolVersion;
  h.kind = MsgKind::result;
  h.rank = static_cast<uint32_t>(peers_.world_rank);
  h.step = step;
  h.words = 0;
  reply(error_);
}

void ShardServer::abort(uint64_t step, const MsgHeader* verdict) {
  if (deadline_mode()) receive_by_deadline(step, /*account=*/false);
  else receive_all(step);
  MsgHeader v;
  v.status = ErrorCode::worker_failed;
  v.err_rank = static_cast<uint32_t>(peers_.world_rank);
  reply_error(step, verdict ? *verdict : v);
}

bool ShardServer::all_left() const {
  int present = 0;
  for (int k = 0; k < voters(); ++k) {
    if (!present_[k]) continue;
    const auto& h = *reinterpret_cast<const MsgHeader*>(slots_.data() + k * slot_bytes_);
    if (counts_[k] < static_cast<int>(protocol::kHeaderBytes) || h.magic != protocol::kMagic ||
        h.status != ErrorCode::worker_left)
      return false;
    ++present;
  }
  return present > 0;
}

RoundSummary ShardServer::round(uint64_t step, const RoundMark& mark) {
  receive_all(step);
  MsgHeader verdict;
  if (all_left()) {  // a clean end: nothing to tally
    verdict.status = ErrorCode::worker_left;
    verdict.err_rank = protocol::kEveryone;
    reply_error(step, verdict);
    RoundSummary s;
    s.left = true;
    return s;
  }
  if (!validate_all(step, verdict) || (tail_.active() && !tail_.validate(slots(), verdict))) {
    reply_error(step, verdict);
    throw RoundError(fmt::format("server rank {} stopped the run at step {}: {}", peers_.world_rank, step,
                                 comm::describe_error(error_.header())));
  }
  const auto t0 = util::Clock::now();
  const bool skip = any_non_finite();
  if (!report_only_ && !skip) {
    // The present rows (all W unless some were late) at a stride of
    // `stride` words, payload after the header.
    size_t rows = 0, stride = 0;
    const uint32_t* votes = present_rows(&rows, &stride);
    const uint32_t ties = kernels::tie_word(step / round_steps_);
    if (rows > 0) aggregate_(votes, rows, stride, shard_, result_.payload(), ties);
    else  // no votes: 0 against 0, a tie
      for (size_t w = 0; w < down_words_; ++w) result_.payload()[w] = kernels::word_mask(shard_.length, w) & ties;
    if (tail_.active()) tail_.tally(slots(), result_.payload(), ties);  // the abstentions, and the voted bits
  }
  const double t_tally = util::seconds_since(t0);
  auto& h = result_.header();
  h = MsgHeader{};
  h.kind = MsgKind::result;
  h.rank = static_cast<uint32_t>(peers_.world_rank);
  h.shard = static_cast<uint16_t>(report_only_ ? 0 : peers_.world_rank);
  h.bucket = static_cast<uint16_t>(shard_.bucket);
  h.step = step;
  h.length = shard_.length;
  h.offset = shard_.offset;
  h.words = down_words_;
  h.flags = static_cast<uint8_t>(mark.flags | (skip ? protocol::kFlagSkip : 0));
  h.progress = mark.progress;
  h.elapsed_s = mark.elapsed_s;
  reply(result_);
  RoundSummary s = summarize();
  s.t_tally = t_tally;
  s.skipped = skip;
  if (tail_.active()) s.lr = tail_.lr0(slots());
  return s;
}

}  // namespace signvote::server
