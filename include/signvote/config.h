// signvote run configuration: YAML file + `--set key=value` overrides.
//
// Every enum-valued key keeps its YAML text (the std::string field: dump,
// checkpoints and the Python binding read it) and its enum (the `*_kind`
// field, signvote/config_enums.h), which parse_config fills once from the
// key's name table; code after parsing reads the enum, never the name.
//
// Every key is declared once in src/config/config_schema.cpp (type, default,
// range, documentation); docs/configuration.md documents the same keys and a
// test checks that the two agree. Unknown keys, wrong types and out-of-range
// values raise ConfigError with one line naming the key and the file.
#pragma once

#include "signvote/config_enums.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace signvote {

namespace methods {
class Method;  // src/methods/method.h: one object per aggregation.method
}

// One line, names the key/file; every rank exits non-zero on it.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RunConfig {
  int64_t steps = 0;             // optimisation steps (rounds)
  uint64_t seed = 0;             // master seed; per-rank streams derive from it
  int64_t log_every = 0;         // metrics row + progress data every N steps
  double progress_seconds = 1;   // server progress line period (s)
  int64_t hash_every = 0;        // replica-consistency check period (0 = off)
  std::string checkpoint_dir;    // "" = no checkpoints
  int64_t checkpoint_every = 0;  // steps between checkpoints (0 = end only)
  double checkpoint_every_s = 0; // seconds of training (server 0's clock) between checkpoints (0 = by steps only)
  int64_t keep_checkpoints = 0;  // keep the last N checkpoint files
  int64_t threads = 1;           // compute threads per worker rank
  int64_t eval_every = 0;        // networks: validate every N steps (0 = each epoch)
  double time_limit_s = 0;       // server stops the run after this many seconds (0 = none)
  double stall_warn_s = 10;      // a server waiting this long for votes names the ranks, and repeats (0 = never)
};

struct ClusterConfig {
  int64_t workers = 0;  // worker ranks (mpirun -np = servers + workers)
  int64_t servers = 1;  // server shards, ranks 0..servers-1
  int64_t round_deadline_ms = 0;  // majority_vote: tally what arrived by then (0: wait for all)
  int64_t max_missed_rounds = 10; // with a deadline: consecutive late rounds before the run stops
  std::string hierarchy = "none";  // none | node: average in the node, one vote per node
  Hierarchy hierarchy_kind = Hierarchy::none;
  int64_t ranks_per_node = 0;      // tests: group consecutive workers into nodes (0: real nodes)
  std::string server_wait = "spin";  // spin | sleep: how a server waits for votes (sleep: colocated with workers)
  ServerWait server_wait_kind = ServerWait::spin;
};

// Fault injection for tests (never set in real runs): worker rank
// `delay_rank` sleeps delay_ms before sending its vote on every `every`-th step.
struct FaultConfig {
  int64_t delay_rank = -1;
  int64_t delay_ms = 0;
  int64_t every = 1;
  int64_t wrong_step_rank = -1;  // this worker rank's vote to the last server shard...
  int64_t wrong_step_at = 0;     // ...in this step claims step + 1000 (one shard sees an error)
  std::string wrong_field = "step";  // ...or gets this header field wrong: step | version | length
  WrongField wrong_field_kind = WrongField::step;
};

struct ModelConfig {
  std::string name;     // quadratic | resnet18 | small_cnn | mlp | external (signvote serve: PyTorch workers')
  ModelName kind = ModelName::quadratic;  // `name`, resolved
  int64_t dim = 0;      // quadratic: number of coordinates
  double init = 1.0;    // quadratic: every coordinate starts here
  int64_t width = 64;   // resnet18: base channel count
  std::string device = "cpu";  // networks: cpu | cuda (one worker rank per GPU)
  ModelDevice device_kind = ModelDevice::cpu;
  std::string math = "tf32";   // cuda convolutions: fp32 | tf32 (PyTorch's cuDNN default)
  ConvMath math_kind = ConvMath::tf32;
  bool share_gpus = false;     // cuda: allow more worker ranks than GPUs on a node
  int64_t workspace_mb = 1024; // cuda: workspace limit of one convolution algorithm
  std::string layout = "nchw";  // cuda activations: nchw | nhwc (channels last; parameters stay OIHW)
  ModelLayout layout_kind = ModelLayout::nchw;
  // external: the parameter tensors' sizes in flat order (the PyTorch
  // workers set it; sum = dim). Empty: no per-tensor presence.
  std::vector<int64_t> tensors;
};

struct DataConfig {
  double noise_std = 1.0;  // quadratic: N(0, noise_std^2) per component
  std::string path;        // CIFAR-10 directory (data_batch_*.bin)
  int64_t batch_size = 64; // per worker
  int64_t val_count = 5000;
  int64_t train_files = 5;         // data_batch_1..N.bin, all required
  int64_t records_per_file = 10000;  // exact records in each
  bool augment = true;
  std::string pad_mode = "zero";  // zero | reflect
  PadMode pad_mode_kind = PadMode::zero;
};

struct OptimizerConfig {
  std::string name;           // signsgd | signum | lion | sgd | adam | adamw
  OptimizerName kind = OptimizerName::signum;  // `name`, resolved
  double lr = 0;
  double momentum = 0;        // beta (Signum: m = b m + (1-b) g; SGD: heavy ball)
  double weight_decay = 0;    // applied outside the vote: x -= lr (s + wd x)
  double beta1 = 0.9;         // lion: vote sign(b1 m + (1-b1) g)
  double beta2 = 0.999;       // adam second moment; lion: m = b2 m + (1-b2) g (0.99 unless set)
  double eps = 1e-8;          // adam, adamw
  bool nesterov = false;      // sgd: Nesterov momentum (PyTorch's SGD(nesterov=True); DiLoCo's outer step)
  std::string schedule = "constant";  // constant | step | warmup_step | cosine | linear
  LrSchedule schedule_kind = LrSchedule::constant;
  std::vector<int64_t> milestones;    // step schedule: steps where lr *= gamma
  std::vector<double> milestone_fractions;  // step schedule: budget fractions where lr *= gamma
  double gamma = 0.1;
  int64_t warmup_steps = 0;
  // external (PyTorch parameter groups): tensors per group, in flat order,
  // and each group's initial lr and weight decay. Empty: one group of all.
  std::vector<int64_t> groups;
  std::vector<double> group_lr, group_weight_decay;
  std::string nonfinite = "stop";  // stop | skip: a NaN/inf gradient stops the run, or skips the round everywhere
  NonFinite nonfinite_kind = NonFinite::stop;
};

struct AggregationConfig {
  std::string method;  // majority_vote | allreduce | mean | multi_krum | coordinate_median | qsgd | ef_sign
  // `method` resolved by parse_config (src/methods/registry.h: method_of);
  // the run asks this object, never the name.
  const methods::Method* resolved = nullptr;
  std::string isa = "auto";  // auto | avx512 | avx2 | scalar (CPU kernels)
  IsaChoice isa_kind = IsaChoice::automatic;
  int64_t f = 2;             // multi_krum: Byzantine workers tolerated (n > 2f + 2)
  int64_t m = 0;             // multi_krum: rows averaged (0 = n - f)
  int64_t levels = 1;        // qsgd: quantisation levels s
  std::string norm = "l2";   // qsgd: l2 | max
  QsgdNorm norm_kind = QsgdNorm::l2;
  int64_t bucket = 512;      // qsgd: coordinates per norm (0 = one norm for all)
  bool overlap = false;      // majority_vote: send each shard as its gradients become final
  int64_t bucket_bytes = 0;  // majority_vote: fp32 gradient bytes per bucket (0 = one bucket per shard)
  std::string transport = "server";  // majority_vote: server | alltoall (the workers tally chunks themselves)
  VoteTransport transport_kind = VoteTransport::server;
  // Local steps: each worker runs this many inner steps (inner.*) between
  // rounds and the round aggregates its pseudo-gradient x_start - x (1 =
  // a round every step). run.steps and every period count inner steps.
  int64_t local_steps = 1;
};

// The inner optimizer of local steps (aggregation.local_steps > 1): what each
// worker runs on its own between rounds. Its state stays on the worker.
struct InnerConfig {
  std::string name = "sgd";  // sgd | adamw
  InnerName kind = InnerName::sgd;
  double lr = 0.01;
  double momentum = 0;       // sgd: heavy ball (PyTorch semantics, weight decay coupled)
  std::vector<double> betas{0.9, 0.999};  // adamw
  double weight_decay = 0;   // sgd: coupled (g + wd x); adamw: decoupled (x -= lr wd x)
  double eps = 1e-8;         // adamw
  std::string schedule = "constant";  // constant | warmup_step | cosine | linear, over the budget (run.steps inner steps or run.time_limit_s)
  LrSchedule schedule_kind = LrSchedule::constant;
  int64_t warmup_steps = 0;  // inner steps of linear warm-up
};

struct AdversaryConfig {
  int64_t count = 0;        // the first `count` workers are adversaries
  std::vector<int64_t> workers;  // or exactly these worker indices (0-based)
  std::string mode = "invert";  // invert | negative | random | gaussian (the worker's own) | collude | alie | ipm (simulated by the server)
  AdversaryMode mode_kind = AdversaryMode::invert;
  double scale = 10;        // negative/random: gradient factor; gaussian: noise std
};

// Gradient probes (networks; paper Fig. 2 and 3). A probe pass computes the
// mini-batch gradient of `batches` batches of each worker's share of the
// unaugmented training split at the current weights, without changing the
// training state, and writes per-layer SNR rows and the gradients of a few
// chosen weights (see src/worker/probes.h).
struct ProbeConfig {
  std::vector<int64_t> epochs;  // full passes (all batches) at the start of these epochs
  int64_t every = 0;            // a pass of `batches` batches every N steps (0 = off)
  int64_t batches = 20;         // batches per worker in a periodic pass
  int64_t batch_size = 0;       // probe mini-batch (0 = data.batch_size)
  int64_t weights = 3;          // randomly chosen weights whose gradients are recorded
};

struct Config {
  RunConfig run;
  ClusterConfig cluster;
  ModelConfig model;
  DataConfig data;
  OptimizerConfig optimizer;
  AggregationConfig aggregation;
  InnerConfig inner;
  AdversaryConfig adversary;
  ProbeConfig probes;
  FaultConfig faults;
  std::string origin;  // file name (or "<string>") the config came from

  // Whether worker `index` (0-based) is an adversary, and how many there are.
  bool is_adversary(int64_t index) const;
  int64_t adversaries() const;
  // World size this config needs: servers + workers.
  int64_t world_size() const { return cluster.servers + cluster.workers; }
};

// Parses YAML text; `origin` names the source in errors. `overrides` are
// "key=value" strings (from --set), applied after the file.
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});
// Reads and parses a file; a missing or unreadable file is a ConfigError.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The resolved configuration as flat YAML ("section: {key: value}"), all keys.
std::string dump_config(const Config& cfg);
// All known keys, in schema order (for docs and tests).
std::vector<std::string> config_keys();

}  // namespace signvote
