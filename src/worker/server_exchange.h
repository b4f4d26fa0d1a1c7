// The server-shard exchange (worker/exchange.h; include/signvote/protocol.h):
// part p is a server shard's bucket, a VOTE (or fp32 / QSGD payload) to its
// server rank and a RESULT back. With dim = 0 it sends header-only REPORTs
// (the all-reduce baseline, and the all-to-all vote's verdict). It talks
// through a comm::Transport: MPI by default, the loopback in unit tests.
#pragma once

#include "comm/topology.h"
#include "comm/transport.h"
#include "comm/wire.h"
#include "signvote/config_enums.h"
#include "worker/exchange.h"

#include <cstdint>
#include <vector>

namespace signvote::worker {

class ServerExchange final : public Exchange {
 public:
  // dim = 0: header-only REPORT rounds. `format` sizes the payloads. The
  // parts of this exchange are comm::plan_ranges(dim, S, bucket_coords):
  // every server shard's buckets, each a message of its own.
  ServerExchange(const comm::Topology& topo, size_t dim, const comm::RoundFormat& format = comm::RoundFormat::sign_bits(),
             size_t bucket_coords = 0);
  // The same over any transport: `peers` gives this rank and the server
  // count (its voters are not used here).
  ServerExchange(const comm::Peers& peers, comm::Transport& net, size_t dim,
             const comm::RoundFormat& format = comm::RoundFormat::sign_bits(), size_t bucket_coords = 0);
  size_t parts() const override { return parts_.size(); }
  const comm::Range& part(size_t s) const override { return parts_[s]; }
  // Outgoing packed signs of part s: payload_words(part(s).length) words.
  uint32_t* out_bits(size_t s) override { return out_[s].payload(); }
  float* out_floats(size_t s) { return reinterpret_cast<float*>(out_[s].payload()); }
  void begin(uint64_t step) override;
  // Posts part s's VOTE/REPORT message and its RESULT receive.
  void post(uint64_t step, size_t s, const WorkerReport& report) override;
  bool posted(size_t s) const override { return posted_[s] != 0; }
  // One whole round trip: begin, every part posted, every RESULT waited for.
  void round_trip(uint64_t step, const WorkerReport& report) {
    begin(step);
    post_rest(step, report);
    wait();
  }
  // faults.wrong_step_* / wrong_field: the next message of part s claims
  // step + 1000, the next protocol version, or one coordinate more.
  void inject_wrong_header(size_t s, WrongField field) { wrong_part_ = s, wrong_field_ = field; }
  // Completes the round at once (every send and receive); throws
  // RoundError if any RESULT carries an error.
  void wait();
  // The next RESULT to arrive, checked; after the last one completes the
  // sends and returns parts().
  size_t wait_next() override;
  // The packed majority of part s (valid after wait()).
  const uint32_t* result_bits(size_t s) const override { return in_[s].payload(); }
  const float* result_floats(size_t s) const { return reinterpret_cast<const float*>(in_[s].payload()); }
  bool stop_requested() const override { return (in_[0].header().flags & protocol::kFlagStop) != 0; }
  // Every server sees the same flags on the same workers' votes: part 0 speaks for all.
  bool skip_requested() const override { return (in_[0].header().flags & protocol::kFlagSkip) != 0; }
  void set_tail(std::span<const uint32_t> words) override;
  const uint32_t* voted_bits(size_t s) const override {
    return tail_.active() ? in_[s].payload() + comm::payload_words(parts_[s].length) : nullptr;
  }
  // This client's messages say worker_left from now on (Worker::leave): only
  // then is a RESULT "every worker left" a clean end rather than an error.
  void set_leaving() { leaving_ = true; }
  // The server ended the run because every worker left (protocol.h, "Leaving").
  bool everyone_left() const {
    return in_[0].header().status == protocol::ErrorCode::worker_left && in_[0].header().err_rank == protocol::kEveryone;
  }
  double progress(size_t s) const override { return in_[s].header().progress; }
  double elapsed_s() const override { return in_[0].header().elapsed_s; }
  uint64_t bytes_sent() const { return bytes_sent_; }  // this round, all parts
  uint64_t bytes_recv() const { return bytes_recv_; }

 private:
  void check_results() const;
  void check_result(size_t s) const;
  int rank_;  // this worker's world rank
  comm::Transport& net_;
  bool report_only_;
  std::vector<comm::Range> parts_;
  std::vector<comm::Message> out_, in_;
  std::vector<size_t> down_words_;
  std::vector<int> counts_;  // bytes of each RESULT received
  std::vector<char> posted_;  // parts posted in round step_
  // The RESULT receives of every part, then its sends: reqs_[s] and
  // reqs_[parts() + s] (wait_next waits on the first half alone).
  std::vector<comm::Request> reqs_;
  std::vector<comm::Status> st_;
  uint64_t step_ = 0, bytes_sent_ = 0, bytes_recv_ = 0;
  size_t wrong_part_ = SIZE_MAX;
  WrongField wrong_field_ = WrongField::step;
  bool leaving_ = false;
  comm::VoteTail tail_;             // the format's (inactive: no tail)
  std::vector<uint32_t> tail_words_;  // this round's VOTE tail (set_tail)
};

}  // namespace signvote::worker
