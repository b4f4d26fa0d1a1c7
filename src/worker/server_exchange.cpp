#include "worker/server_exchange.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>

namespace signvote::worker {

using comm::Message;
using protocol::MsgKind;

ServerExchange::ServerExchange(const comm::Topology& topo, size_t dim, const comm::RoundFormat& format, size_t bucket_coords)
    : ServerExchange(comm::Peers{topo.world_rank(), topo.servers(), {}}, comm::mpi_transport(), dim, format, bucket_coords) {}

ServerExchange::ServerExchange(const comm::Peers& peers, comm::Transport& net, size_t dim, const comm::RoundFormat& format,
                       size_t bucket_coords)
    : rank_(peers.world_rank), net_(net), report_only_(dim == 0) {
  parts_ = report_only_ ? std::vector<comm::Range>{comm::Range{}} : comm::plan_ranges(dim, peers.servers, bucket_coords);
  for (const auto& sh : parts_) {
    out_.emplace_back(report_only_ ? 0 : format.up_words(sh.length));
    down_words_.push_back(report_only_ ? 0 : format.down_words(sh.length));
    in_.emplace_back(down_words_.back() + protocol::kWireAlignBytes / 4);  // slack: over-long replies show up in the count
  }
  tail_ = format.tail;
  tail_words_.assign(tail_.up_words(), 0u);
  reqs_.assign(2 * parts_.size(), comm::kNoRequest);
  counts_.assign(parts_.size(), 0);
  posted_.assign(parts_.size(), 0);
}

void ServerExchange::set_tail(std::span<const uint32_t> words) {
  if (words.size() != tail_words_.size())
    throw std::logic_error(fmt::format("ServerExchange::set_tail: {} words, the format has {}", words.size(), tail_words_.size()));
  std::copy(words.begin(), words.end(), tail_words_.begin());
}

void ServerExchange::begin(uint64_t step) {
  step_ = step;
  bytes_sent_ = bytes_recv_ = 0;
  std::fill(posted_.begin(), posted_.end(), 0);
}

void ServerExchange::post(uint64_t step, size_t s, const WorkerReport& r) {
  if (step != step_) begin(step);  // the first part of a new round
  auto& h = out_[s].header();
  h = protocol::MsgHeader{};
  h.kind = report_only_ ? MsgKind::report : MsgKind::vote;
  h.status = r.status;
  h.rank = static_cast<uint32_t>(rank_);
  h.shard = static_cast<uint16_t>(parts_[s].server);
  h.bucket = static_cast<uint16_t>(parts_[s].bucket);
  h.step = step;
  h.length = parts_[s].length;
  if (s == wrong_part_) {
    if (wrong_field_ == WrongField::version) ++h.version;
    else if (wrong_field_ == WrongField::length) ++h.length;
    else h.step = step + 1000;
    wrong_part_ = SIZE_MAX;
  }
  h.offset = parts_[s].offset;
  h.words = out_[s].words();
  h.loss = r.loss;
  h.t_compute = r.t_compute;
  h.t_pack = r.t_pack;
  h.t_comm = r.t_comm;
  h.t_apply = r.t_apply;
  h.correct = r.correct;
  h.samples = r.samples;
  h.weight_hash = r.weight_hash;
  h.err_got = r.err_got;
  h.err_expected = r.err_expected;
  h.err_rank = r.err_rank;
  h.flags = r.flags;
  if (tail_.active() && !report_only_)  // after the part's packed signs
    std::copy(tail_words_.begin(), tail_words_.end(), out_[s].payload() + comm::payload_words(parts_[s].length));
  const int bucket = parts_[s].bucket;
  const int tag = report_only_ ? protocol::kTagReport : protocol::kTagVote + bucket;
  const int server = parts_[s].server;
  net_.irecv(in_[s].data(), in_[s].bytes(), server, protocol::kTagResult + bucket, &reqs_[s]);
  net_.isend(out_[s].data(), out_[s].bytes(), server, tag, &reqs_[parts_.size() + s]);
  bytes_sent_ += out_[s].bytes();
  posted_[s] = 1;
}

size_t ServerExchange::wait_next() {
  const std::span<comm::Request> recvs(reqs_.data(), parts_.size());
  comm::Status st;
  const int idx = net_.wait_any(recvs, &st);
  if (idx < 0) {  // all arrived: the sends must be done too
    net_.wait_all(std::span<comm::Request>(reqs_).subspan(parts_.size()), st_);
    return parts_.size();
  }
  const auto s = static_cast<size_t>(idx);
  counts_[s] = st.bytes;
  if (counts_[s] < 0)
    throw RoundError(fmt::format("rank {}: RESULT from server rank {} could not be received (larger than expected?)",
                                 rank_, parts_[s].server));
  bytes_recv_ += static_cast<uint64_t>(counts_[s]);
  check_result(s);
  return s;
}

void ServerExchange::wait() {
  net_.wait_all(reqs_, st_);
  for (size_t s = 0; s < parts_.size(); ++s) {
    const int count = st_[s].bytes;
    counts_[s] = count;  // -1: not received
    if (count < 0)
      throw RoundError(fmt::format("rank {}: RESULT from server rank {} could not be received (larger than expected?)",
                                   rank_, parts_[s].server));
    bytes_recv_ += static_cast<uint64_t>(count);
  }
  check_results();
}

void ServerExchange::check_results() const {
  for (size_t s = 0; s < parts_.size(); ++s) check_result(s);
}

void ServerExchange::check_result(size_t s) const {
  {
    const int server = parts_[s].server, count = counts_[s];
    const auto& h = in_[s].header();
    if (count >= static_cast<int>(protocol::kHeaderBytes) && h.magic == protocol::kMagic &&
        h.status != protocol::ErrorCode::ok) {
      if (leaving_ && h.status == protocol::ErrorCode::worker_left && h.err_rank == protocol::kEveryone) return;  // a clean end
      throw RoundError(fmt::format("server rank {} stopped the run at step {}: {}", server, step_, comm::describe_error(h)),
                       h.status, static_cast<int>(h.err_rank));
    }
    protocol::MsgHeader verdict;
    const comm::Expect want{MsgKind::result, step_, parts_[s].length, parts_[s].offset, down_words_[s]};
    if (!comm::validate(h, want, static_cast<size_t>(count), server, verdict))
      throw RoundError(fmt::format("rank {}: bad RESULT: {}", rank_, comm::describe_error(verdict)),
                       verdict.status, server);
  }
}

}  // namespace signvote::worker
