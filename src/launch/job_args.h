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
};

// Loads the config with the --set overrides of o.train_args; throws
// ConfigError naming the key, or naming -np if it is not servers + workers.
JobSpec read_job(const Options& o);

// The latest checkpoint of `dir` and its step, if any.
std::optional<std::pair<std::uint64_t, std::filesystem::path>> latest_checkpoint(const std::filesystem::path& dir);

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

// The health probe of one host: mpirun --host H:1 -np 1 signvote devices --json.
std::vector<std::string> probe_argv(const Options& o, const std::vector<Host>& hosts, const std::string& host);

// This process's own executable (the signvote the ranks run by default).
std::string self_exe();

}  // namespace signvote::launch
