// What `signvote launch` reads from the job's own arguments, and the
// mpirun command lines it builds (one try, one host probe).
#pragma once

#include "launch/hosts.h"
#include "launch/launcher.h"
#include "launch/policy.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace signvote::launch {

// The training job as the user gave it.
struct JobSpec {
  Shape first;                          // cluster.workers / cluster.servers of the config and its --set
  std::filesystem::path checkpoint_dir; // where the job checkpoints ("" = nowhere: restarts start over)
  bool user_resumes = false;            // the user's own --resume
  bool metrics = false;                 // --metrics given
  bool mpmd = false;                    // `serve` + the PyTorch workers' command (checkpoint_dir: their states)
};

// Loads the config with the --set overrides of o.train_args; throws
// ConfigError naming the key, or naming -np if it is not servers + workers
// (--mpmd: if it is not cluster.servers; the workers are the worker -np).
JobSpec read_job(const Options& o);

using Saved = std::pair<std::uint64_t, std::filesystem::path>;  // a step and where it was saved

// The latest checkpoint of `dir` and its step, if any.
std::optional<Saved> latest_checkpoint(const std::filesystem::path& dir);

// The latest complete step of the PyTorch workers' states in `dir`
// (python/signvote/checkpoints.py): DIR/step_<9 digits>_w<W>/ holding
// worker<k>.pt for every k < W.
std::optional<Saved> latest_worker_states(const std::filesystem::path& dir);

// Where the job would resume: latest_checkpoint, or for --mpmd latest_worker_states.
std::optional<Saved> latest_saved(const JobSpec& j);

// The mpirun options every command shares: as root --allow-run-as-root;
// without ssh/rsh and only this machine, --mca plm ^rsh; then o.mpirun_args.
std::vector<std::string> mpirun_base(const Options& o, const std::vector<Host>& hosts);

// One try: mpirun ... --hostfile F -np N signvote train cfg.yaml ARGS, where
// a restart (`shape` differs, or `restart`) adds --set cluster.workers/servers,
// and resumes from `resume` (replacing the user's --resume/--rewind) or, with
// no checkpoint yet, starts over (--overwrite for its own metrics file);
// `run_id` (16 hex digits) is passed unless a checkpoint names the run.
std::vector<std::string> job_argv(const Options& o, const JobSpec& j, const std::vector<Host>& hosts,
                                  const std::filesystem::path& hostfile, const Shape& shape, bool restart,
                                  const std::optional<std::filesystem::path>& resume, const std::string& run_id);

// One try of an --mpmd job: mpirun ... --hostfile F -np S signvote serve
// cfg.yaml ARGS --set cluster.workers=W --set cluster.servers=S [--append]
// : -np W worker command. A restart runs the same line with the new shape;
// the workers resume from their own states, and the server appends to its
// metrics file (--append) instead of refusing it.
std::vector<std::string> mpmd_argv(const Options& o, const JobSpec& j, const std::vector<Host>& hosts,
                                   const std::filesystem::path& hostfile, const Shape& shape, bool restart);

// The health probe of one host: mpirun --host H:1 -np 1 signvote devices --json.
std::vector<std::string> probe_argv(const Options& o, const std::vector<Host>& hosts, const std::string& host);

// This process's own executable (the signvote the ranks run by default).
std::string self_exe();

}  // namespace signvote::launch
