// Workers made of raw messages for the server's tests: each worker's VOTE
// is a header and a closed-form payload (test::vote_of) the test can bend
// at will (any header field, any byte count) before it goes to the server
// over the loopback. One round's buffers per (worker, bucket, step), so a
// late worker's RESULTs can queue.
#pragma once

#include "comm/wire.h"
#include "server/shard_server.h"
#include "support/closed_forms.h"
#include "support/loopback_cluster.h"

#include <functional>
#include <map>
#include <tuple>
#include <vector>

namespace signvote::test {

class RawWorkers {
 public:
  // 1 server (rank 0) + W workers; the server's shards = ranges.
  RawWorkers(int W, std::chrono::milliseconds wait_limit = std::chrono::seconds(5)) : c(1, W, wait_limit) {}

  // Worker k's well-formed VOTE of step t for `range` (payload: its
  // closed-form signs), bent by `bend` (header, and the bytes to send,
  // which start at the exact count), sent; its RESULT receive posted.
  // votes_of: the round whose vote_of pattern worker k sends (0: t's).
  void post(int k, uint64_t t, const comm::Range& range,
            const std::function<void(protocol::MsgHeader&, size_t&)>& bend = {}, uint64_t votes_of = 0) {
    Slot& s = slots_[{k, range.bucket, t}];
    const size_t words = comm::payload_words(range.length);
    s.out = comm::Message(words + 64);  // room for over-long messages
    auto& h = s.out.header();
    h = protocol::MsgHeader{};
    h.rank = static_cast<uint32_t>(c.worker_rank(k));
    h.shard = static_cast<uint16_t>(range.server);
    h.bucket = static_cast<uint16_t>(range.bucket);
    h.step = t, h.length = range.length, h.offset = range.offset, h.words = words;
    std::fill(s.out.payload(), s.out.payload() + words, 0u);
    for (size_t j = 0; j < range.length; ++j)
      if (vote_of(k, range.offset + j, votes_of ? votes_of : t, c.W))
        s.out.payload()[kernels::word_of(j)] |= 1u << kernels::bit_of(j);
    size_t bytes = protocol::kHeaderBytes + 4 * words;
    if (bend) bend(h, bytes);
    s.in = comm::Message(words + 16);  // 64 B of slack, as ServerExchange posts
    auto& net = c.net(c.worker_rank(k));
    net.irecv(s.in.data(), s.in.bytes(), range.server, protocol::kTagResult + range.bucket, &s.recv);
    net.isend(s.out.data(), bytes, range.server, protocol::kTagVote + range.bucket, &s.send);
  }
  // Every worker's well-formed vote.
  void post_all(uint64_t t, const comm::Range& range) {
    for (int k = 0; k < c.W; ++k) post(k, t, range);
  }
  // Waits for worker k's RESULT of step t: its header (bytes = what arrived).
  const comm::Message& result(int k, uint64_t t, const comm::Range& range, int* bytes = nullptr) {
    Slot& s = slots_.at({k, range.bucket, t});
    comm::Status st;
    c.net(c.worker_rank(k)).wait(&s.recv, &st);
    c.net(c.worker_rank(k)).wait(&s.send);
    if (bytes) *bytes = st.bytes;
    return s.in;
  }
  // Coordinates of worker k's RESULT that differ from expected(i).
  template <class Expected>
  size_t wrong(int k, uint64_t t, const comm::Range& range, const Expected& expected) {
    const auto& m = result(k, t, range);
    size_t n = 0;
    for (size_t j = 0; j < range.length; ++j) n += bit(m.payload(), j) != expected(range.offset + j);
    return n;
  }
  // The server of the whole shard [0, d) (majority vote).
  server::ShardServer server(size_t d, server::DeadlinePolicy deadline = {}) {
    return server::ShardServer(c.peers(0), c.net(0), d, comm::RoundFormat::sign_bits(),
                              server::majority_vote(kernels::best_ops()), deadline);
  }

  LoopbackCluster c;

 private:
  struct Slot {
    comm::Message out, in;
    comm::Request send = comm::kNoRequest, recv = comm::kNoRequest;
  };
  std::map<std::tuple<int, int, uint64_t>, Slot> slots_;  // (worker, bucket, step)
};

// The whole shard of 1 server: [0, d).
inline comm::Range whole(size_t d) { return comm::Range{0, d, 0, 0}; }

}  // namespace signvote::test
