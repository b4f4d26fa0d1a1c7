// Server side of one round (include/signvote/protocol.h): receive every
// worker's VOTE (or REPORT), validate, tally, reply. It talks through a
// comm::Transport: MPI by default, the loopback in unit tests.
#pragma once

#include "comm/round_error.h"
#include "comm/topology.h"
#include "comm/transport.h"
#include "util/timer.h"
#include "comm/wire.h"
#include "server/tail_votes.h"
#include "signvote/sign_kernels.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

namespace signvote::server {

// What the server learnt in one round (means over workers; seconds).
struct RoundSummary {
  double loss = 0, t_compute = 0, t_pack = 0, t_comm = 0, t_apply = 0, t_tally = 0;
  uint64_t correct = 0, samples = 0;
  uint64_t bytes_recv_per_worker = 0, bytes_sent_per_worker = 0;
  bool hashed = false;  // weight hashes were checked this round
  int late = 0;         // workers whose vote missed the deadline (they abstained)
  bool left = false;    // every worker left at this step (protocol.h, "Leaving"): the run ends
  bool skipped = false; // a worker's gradient was not finite (optimizer.nonfinite: skip): nobody applies it
  double lr = -1;       // group 0's lr as the workers sent it (vote tail), -1: not sent
};

// cluster.round_deadline_ms / max_missed_rounds (0: wait for every worker).
// And how it waits (cluster.server_wait: sleep = util::Backoff).
struct DeadlinePolicy {
  int64_t deadline_ms = 0;
  int64_t max_missed = 10;
  bool sleep = false;        // cluster.server_wait: sleep (util::Backoff between polls)
  double stall_warn_s = 0;   // run.stall_warn_s: name the ranks still awaited every this many seconds (0: never)
};

// Combines the W validated payloads of a shard into the RESULT payload:
// rows = first payload word of worker 0, worker k's at rows + k*stride_words;
// ties: the bits a tied vote takes this round (kernels::tie_word(round)).
using AggregateFn = std::function<void(const uint32_t* rows, size_t W, size_t stride_words, const comm::Range& shard,
                                       uint32_t* out, uint32_t ties)>;

// The majority vote: bit-sliced tally of packed signs with `ops`.
AggregateFn majority_vote(const kernels::SignOps& ops);

// What a round's RESULT headers say besides the tally: kFlagStop on the
// last round, and server 0's budget clock (schedules follow it).
struct RoundMark {
  uint8_t flags = 0;
  double progress = 0;   // fraction of the run's budget at this step
  double elapsed_s = 0;  // seconds of training so far
};

class ShardServer {
 public:
  // dim = 0: report-only rounds (all-reduce mode). `format` sizes payloads,
  // `aggregate` combines them (majority_vote by default).
  ShardServer(const comm::Topology& topo, size_t dim, const kernels::SignOps& ops);
  ShardServer(const comm::Topology& topo, size_t dim, const comm::RoundFormat& format, AggregateFn aggregate,
             DeadlinePolicy deadline = {});
  // One bucket of this server's shard (comm::plan_ranges): its messages
  // carry tags kTagVote + bucket and kTagResult + bucket.
  ShardServer(const comm::Topology& topo, const comm::Range& range, const comm::RoundFormat& format,
             AggregateFn aggregate, DeadlinePolicy deadline = {});
  // The same over any transport: `peers` names this server (its world rank
  // is its shard index), the server count and the voters, in order.
  ShardServer(comm::Peers peers, comm::Transport& net, size_t dim, const comm::RoundFormat& format,
             AggregateFn aggregate, DeadlinePolicy deadline = {});
  ShardServer(comm::Peers peers, comm::Transport& net, const comm::Range& range, const comm::RoundFormat& format,
             AggregateFn aggregate, DeadlinePolicy deadline = {});
  ShardServer(const ShardServer&) = delete;
  ShardServer& operator=(const ShardServer&) = delete;
  const comm::Range& shard() const { return shard_; }
  // With a vote tail (format.tail: the workers' tensors): the tally kernels
  // for the tensors some workers abstain on, and the groups' lrs the
  // server's schedule drives (empty: the workers' schedulers may set them).
  void set_tail_rules(const kernels::SignOps& ops, const std::vector<double>& fixed_lr);
  // With H local steps (aggregation.local_steps) the rounds come at steps
  // H, 2H, ...: a tied vote takes kernels::tie_word(step / H), so that ties
  // alternate round by round for an even H too. Default 1.
  void set_round_steps(uint64_t h) { round_steps_ = h == 0 ? 1 : h; }
  // Runs round `step`. On a validation failure replies with the error to
  // every worker, then throws RoundError.
  // `mark` goes into the RESULT header (kFlagStop: this is the last round).
  RoundSummary round(uint64_t step, const RoundMark& mark = {});
  // Stops the run from the server side at `step` (the round the workers are
  // in): receives their messages, replies worker_failed naming this rank.
  // `verdict`: the error to send (default: worker_failed naming this server);
  // a bucket stopped because another bucket failed passes that one's on.
  void abort(uint64_t step, const protocol::MsgHeader* verdict = nullptr);
  // The error RESULT of the last round that failed validation.
  const protocol::MsgHeader& last_error() const { return error_.header(); }
  // Deadline mode: cancels receives still posted and lets queued sends
  // finish on their own (their buffers are kept), so that a server leaving
  // on an error never frees memory MPI is still using. The transport must
  // outlive the server.
  ~ShardServer();
  // With a deadline, after the last round: receives the late workers' votes
  // up to `last_step` (discarded) and delivers every result they still lack.
  void finish(uint64_t last_step);

 private:
  // ---- deadline mode (deadline.cpp) ----
  // A late worker's receive stays posted across rounds; its stale votes are
  // validated as stale and discarded, and its RESULTs queue in its outbox
  // until it catches up (MPI keeps them in order).
  using Clock = util::Clock;
  struct Outgoing {
    std::shared_ptr<comm::Message> msg;
    comm::Request req = comm::kNoRequest;
  };
  bool deadline_mode() const { return policy_.deadline_ms > 0; }
  // Every present, well-formed message of this round says worker_left.
  bool all_left() const;
  void post_receive(int k);
  // account: count misses and enforce max_missed (not while aborting).
  void receive_by_deadline(uint64_t step, bool account);
  bool is_stale(int k, int count, uint64_t step) const;
  void note_late(uint64_t step, Clock::time_point deadline);
  const uint32_t* present_rows(size_t* rows, size_t* stride_words);
  void reply_queued(const comm::Message& msg);
  DeadlinePolicy policy_;
  std::vector<char> present_;      // this round's vote arrived in time
  std::vector<int64_t> missed_;    // consecutive late rounds per worker
  std::vector<std::deque<Outgoing>> outbox_;
  std::map<uint64_t, Clock::time_point> deadlines_;  // rounds someone missed -> their deadline
  AlignedBuffer<std::byte> compact_;  // the present rows, contiguous, for the tally
  int late_ = 0;
  double slowest_first_vote_s_ = 0;  // the longest wait for a round's first vote (await_votes)
  uint64_t rounds_awaited_ = 0;

  int voters() const { return peers_.voter_count(); }
  int voter_rank(int k) const { return peers_.voters[size_t(k)]; }
  int vote_tag() const { return report_only_ ? protocol::kTagReport : protocol::kTagVote + shard_.bucket; }
  int result_tag() const { return protocol::kTagResult + shard_.bucket; }
  void receive_all(uint64_t step);
  void await_votes(uint64_t step);
  void warn_stalled(uint64_t step, double waited_s, bool any_voted) const;
  bool validate_all(uint64_t step, protocol::MsgHeader& verdict);
  bool check_hashes(protocol::MsgHeader& verdict) const;
  void reply(const comm::Message& msg);
  void reply_error(uint64_t step, const protocol::MsgHeader& verdict);
  RoundSummary summarize() const;
  SlotView slots() const { return {slots_.data(), slot_bytes_, static_cast<size_t>(voters()), &peers_.voters}; }
  bool any_non_finite() const;

  comm::Peers peers_;
  comm::Transport& net_;
  AggregateFn aggregate_;
  bool report_only_;
  comm::Range shard_;
  size_t words_ = 0;       // VOTE payload words per worker slot
  size_t down_words_ = 0;  // RESULT payload words
  uint64_t round_steps_ = 1;  // H: inner steps per round (set_round_steps)
  size_t slot_bytes_ = 0;  // header + payload + 64 B slack, multiple of 64
  AlignedBuffer<std::byte> slots_;  // W slots, 64-byte aligned
  std::vector<comm::Request> reqs_;   // the W vote receives
  std::vector<comm::Request> sends_;  // the W RESULT sends (without a deadline)
  std::vector<comm::Status> status_, send_status_;
  std::vector<int> counts_;
  comm::Message result_, error_;
  comm::VoteTail tail_def_;  // the format's tail (inactive: none)
  TailVotes tail_;
};

}  // namespace signvote::server
