#include "comm/loopback.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace signvote::comm {

// ---- the hub (every call below holds mu_) ----------------------------------------

Request LoopbackHub::new_op() {
  Request r;
  if (free_.empty()) {
    ops_.emplace_back();
    r = static_cast<Request>(ops_.size() - 1);
  } else {
    r = free_.back();
    free_.pop_back();
  }
  ops_[size_t(r)] = Op{};
  ops_[size_t(r)].used = true;
  return r;
}

void LoopbackHub::free_op(Request* req) {
  if (*req == kNoRequest) return;
  ops_[size_t(*req)] = Op{};
  free_.push_back(*req);
  *req = kNoRequest;
}

// A message longer than the receive is MPI's truncation: the part that fits
// arrives, the status says failed.
void LoopbackHub::complete(Op& op, const std::vector<std::byte>& msg) {
  std::memcpy(op.buf, msg.data(), std::min(msg.size(), op.bytes));
  op.st.bytes = msg.size() > op.bytes ? -1 : static_cast<int>(msg.size());
  op.done = true;
}

void LoopbackHub::route(const Key& key, std::vector<std::byte> msg) {
  auto it = waiting_.find(key);
  if (it != waiting_.end() && !it->second.empty()) {
    complete(ops_[size_t(it->second.front())], msg);
    it->second.pop_front();
    cv_.notify_all();
    return;
  }
  queued_[key].push_back(std::move(msg));
}

Request LoopbackHub::post_send(const void* buf, size_t bytes, Key key) {
  const auto* p = static_cast<const std::byte*>(buf);
  std::vector<std::byte> msg(p, p + bytes);
  if (held_.count(std::get<0>(key))) held_msgs_.emplace_back(key, std::move(msg));
  else route(key, std::move(msg));
  const Request r = new_op();
  ops_[size_t(r)].done = true;  // eager: the hub has its copy
  ops_[size_t(r)].st.bytes = 0;
  return r;
}

Request LoopbackHub::post_recv(void* buf, size_t bytes, Key key) {
  const Request r = new_op();
  Op& op = ops_[size_t(r)];
  op.buf = buf, op.bytes = bytes, op.key = key;
  auto it = queued_.find(key);
  if (it != queued_.end() && !it->second.empty()) {
    complete(op, it->second.front());
    it->second.pop_front();
  } else {
    waiting_[key].push_back(r);
  }
  return r;
}

template <class Pred>
void LoopbackHub::block(Lock& lock, Pred pred, const char* what) {
  if (!cv_.wait_for(lock, wait_limit_, pred))
    throw std::runtime_error(std::string("loopback transport: ") + what + " still incomplete after " +
                             std::to_string(wait_limit_.count()) + " ms (a deadlock in the test?)");
}

void LoopbackHub::hold(int src) {
  const Lock lock(mu_);
  held_.insert(src);
}

void LoopbackHub::deliver(int src) {
  const Lock lock(mu_);
  held_.erase(src);
  for (auto it = held_msgs_.begin(); it != held_msgs_.end();) {
    if (std::get<0>(it->first) != src) {
      ++it;
      continue;
    }
    route(it->first, std::move(it->second));
    it = held_msgs_.erase(it);
  }
}

size_t LoopbackHub::in_flight() const {
  const Lock lock(mu_);
  size_t n = held_msgs_.size();
  for (const auto& [key, q] : queued_) n += q.size();
  return n;
}

// ---- one rank's transport ------------------------------------------------------------

void LoopbackTransport::isend(const void* buf, size_t bytes, int dest, int tag, Request* req) {
  const LoopbackHub::Lock lock(hub_.mu_);
  *req = hub_.post_send(buf, bytes, {rank_, dest, tag});
}

void LoopbackTransport::irecv(void* buf, size_t bytes, int src, int tag, Request* req) {
  const LoopbackHub::Lock lock(hub_.mu_);
  *req = hub_.post_recv(buf, bytes, {src, rank_, tag});
}

void LoopbackTransport::wait_all(std::span<Request> reqs, std::vector<Status>& st) {
  LoopbackHub::Lock lock(hub_.mu_);
  hub_.block(lock, [&] { return std::all_of(reqs.begin(), reqs.end(), [&](Request r) { return r == kNoRequest || hub_.done(r); }); },
             "wait_all");
  st.assign(reqs.size(), Status{0});
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (reqs[i] == kNoRequest) continue;
    st[i] = hub_.ops_[size_t(reqs[i])].st;
    hub_.free_op(&reqs[i]);
  }
}

int LoopbackTransport::test_some(std::span<Request> reqs, std::vector<int>& done, std::vector<Status>& st) {
  const LoopbackHub::Lock lock(hub_.mu_);
  done.resize(reqs.size());
  st.resize(reqs.size());
  int n = 0;
  bool any_active = false;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (!hub_.active(reqs[i])) continue;
    any_active = true;
    if (!hub_.done(reqs[i])) continue;
    done[size_t(n)] = static_cast<int>(i);
    st[size_t(n++)] = hub_.ops_[size_t(reqs[i])].st;
    hub_.free_op(&reqs[i]);
  }
  return any_active ? n : -1;
}

int LoopbackTransport::wait_any(std::span<Request> reqs, Status* st) {
  LoopbackHub::Lock lock(hub_.mu_);
  if (std::none_of(reqs.begin(), reqs.end(), [&](Request r) { return hub_.active(r); })) return -1;
  hub_.block(lock, [&] { return std::any_of(reqs.begin(), reqs.end(), [&](Request r) { return hub_.done(r); }); },
             "wait_any");
  const auto it = std::find_if(reqs.begin(), reqs.end(), [&](Request r) { return hub_.done(r); });
  *st = hub_.ops_[size_t(*it)].st;
  hub_.free_op(&*it);
  return static_cast<int>(it - reqs.begin());
}

void LoopbackTransport::wait(Request* req, Status* st) {
  LoopbackHub::Lock lock(hub_.mu_);
  Status s{0};
  if (*req != kNoRequest) {
    hub_.block(lock, [&] { return hub_.done(*req); }, "wait");
    s = hub_.ops_[size_t(*req)].st;
    hub_.free_op(req);
  }
  if (st) *st = s;
}

bool LoopbackTransport::test(Request* req) {
  const LoopbackHub::Lock lock(hub_.mu_);
  if (*req == kNoRequest) return true;
  if (!hub_.done(*req)) return false;
  hub_.free_op(req);
  return true;
}

void LoopbackTransport::cancel(Request* req) noexcept {
  const LoopbackHub::Lock lock(hub_.mu_);
  if (*req == kNoRequest) return;
  const auto& op = hub_.ops_[size_t(*req)];
  if (!op.done) {  // a receive still waiting: withdraw it
    const auto it = hub_.waiting_.find(op.key);
    if (it != hub_.waiting_.end()) std::erase(it->second, *req);
  }
  hub_.free_op(req);
}

// Sends are complete once posted (the hub holds a copy); a receive still
// waiting is withdrawn, so the hub never writes into a buffer being freed.
void LoopbackTransport::release(Request* req) noexcept { cancel(req); }

}  // namespace signvote::comm
