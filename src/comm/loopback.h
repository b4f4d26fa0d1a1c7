// comm::Transport in one process, for unit tests without mpiexec: every
// rank is a LoopbackTransport on one shared LoopbackHub.
//
//   isend   copies the message into the hub (eager, like MPI's small
//           messages) and completes at once
//   irecv   matches the oldest message of (source, dest, tag), in the order
//           they were sent; a message longer than the receive completes it
//           with bytes = -1 (MPI's truncation error), the part that fits
//           copied
//   waits   block until the hub matched the requests (another thread may
//           post the sends), or throw after wait_limit: a test that would
//           deadlock fails instead
//   hold(src) / deliver(src): messages `src` sends meanwhile wait in the
//           hub, as if the network were slow: a late worker for the round
//           deadline's tests
//
// Requests index the hub's table of operations (one table for every rank).
// Thread-safe: one mutex for the hub.
#pragma once

#include "comm/transport.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

namespace signvote::comm {

class LoopbackHub {
 public:
  explicit LoopbackHub(std::chrono::milliseconds wait_limit = std::chrono::seconds(10)) : wait_limit_(wait_limit) {}
  LoopbackHub(const LoopbackHub&) = delete;
  LoopbackHub& operator=(const LoopbackHub&) = delete;
  // From now on, messages `src` sends stay in the hub until deliver(src).
  void hold(int src);
  // Delivers what `src` sent while held, in order, and stops holding it.
  void deliver(int src);
  // Messages sent and not yet received (held ones included).
  size_t in_flight() const;

 private:
  friend class LoopbackTransport;
  using Key = std::tuple<int, int, int>;  // (source, dest, tag)
  struct Op {
    bool used = false, done = false;
    void* buf = nullptr;  // receives: where the message goes
    size_t bytes = 0;     // receives: room
    Key key{};
    Status st{};
  };
  using Lock = std::unique_lock<std::mutex>;
  Request post_send(const void* buf, size_t bytes, Key key);
  Request post_recv(void* buf, size_t bytes, Key key);
  void complete(Op& op, const std::vector<std::byte>& msg);
  void route(const Key& key, std::vector<std::byte> msg);  // to a waiting receive, or queued
  Request new_op();
  void free_op(Request* req);
  bool active(Request r) const { return r != kNoRequest && ops_[size_t(r)].used; }
  bool done(Request r) const { return r != kNoRequest && ops_[size_t(r)].done; }
  // Blocks until pred() or wait_limit_ (then throws naming `what`).
  template <class Pred>
  void block(Lock& lock, Pred pred, const char* what);

  std::chrono::milliseconds wait_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Op> ops_;
  std::vector<Request> free_;
  std::map<Key, std::deque<std::vector<std::byte>>> queued_;  // sent, no receive yet
  std::map<Key, std::deque<Request>> waiting_;               // receives, no message yet
  std::set<int> held_;
  std::deque<std::pair<Key, std::vector<std::byte>>> held_msgs_;
};

class LoopbackTransport final : public Transport {
 public:
  LoopbackTransport(LoopbackHub& hub, int rank) : hub_(hub), rank_(rank) {}
  int rank() const { return rank_; }
  void isend(const void* buf, size_t bytes, int dest, int tag, Request* req) override;
  void irecv(void* buf, size_t bytes, int src, int tag, Request* req) override;
  void wait_all(std::span<Request> reqs, std::vector<Status>& st) override;
  int test_some(std::span<Request> reqs, std::vector<int>& done, std::vector<Status>& st) override;
  int wait_any(std::span<Request> reqs, Status* st) override;
  void wait(Request* req, Status* st = nullptr) override;
  bool test(Request* req) override;
  void cancel(Request* req) noexcept override;
  void release(Request* req) noexcept override;

 private:
  LoopbackHub& hub_;
  int rank_;
};

}  // namespace signvote::comm
