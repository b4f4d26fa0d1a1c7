// Child processes of `signvote launch`: the job (mpirun), watched line by
// line, and short probes under a timeout. POSIX only; every system call is
// checked and named in the error it throws.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace signvote::launch {

// Called with each output line of the job (without its newline); `err`: it
// came on stderr. Lines are forwarded by the caller, not here.
using LineSink = std::function<void(std::string_view line, bool err)>;
// Called about every 100 ms while the job runs; a non-empty answer stops
// the job: SIGTERM to its process group, SIGKILL after `grace_s`.
using Tick = std::function<std::string()>;

struct JobEnd {
  int status = 0;       // exit status, or 128 + the signal that ended it
  std::string stopped;  // the Tick's reason if the launcher stopped it
};

// Runs argv[0] (looked up on PATH) in a process group of its own. The child
// gets SIGTERM if the launcher dies (PR_SET_PDEATHSIG): a killed launcher
// leaves no job behind.
JobEnd run_job(const std::vector<std::string>& argv, const LineSink& sink, const Tick& tick, double grace_s);

// Runs every command at once, output discarded; answer i is true if
// command i exited 0 within `timeout_s` (the others' groups are killed).
std::vector<bool> probe_all(const std::vector<std::vector<std::string>>& argvs, double timeout_s);

// Runs argv and returns its stdout; throws naming argv[0] unless it exits 0
// within `timeout_s`.
std::string capture(const std::vector<std::string>& argv, double timeout_s);

// The signal the launcher received (SIGINT, SIGTERM, SIGHUP), 0 if none;
// install_signal_handlers() first.
void install_signal_handlers();
int received_signal();

}  // namespace signvote::launch
