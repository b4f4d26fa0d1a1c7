// comm::LoopbackTransport, the in-process Transport the round tests use:
// matching by (source, dest, tag) in send order, byte counts, MPI-like
// truncation, held messages, and waits that fail instead of hanging.
#include <catch2/catch.hpp>

#include "comm/loopback.h"

#include <array>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

using namespace signvote::comm;

namespace {

// A message of n bytes, all `v`.
std::vector<char> bytes_of(size_t n, char v) { return std::vector<char>(n, v); }

}  // namespace

TEST_CASE("loopback: receives match (source, dest, tag) in send order, with byte counts", "[comm][loopback]") {
  LoopbackHub hub;
  LoopbackTransport a(hub, 0), b(hub, 1), c(hub, 2);
  const auto m1 = bytes_of(10, 'x'), m2 = bytes_of(20, 'y'), m3 = bytes_of(5, 'z'), m4 = bytes_of(7, 'w');
  std::array<Request, 4> sends{};
  a.isend(m1.data(), m1.size(), 1, 100, &sends[0]);
  a.isend(m2.data(), m2.size(), 1, 100, &sends[1]);  // same key: after m1
  a.isend(m3.data(), m3.size(), 1, 101, &sends[2]);  // another tag
  c.isend(m4.data(), m4.size(), 1, 100, &sends[3]);  // another source
  std::vector<Status> st;
  a.wait_all(std::span<Request>(sends).first(3), st);  // eager: done at once
  for (size_t i = 0; i < 3; ++i) CHECK(sends[i] == kNoRequest);
  std::array<std::vector<char>, 4> in;
  std::array<Request, 4> recvs{};
  for (auto& v : in) v.assign(32, 0);
  b.irecv(in[0].data(), 32, 1 + 1, 100, &recvs[0]);  // from rank 2 first
  b.irecv(in[1].data(), 32, 0, 101, &recvs[1]);
  b.irecv(in[2].data(), 32, 0, 100, &recvs[2]);
  b.irecv(in[3].data(), 32, 0, 100, &recvs[3]);
  b.wait_all(recvs, st);
  CHECK(st[0].bytes == 7);
  CHECK(in[0][0] == 'w');
  CHECK(st[1].bytes == 5);
  CHECK(in[1][4] == 'z');
  CHECK(st[2].bytes == 10);
  CHECK(in[2][9] == 'x');
  CHECK(st[3].bytes == 20);
  CHECK(in[3][19] == 'y');
  CHECK(hub.in_flight() == 0);
  c.wait(&sends[3]);
}

TEST_CASE("loopback: a message longer than the receive fails like MPI truncation", "[comm][loopback]") {
  LoopbackHub hub;
  LoopbackTransport a(hub, 0), b(hub, 1);
  std::vector<char> in(8, 0);
  Request r = kNoRequest, s = kNoRequest;
  b.irecv(in.data(), in.size(), 0, 7, &r);
  const auto m = bytes_of(9, 'q');
  a.isend(m.data(), m.size(), 1, 7, &s);
  Status st;
  b.wait(&r, &st);
  CHECK(st.bytes == -1);
  CHECK(in[7] == 'q');  // the part that fits
  CHECK(r == kNoRequest);
}

TEST_CASE("loopback: held messages arrive only once delivered, in order", "[comm][loopback]") {
  LoopbackHub hub;
  LoopbackTransport a(hub, 0), b(hub, 1);
  hub.hold(0);
  int one = 1, two = 2, got1 = 0, got2 = 0;
  Request s1 = kNoRequest, s2 = kNoRequest, r1 = kNoRequest, r2 = kNoRequest;
  a.isend(&one, sizeof one, 1, 5, &s1);
  a.isend(&two, sizeof two, 1, 5, &s2);
  b.irecv(&got1, sizeof got1, 0, 5, &r1);
  CHECK_FALSE(b.test(&r1));
  CHECK(hub.in_flight() == 2);
  std::vector<int> done;
  std::vector<Status> st;
  std::array<Request, 1> rs{r1};
  CHECK(b.test_some(rs, done, st) == 0);
  hub.deliver(0);
  CHECK(b.test_some(rs, done, st) == 1);
  CHECK(done[0] == 0);
  CHECK(st[0].bytes == static_cast<int>(sizeof(int)));
  CHECK(got1 == 1);
  CHECK(b.test_some(rs, done, st) == -1);  // none active
  b.irecv(&got2, sizeof got2, 0, 5, &r2);
  CHECK(b.test(&r2));
  CHECK(got2 == 2);
  a.wait(&s1), a.wait(&s2);
}

TEST_CASE("loopback: a wait another thread completes blocks until then", "[comm][loopback]") {
  LoopbackHub hub;
  LoopbackTransport a(hub, 0), b(hub, 1);
  int v = 0;
  std::array<Request, 2> rs{kNoRequest, kNoRequest};
  b.irecv(&v, sizeof v, 0, 3, &rs[1]);
  std::thread sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int w = 42;
    Request s = kNoRequest;
    a.isend(&w, sizeof w, 1, 3, &s);
  });
  Status st;
  CHECK(b.wait_any(rs, &st) == 1);
  sender.join();
  CHECK(v == 42);
  CHECK(b.wait_any(rs, &st) == -1);
}

TEST_CASE("loopback: a wait nobody can complete fails instead of hanging", "[comm][loopback]") {
  LoopbackHub hub(std::chrono::milliseconds(30));
  LoopbackTransport b(hub, 1);
  int v = 0;
  Request r = kNoRequest;
  b.irecv(&v, sizeof v, 0, 3, &r);
  CHECK_THROWS_WITH(b.wait(&r), Catch::Contains("a deadlock in the test?"));
  b.cancel(&r);  // withdrawn: a later message stays queued
  CHECK(r == kNoRequest);
  LoopbackTransport a(hub, 0);
  Request s = kNoRequest;
  a.isend(&v, sizeof v, 1, 3, &s);
  CHECK(hub.in_flight() == 1);
}
