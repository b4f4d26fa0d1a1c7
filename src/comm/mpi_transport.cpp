#include "comm/mpi_transport.h"

#include "comm/mpi_check.h"
#include "comm/topology.h"

namespace signvote::comm {
namespace {

// Bytes a request delivered; -1 when its status carries an error or the
// request did not complete (MPI_ERR_PENDING). `ok`: the call returned
// MPI_SUCCESS, which leaves the statuses' error fields unset.
Status status_of(MPI_Status& st, bool ok) {
  if (ok) st.MPI_ERROR = MPI_SUCCESS;
  int count = -1;
  if (st.MPI_ERROR != MPI_SUCCESS) return {-1};
  if (MPI_Get_count(&st, MPI_BYTE, &count) != MPI_SUCCESS) return {-1};
  return {count};
}

}  // namespace

Transport& mpi_transport() {
  static MpiTransport world;  // outlives every round object (constructed before them)
  return world;
}

Peers Peers::of(const Topology& topo) {
  Peers p{topo.world_rank(), topo.servers(), {}};
  for (int v = 0; v < topo.voters(); ++v) p.voters.push_back(topo.voter_rank(v));
  return p;
}

Request MpiTransport::take_slot() {
  if (free_.empty()) {
    table_.push_back(MPI_REQUEST_NULL);
    return static_cast<Request>(table_.size() - 1);
  }
  const Request r = free_.back();
  free_.pop_back();
  return r;
}

void MpiTransport::put_back(Request* req, MPI_Request r) {
  if (*req == kNoRequest) return;
  if (r == MPI_REQUEST_NULL) {
    table_[static_cast<size_t>(*req)] = MPI_REQUEST_NULL;
    free_.push_back(*req);
    *req = kNoRequest;
  } else {
    table_[static_cast<size_t>(*req)] = r;
  }
}

MPI_Request* MpiTransport::gather(std::span<const Request> reqs) {
  scratch_.resize(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i)
    scratch_[i] = reqs[i] == kNoRequest ? MPI_REQUEST_NULL : table_[static_cast<size_t>(reqs[i])];
  return scratch_.data();
}

void MpiTransport::scatter(std::span<Request> reqs) {
  for (size_t i = 0; i < reqs.size(); ++i) put_back(&reqs[i], scratch_[i]);
}

// A slot for the request `start` posts into it (MPI_Isend / MPI_Irecv);
// the slot goes back when the call fails.
template <class Start>
Request MpiTransport::post(Start&& start) {
  const Request r = take_slot();
  try {
    start(&table_[static_cast<size_t>(r)]);
  } catch (...) {
    free_.push_back(r);
    throw;
  }
  return r;
}

void MpiTransport::isend(const void* buf, size_t bytes, int dest, int tag, Request* req) {
  *req = post([&](MPI_Request* h) {
    SV_MPI_CHECK(MPI_Isend(buf, static_cast<int>(bytes), MPI_BYTE, dest, tag, comm_, h));
  });
}

void MpiTransport::irecv(void* buf, size_t bytes, int src, int tag, Request* req) {
  *req = post([&](MPI_Request* h) {
    SV_MPI_CHECK(MPI_Irecv(buf, static_cast<int>(bytes), MPI_BYTE, src, tag, comm_, h));
  });
}

// Per-request errors stay in the statuses (MPI_ERR_IN_STATUS), so the caller
// can name the failed peer; any other failure throws.
void MpiTransport::wait_all(std::span<Request> reqs, std::vector<Status>& st) {
  const int n = static_cast<int>(reqs.size());
  mpi_st_.resize(reqs.size());
  const int rc = MPI_Waitall(n, gather(reqs), mpi_st_.data());
  scatter(reqs);
  if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) throw_mpi_error(rc, "MPI_Waitall", __FILE__, __LINE__);
  st.resize(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) st[i] = status_of(mpi_st_[i], rc == MPI_SUCCESS);
}

int MpiTransport::test_some(std::span<Request> reqs, std::vector<int>& done, std::vector<Status>& st) {
  const int n = static_cast<int>(reqs.size());
  done.resize(reqs.size());
  mpi_st_.resize(reqs.size());
  int out = 0;
  const int rc = MPI_Testsome(n, gather(reqs), &out, done.data(), mpi_st_.data());
  scatter(reqs);
  if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) throw_mpi_error(rc, "MPI_Testsome", __FILE__, __LINE__);
  if (out == MPI_UNDEFINED) return -1;
  st.resize(reqs.size());
  for (int i = 0; i < out; ++i) st[static_cast<size_t>(i)] = status_of(mpi_st_[static_cast<size_t>(i)], rc == MPI_SUCCESS);
  return out;
}

int MpiTransport::wait_any(std::span<Request> reqs, Status* st) {
  int idx = MPI_UNDEFINED;
  MPI_Status mst;
  const int rc = MPI_Waitany(static_cast<int>(reqs.size()), gather(reqs), &idx, &mst);
  scatter(reqs);
  SV_MPI_CHECK(rc);
  if (idx == MPI_UNDEFINED) return -1;
  *st = status_of(mst, true);  // MPI_Waitany returned success
  return idx;
}

void MpiTransport::wait(Request* req, Status* st) {
  MPI_Request r = *req == kNoRequest ? MPI_REQUEST_NULL : table_[static_cast<size_t>(*req)];
  MPI_Status mst;
  const int rc = MPI_Wait(&r, &mst);
  put_back(req, r);
  SV_MPI_CHECK(rc);
  if (st) *st = status_of(mst, true);  // MPI_Wait returned success
}

bool MpiTransport::test(Request* req) {
  MPI_Request r = *req == kNoRequest ? MPI_REQUEST_NULL : table_[static_cast<size_t>(*req)];
  int flag = 0;
  const int rc = MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
  put_back(req, r);
  SV_MPI_CHECK(rc);
  return flag != 0;
}

void MpiTransport::cancel(Request* req) noexcept {
  if (*req == kNoRequest) return;
  MPI_Request r = table_[static_cast<size_t>(*req)];
  if (r != MPI_REQUEST_NULL) {
    MPI_Cancel(&r);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
  }
  put_back(req, MPI_REQUEST_NULL);
}

void MpiTransport::release(Request* req) noexcept {
  if (*req == kNoRequest) return;
  MPI_Request r = table_[static_cast<size_t>(*req)];
  if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
  put_back(req, MPI_REQUEST_NULL);
}

}  // namespace signvote::comm
