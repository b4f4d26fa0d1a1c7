// What `signvote launch` decides after a job ends, without running anything
// (tests/launch/test_policy.cpp): why it ended, and what fits on the hosts
// that are left.
#pragma once

#include "launch/hosts.h"

#include <optional>
#include <string>
#include <vector>

namespace signvote::launch {

enum class Cause {
  done,            // exit 0
  deterministic,   // the same job would fail again: never restarted
  infrastructure,  // a lost process, node or link, a round timeout, a stall: restarted
};
const char* cause_name(Cause c);

struct Verdict {
  Cause cause = Cause::done;
  std::string why;   // one line: the job's own error line, or mpirun's
  std::string host;  // the host mpirun named, if it named one ("" otherwise)
};

// Sorts a finished job. `status`: mpirun's exit status (128 + signal if it
// died of one); `lines`: the last lines it printed (stdout and stderr, in
// order); `stopped`: why the launcher stopped it ("" if it did not). Rules,
// first match wins (signvote/exit_status.h):
//   the launcher stopped it (a stall, a grow check)       infrastructure
//   status 0                                              done
//   mpirun could not start the program (wrong path)       deterministic
//   an error line ending "[infrastructure]"               infrastructure
//   a rank's own "[error]" line, status below 128, not 75 deterministic
//   status 75, or mpirun saw a rank die of a signal, lost a daemon or
//   a connection, could not start one, or status >= 128  infrastructure
//   anything else                                         deterministic
Verdict classify(int status, const std::vector<std::string>& lines, const std::string& stopped);

// Ranks of one job.
struct Shape {
  int workers = 0;
  int servers = 0;
  int ranks() const { return workers + servers; }
};

// The shape to restart with on `hosts`: servers stay `first.servers`, or
// follow the host count when the first job had one server per host
// (`first_hosts` of them, colocated shards); workers are as many of
// first.workers as the slots left hold. nullopt (with *why) when not one
// worker fits.
std::optional<Shape> fit(const Shape& first, int first_hosts, const std::vector<Host>& hosts, std::string* why);

}  // namespace signvote::launch
