// The exit status of every rank of `signvote train` / `signvote serve`, and
// what `signvote launch` does with it (docs/reliability.md, "Restarts").
//
//   status  meaning                                             launch
//   ------  --------------------------------------------------  ---------
//   0       the run finished                                    done
//   1       a deterministic error: bad config or input, a NaN   never
//           gradient, diverged replicas, a refused checkpoint,  restarted
//           a full disk: the same run would fail again
//   75      an infrastructure failure (EX_TEMPFAIL): an MPI     restarted
//           transport error, a worker that missed the round     from the
//           deadline cluster.max_missed_rounds times in a row   latest
//                                                               checkpoint
// A rank killed by a signal has no status of its own: mpirun reports it
// ("exited on signal 9") and exits 128 + signal; the launcher counts that as
// infrastructure too. The error line of a status-75 exit ends with
// "[infrastructure]".
#pragma once

namespace signvote::exit_status {

inline constexpr int ok = 0;
inline constexpr int error = 1;
inline constexpr int infrastructure = 75;

}  // namespace signvote::exit_status
