// The point-to-point layer under a round: nonblocking byte messages between
// world ranks over one communicator, every call checked (SV_MPI_CHECK). The
// round code (worker/vote_client, server/vote_server and deadline.cpp) asks
// it to send and receive; nothing there names a communicator or an MPI
// datatype, so a different transport (another communicator, a CUDA-aware
// path) changes this class only.
#pragma once

#include "comm/mpi_check.h"

#include <mpi.h>

#include <cstddef>
#include <vector>

namespace signvote::comm {

class Transport {
 public:
  explicit Transport(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {}

  // Posts a send / receive of `bytes` bytes; *req completes it.
  void isend(const void* buf, size_t bytes, int dest, int tag, MPI_Request* req) const {
    SV_MPI_CHECK(MPI_Isend(buf, static_cast<int>(bytes), MPI_BYTE, dest, tag, comm_, req));
  }
  void irecv(void* buf, size_t bytes, int src, int tag, MPI_Request* req) const {
    SV_MPI_CHECK(MPI_Irecv(buf, static_cast<int>(bytes), MPI_BYTE, src, tag, comm_, req));
  }
  // Waits for all; per-request errors are left in `st` (MPI_ERR_IN_STATUS),
  // any other failure throws. Returns the MPI code (MPI_SUCCESS or
  // MPI_ERR_IN_STATUS) so the caller can name the failed peer.
  static int wait_all(std::vector<MPI_Request>& reqs, std::vector<MPI_Status>& st) {
    st.resize(reqs.size());
    const int rc = MPI_Waitall(static_cast<int>(reqs.size()), reqs.data(), st.data());
    if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) throw_mpi_error(rc, "MPI_Waitall", __FILE__, __LINE__);
    if (rc == MPI_SUCCESS)  // MPI sets the statuses' error fields only with MPI_ERR_IN_STATUS
      for (auto& s : st) s.MPI_ERROR = MPI_SUCCESS;
    return rc;
  }
  // Completed requests among `reqs`: their indices into done[0..*n), their
  // statuses into st; *n = MPI_UNDEFINED when none is active.
  static int test_some(std::vector<MPI_Request>& reqs, int* n, std::vector<int>& done, std::vector<MPI_Status>& st) {
    done.resize(reqs.size());
    st.resize(reqs.size());
    const int rc = MPI_Testsome(static_cast<int>(reqs.size()), reqs.data(), n, done.data(), st.data());
    if (rc != MPI_SUCCESS && rc != MPI_ERR_IN_STATUS) throw_mpi_error(rc, "MPI_Testsome", __FILE__, __LINE__);
    if (rc == MPI_SUCCESS)  // as in wait_all
      for (auto& s : st) s.MPI_ERROR = MPI_SUCCESS;
    return rc;
  }
  // Waits for one of `reqs` to complete: its index, or -1 when none is
  // active. Its status goes to *st (errors throw: nothing else can name it).
  static int wait_any(std::vector<MPI_Request>& reqs, MPI_Status* st) {
    int idx = MPI_UNDEFINED;
    SV_MPI_CHECK(MPI_Waitany(static_cast<int>(reqs.size()), reqs.data(), &idx, st));
    st->MPI_ERROR = MPI_SUCCESS;  // MPI_Waitany returned success
    return idx == MPI_UNDEFINED ? -1 : idx;
  }
  static void wait(MPI_Request* req, MPI_Status* st = MPI_STATUS_IGNORE) {
    SV_MPI_CHECK(MPI_Wait(req, st));
    if (st != MPI_STATUS_IGNORE) st->MPI_ERROR = MPI_SUCCESS;  // MPI_Wait returned success
  }
  static bool test(MPI_Request* req) {
    int flag = 0;
    SV_MPI_CHECK(MPI_Test(req, &flag, MPI_STATUS_IGNORE));
    return flag != 0;
  }
  // Bytes a completed receive delivered; -1 when its status carries an
  // error or the request did not complete (MPI_ERR_PENDING).
  static int received_bytes(const MPI_Status& st) {
    int count = -1;
    if (st.MPI_ERROR != MPI_SUCCESS) return -1;
    if (MPI_Get_count(&st, MPI_BYTE, &count) != MPI_SUCCESS) return -1;
    return count;
  }

 private:
  MPI_Comm comm_;
};

}  // namespace signvote::comm
