// `signvote launch`: a supervisor around mpirun (docs/reliability.md,
// "Restarts"). It runs the training job on the hosts it was given, sorts
// the cause when the job fails (launch/policy.h), and after an
// infrastructure failure probes every host, drops the dead ones, re-admits
// those that answer again, and restarts from the latest checkpoint with the
// workers that fit, up to --max-restarts times, with a backoff.
//
//   signvote launch -np N [--hostfile F] [--min-workers K] [--max-restarts R] cfg.yaml [train options...]
//   signvote launch --mpmd [--checkpoint-dir D] -np S cfg.yaml [serve options...] : -np W python3 train.py ...
//
// The second form runs `signvote serve` with PyTorch workers (one MPMD job);
// the workers save and resume themselves (signvote.checkpoints, one file per
// worker under D), and a restart runs the same worker command with W'.
//
// No MPI in this process: it runs before MPI_Init (cli/main.cpp).
#pragma once

#include <string>
#include <vector>

namespace signvote::launch {

struct Options {
  int np = 0;                     // ranks of the first try: cluster.servers + cluster.workers (--mpmd: the servers)
  std::string hostfile;           // "" = the Slurm allocation, else this machine
  int min_workers = 1;            // fewer workers left than this: stop, naming --min-workers
  int max_restarts = 3;           // restarts after infrastructure failures
  double backoff_s = 2;           // wait before the first restart; doubles each time, at most 60 s
  double probe_timeout_s = 10;    // a host that does not run the probe within this is dead
  double stall_timeout_s = 0;     // a round waiting this long for a worker (the servers' stall line) is a failure; 0 = wait
  double grow_check_s = 0;        // probe the dropped hosts this often; one that answers triggers a restart; 0 = never
  bool odd_workers = false;       // restarts keep the worker count odd (one fewer than fit when even)
  double grace_s = 10;            // SIGTERM to SIGKILL when the launcher stops the job
  std::string mpirun = "mpirun";  // the mpirun to run (a wrapper or a fake one in tests)
  std::vector<std::string> mpirun_args;  // more mpirun options (--mpirun-arg=--map-by --mpirun-arg=node)
  std::string signvote;           // the signvote binary the ranks run ("" = this one)
  std::string config;             // cfg.yaml
  std::vector<std::string> train_args;   // the options after it, passed to `signvote train` (--mpmd: `serve`)
  // --mpmd: `signvote serve` on o.np ranks and this worker command on
  // worker_np ranks; checkpoint_dir is where the workers' signvote.checkpoints
  // save (the restart line's step; "" = not known to the launcher).
  bool mpmd = false;
  int worker_np = 0;
  std::vector<std::string> worker_cmd;
  std::string checkpoint_dir;
  // Where the hosts come from when there is no --hostfile (the Slurm
  // allocation's variables, read by main): both empty = this machine.
  std::string slurm_nodelist, slurm_tasks_per_node;
};

// Runs the job to its end; returns the exit status: 0 done, the job's status
// after a deterministic error, 75 when the restarts are exhausted or too
// few workers are left, 128 + signal when the launcher was stopped.
int run(const Options& o);

// The `launch` subcommand (argv[0] is "launch"): parse the options (-np is
// read as --np), take the Slurm allocation from SLURM_JOB_NODELIST and
// SLURM_TASKS_PER_NODE, run; errors are one line; returns the exit status.
int main(int argc, char** argv);

}  // namespace signvote::launch
