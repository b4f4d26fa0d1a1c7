// build/signvote: the command line.
//   mpirun -np 28 build/signvote train configs/toy_quadratic.yaml [--set k=v]... [--metrics out.csv]
//   mpirun -np 1 build/signvote serve cfg.yaml : -np 4 python3 train.py    (PyTorch workers, docs/pytorch.md)
//   build/signvote launch -np 28 [--hostfile F] cfg.yaml [train options]  (mpirun with restarts, docs/reliability.md)
//   build/signvote config configs/toy_quadratic.yaml [--set k=v]...   (print the resolved config)
//   build/signvote eval --checkpoint DIR/latest.ckpt --data DIR --split val|test [--json]
//   build/signvote inspect CHECKPOINT                                    (sections and hashes)
//   build/signvote devices [--json]                                      (CUDA devices this process sees)
#include "cli/commands.h"
#include "comm/agreement.h"
#include "comm/mpi_calls.h"
#include "comm/round_error.h"
#include "core/resources.h"
#include "core/serve.h"
#include "core/job.h"
#include "launch/launcher.h"
#include "config/combinations.h"
#include "signvote/config.h"
#include "signvote/train.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <string_view>

namespace {

struct Args {
  std::string config;
  std::vector<std::string> overrides;
  signvote::TrainOptions train;
  std::string log_level = "info";
  std::string checkpoint_dir;
  signvote::cli::EvalArgs eval;
  std::string inspect;
  std::string run_id;  // --run-id HEX
};

void add_common(CLI::App* sub, Args& a) {
  sub->add_option("config", a.config, "YAML config file (see configs/ and docs/configuration.md)")->required();
  sub->add_option("--set", a.overrides, "override a key: --set optimizer.lr=1e-3 (repeatable)");
}

// --run-id: 1..16 hex digits, not all zero.
uint64_t parse_run_id(const std::string& s) {
  size_t used = 0;
  uint64_t id = 0;
  try {
    id = s.size() <= 16 ? std::stoull(s, &used, 16) : 0;
  } catch (const std::exception&) {
  }
  if (used != s.size() || id == 0 || s.find_first_of("+-x ") != std::string::npos)
    throw signvote::ConfigError(fmt::format("--run-id '{}': want 1 to 16 hex digits, not all zero", s));
  return id;
}

// Runs `train` on every rank; returns the process exit code.
int run_train(Args a, int rank) {
  std::string error;
  signvote::Config cfg;
  try {
    auto overrides = a.overrides;
    if (!a.checkpoint_dir.empty()) overrides.push_back("run.checkpoint_dir=" + a.checkpoint_dir);
    if (a.train.rewind && a.train.resume.empty()) throw signvote::ConfigError("--rewind goes with --resume");
    if (!a.run_id.empty()) a.train.run_id = parse_run_id(a.run_id);
    cfg = signvote::load_config(a.config, overrides);
    // --resume DIR keeps checkpointing into DIR unless --checkpoint-dir or
    // run.checkpoint_dir says otherwise. A resumed *file* may sit in a
    // read-only or foreign folder: no directory is inferred from it.
    if (!a.train.resume.empty() && cfg.run.checkpoint_dir.empty()) {
      if (std::filesystem::is_directory(a.train.resume))
        cfg.run.checkpoint_dir = a.train.resume;
      else if (rank == 0)
        spdlog::warn("--resume {}: a file, so no checkpoints will be written (pass --checkpoint-dir DIR)",
                     a.train.resume);
    }
    const int size = signvote::comm::size(signvote::comm::world());
    if (size != cfg.world_size())
      throw signvote::ConfigError(fmt::format(
          "{}: key 'cluster.workers' = {} with cluster.servers = {} needs mpirun -np {}, but -np is {}", cfg.origin,
          cfg.cluster.workers, cfg.cluster.servers, cfg.world_size(), size));
  } catch (const std::exception& e) {
    error = e.what();
  }
  try {
    signvote::agree_or_throw(error);
    return signvote::train(cfg, a.train);
  } catch (const signvote::PeerFailure& e) {
    spdlog::debug("{}", e.what());
    return e.status;
  } catch (const signvote::RoundError& e) {  // the server's: every worker has been told
    const int status = signvote::exit_status_of(e.code);
    spdlog::error("{}{}", e.what(), signvote::status_tag(status));
    return status;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}

// `signvote serve`: the server ranks of an MPMD job whose workers are
// PyTorch scripts (core/serve.h). Setup failures are printed once by
// server 0, whichever rank they came from.
int run_serve(const Args& a, int rank) {
  try {
    signvote::Config cfg;
    try {
      cfg = signvote::join_as_server(a.config, a.overrides);
    } catch (const signvote::PeerFailure& e) {
      if (rank == 0) spdlog::error("{}", e.what());
      return 1;
    }
    signvote::Job job(cfg, a.train);
    job.start();
    job.run();
    return 0;
  } catch (const signvote::PeerFailure& e) {
    if (rank == 0) spdlog::error("{}{}", e.what(), signvote::status_tag(e.status));
    return e.status;
  } catch (const signvote::RoundError& e) {
    const int status = signvote::exit_status_of(e.code);
    spdlog::error("{}{}", e.what(), signvote::status_tag(status));
    return status;
  } catch (const signvote::ConfigError& e) {  // the join's: every server rank has the same one
    if (rank == 0) spdlog::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}

// The subcommands and their options, into `a`.
struct Commands {
  CLI::App *train, *serve, *eval, *inspect, *devices, *config;
  bool devices_json = false;
  bool explain = false;
};

void add_commands(CLI::App& app, Args& a, Commands& c) {
  auto* train = c.train = app.add_subcommand("train", "train a configured model (run under mpirun)");
  add_common(train, a);
  train->add_option("--metrics", a.train.metrics_path, "write per-step metrics CSV (server rank 0)");
  train->add_flag("--overwrite", a.train.overwrite, "allow replacing an existing metrics file");
  train->add_option("--log-level", a.log_level, "trace|debug|info|warn|error");
  train->add_option("--checkpoint-dir", a.checkpoint_dir, "write checkpoints here (same as --set run.checkpoint_dir=DIR)");
  train->add_option("--resume", a.train.resume,
                    "continue from a checkpoint file or DIR/latest.ckpt; checkpoints continue in DIR");
  train->add_option("--run-id", a.run_id, "the run's id, 16 hex digits (signvote launch keeps one across restarts)");
  train->add_flag("--rewind", a.train.rewind,
                  "with --resume: allow a checkpoint older than the directory's latest (later ones move to DIR/rewound-STEP/)");
  auto* serve = c.serve = app.add_subcommand("serve", "the server ranks for PyTorch workers: mpirun -np 1 signvote serve cfg.yaml : -np 4 python3 train.py");
  add_common(serve, a);
  serve->add_option("--metrics", a.train.metrics_path, "write per-step metrics CSV (server rank 0)");
  serve->add_flag("--overwrite", a.train.overwrite, "allow replacing an existing metrics file");
  serve->add_flag("--append", a.train.append,
                  "continue an existing metrics file (a resumed job; signvote launch --mpmd passes it on a restart)");
  serve->add_option("--log-level", a.log_level, "trace|debug|info|warn|error");
  auto* eval = c.eval = app.add_subcommand("eval", "accuracy of a checkpoint on a CIFAR-10 split");
  eval->add_option("--checkpoint", a.eval.checkpoint, "checkpoint file or directory")->required();
  eval->add_option("--data", a.eval.data, "CIFAR-10 directory (default: data.path of the run)");
  eval->add_option("--split", a.eval.split, "val (the run's held-out split) or test (test_batch.bin)");
  eval->add_option("--threads", a.eval.threads, "compute threads, 1..CPUs this process may use")
      ->check(CLI::Range(1, signvote::usable_cpus()));
  eval->add_option("--device", a.eval.device, "cpu or cuda (device 0); any checkpoint runs on either")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  eval->add_flag("--json", a.eval.json, "print {\"accuracy\", \"loss\", \"n\"}");
  c.inspect = app.add_subcommand("inspect", "list a checkpoint's sections with sizes and hashes");
  c.inspect->add_option("checkpoint", a.inspect, "checkpoint file or directory")->required();
  auto* devices = c.devices = app.add_subcommand("devices", "the CUDA devices this process sees (CUDA_VISIBLE_DEVICES applies)");
  devices->add_flag("--json", c.devices_json, "print {\"cuda_built\", \"count\", \"why\", \"devices\"}");
  c.config = app.add_subcommand("config", "print the resolved configuration, or with --explain the refused key combinations");
  c.config->add_option("config", a.config, "YAML config file (see configs/ and docs/configuration.md)");
  c.config->add_option("--set", a.overrides, "override a key: --set optimizer.lr=1e-3 (repeatable)");
  c.config->add_flag("--explain", c.explain, "print the combinations of keys signvote refuses, with the reason for each");
}

}  // namespace

int main(int argc, char** argv) {
  // `launch` runs mpirun itself: it must not be an MPI process.
  if (argc > 1 && std::string_view(argv[1]) == "launch") return signvote::launch::main(argc - 1, argv + 1);
  signvote::comm::init(&argc, &argv);  // MPI_ERRORS_RETURN: SV_MPI_CHECK sees every error
  const int rank = signvote::comm::rank(signvote::comm::world());
  spdlog::set_pattern(fmt::format("[%H:%M:%S.%e] [rank {}] [%l] %v", rank));

  CLI::App app{"signvote: signSGD / Signum with majority vote over MPI"};
  app.require_subcommand(1);
  Args a;
  Commands cmd;
  add_commands(app, a, cmd);
  const auto &train = *cmd.train, &serve = *cmd.serve, &eval = *cmd.eval, &inspect = *cmd.inspect,
             &devices = *cmd.devices, &config = *cmd.config;
  int code = 0;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    code = rank == 0 ? app.exit(e) : (e.get_exit_code() != 0);
    signvote::comm::finalize();
    return code;
  }
  spdlog::set_level(spdlog::level::from_str(a.log_level));
  if (train) {
    code = run_train(a, rank);
  } else if (serve) {
    code = run_serve(a, rank);
  } else if (eval || inspect) {
    try {
      if (rank == 0) code = eval ? signvote::cli::run_eval(a.eval) : signvote::cli::run_inspect(a.inspect);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      code = 1;
    }
  } else if (devices) {
    try {
      if (rank == 0) signvote::cli::print_devices(cmd.devices_json);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      code = 1;
    }
  } else if (config) {
    try {
      if (!cmd.explain && a.config.empty()) throw CLI::RequiredError("config (a YAML file, or --explain)");
      if (rank == 0 && cmd.explain) std::fputs(signvote::explain_refusals().c_str(), stdout);
      if (rank == 0 && !a.config.empty())
        std::fputs(signvote::dump_config(signvote::load_config(a.config, a.overrides)).c_str(), stdout);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      code = 1;
    }
  }
  signvote::comm::finalize();
  return code;
}
