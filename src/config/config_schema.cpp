// The one table of configuration keys: type, default, range and doc line.
// docs/configuration.md mirrors it; tests/core/test_config.cpp checks that
// every key here is documented there.
#include "config/config_schema.h"

#include "methods/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>

namespace signvote::detail {
namespace {

template <class T>
using Check = std::function<std::optional<std::string>(const T&)>;

template <class T>
std::string to_yaml(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    YAML::Emitter e;  // quotes and escapes: a path may hold '"', '\\' or ':'
    e << YAML::DoubleQuoted << v;
    return e.c_str();
  } else if constexpr (std::is_same_v<T, double>) {
    return fmt::format("{}", v);  // shortest text that reads back to the same double
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    return fmt::format("[{}]", fmt::join(v, ", "));
  } else if constexpr (std::is_same_v<T, std::vector<double>>) {
    return fmt::format("[{}]", fmt::join(v, ", "));  // shortest round-tripping text, as for double
  } else {
    return fmt::format("{}", v);
  }
}

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_same_v<T, std::string>) return "string";
  else if constexpr (std::is_same_v<T, double>) return "float";
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "int list";
  else if constexpr (std::is_same_v<T, std::vector<double>>) return "float list";
  else return "int";
}

// Binds `section.key` to cfg.*sec.*mem.
template <class Sec, class T>
KeySpec field(std::string key, Sec Config::*sec, T Sec::*mem, std::string def,
              std::string doc, Check<T> check = nullptr) {
  KeySpec k;
  k.key = std::move(key);
  k.type_name = type_name<T>();
  k.default_yaml = std::move(def);
  k.doc = std::move(doc);
  k.set = [sec, mem](Config& c, const YAML::Node& n) {
    if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>>) {
      if (!n.IsSequence()) throw YAML::Exception(n.Mark(), "not a list");
    } else if (!n.IsScalar()) {
      throw YAML::Exception(n.Mark(), "not a scalar");
    }
    T v = n.as<T>();
    if constexpr (std::is_same_v<T, double>) {
      if (!std::isfinite(v)) throw ValueError("must be a finite number");  // .nan, .inf, 1e999
    }
    (c.*sec).*mem = std::move(v);
  };
  k.get = [sec, mem](const Config& c) { return to_yaml((c.*sec).*mem); };
  if (check) {
    k.check = [sec, mem, check](const Config& c) { return check((c.*sec).*mem); };
  }
  return k;
}

template <class T>
Check<T> at_least(T lo) {
  return [lo](const T& v) -> std::optional<std::string> {
    if (v < lo) return fmt::format("must be >= {}, got {}", lo, v);
    return std::nullopt;
  };
}

// [lo, hi] for integers: fields later cast to int, or limited by the kernels.
Check<int64_t> in_range(int64_t lo, int64_t hi) {
  return [lo, hi](const int64_t& v) -> std::optional<std::string> {
    if (v < lo || v > hi) return fmt::format("must be in [{}, {}], got {}", lo, hi, v);
    return std::nullopt;
  };
}

// (lo, hi] when lo_open, else [lo, hi]: finite values large enough to
// overflow a float update (lr = 1e308) are refused at load.
Check<double> within(double lo, double hi, bool lo_open) {
  return [lo, hi, lo_open](const double& v) -> std::optional<std::string> {
    if ((lo_open ? v > lo : v >= lo) && v <= hi) return std::nullopt;
    return fmt::format("must be in {}{:g}, {:g}], got {:g}", lo_open ? "(" : "[", lo, hi, v);
  };
}

Check<double> positive() {
  return [](const double& v) -> std::optional<std::string> {
    if (!(v > 0)) return fmt::format("must be > 0, got {:g}", v);
    return std::nullopt;
  };
}

// [lo, hi) for floats.
Check<double> half_open(double lo, double hi) {
  return [lo, hi](const double& v) -> std::optional<std::string> {
    if (!(v >= lo && v < hi)) return fmt::format("must be in [{:g}, {:g}), got {:g}", lo, hi, v);
    return std::nullopt;
  };
}

Check<std::string> one_of(std::vector<std::string> allowed) {
  return [allowed](const std::string& v) -> std::optional<std::string> {
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return std::nullopt;
    return fmt::format("must be one of {}, got \"{}\"", fmt::join(allowed, "|"), v);
  };
}

// An enum-valued key: the YAML text lives in `str`, the value in `kind`.
// EnumTable<E> (signvote/config_enums.h) gives the allowed names (the
// check), the value (resolve, after the checks) and the text dump_config
// prints.
template <class Sec, class E>
KeySpec enum_field(std::string key, Sec Config::*sec, std::string Sec::*str, E Sec::*kind, std::string def,
                   std::string doc) {
  if (EnumTable<E>::key != key) throw std::logic_error("config schema: " + key + " bound to the table of another key");
  KeySpec k = field(std::move(key), sec, str, std::move(def), std::move(doc), one_of(enum_names<E>()));
  k.get = [sec, kind](const Config& c) { return to_yaml(std::string(enum_name((c.*sec).*kind))); };
  k.resolve = [sec, str, kind](Config& c) { (c.*sec).*kind = enum_from_name<E>((c.*sec).*str).value(); };
  return k;
}

Check<std::vector<int64_t>> increasing_positive() {
  return [](const std::vector<int64_t>& v) -> std::optional<std::string> {
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] <= 0 || (i > 0 && v[i] <= v[i - 1]))
        return fmt::format("must be increasing positive steps, got [{}]", fmt::join(v, ", "));
    }
    return std::nullopt;
  };
}

Check<std::vector<double>> increasing_fractions() {
  return [](const std::vector<double>& v) -> std::optional<std::string> {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!(v[i] > 0 && v[i] < 1) || (i > 0 && v[i] <= v[i - 1]))
        return fmt::format("must be increasing fractions of the budget in (0, 1), got [{}]", fmt::join(v, ", "));
    }
    return std::nullopt;
  };
}

Check<std::vector<int64_t>> increasing_non_negative(const char* what) {
  return [what](const std::vector<int64_t>& v) -> std::optional<std::string> {
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] < 0 || (i > 0 && v[i] <= v[i - 1]))
        return fmt::format("must be increasing {} >= 0, got [{}]", what, fmt::join(v, ", "));
    }
    return std::nullopt;
  };
}

// Every entry > 0 (what: "tensor size").
Check<std::vector<int64_t>> all_positive(const char* what) {
  return [what](const std::vector<int64_t>& v) -> std::optional<std::string> {
    for (int64_t x : v)
      if (x <= 0) return fmt::format("must list {}s > 0, got {}", what, x);
    return std::nullopt;
  };
}

// Every entry >= 0 (a parameter group may hold no trainable tensor).
Check<std::vector<int64_t>> group_sizes() {
  return [](const std::vector<int64_t>& v) -> std::optional<std::string> {
    for (int64_t x : v)
      if (x < 0) return fmt::format("must list tensor counts >= 0, got {}", x);
    return std::nullopt;
  };
}

// Every entry finite and in [lo, hi].
// Adam's (beta1, beta2): two values in [0, 1).
Check<std::vector<double>> betas_pair() {
  return [](const std::vector<double>& v) -> std::optional<std::string> {
    if (v.size() == 2 && v[0] >= 0 && v[0] < 1 && v[1] >= 0 && v[1] < 1) return std::nullopt;
    return fmt::format("must be [beta1, beta2], each in [0, 1), got [{}]", fmt::join(v, ", "));
  };
}

// inner.schedule: optimizer.schedule's values; resolved here because the enum
// table belongs to optimizer.schedule.
KeySpec inner_schedule() {
  KeySpec k = field("inner.schedule", &Config::inner, &InnerConfig::schedule, "\"constant\"",
                    "local steps: the inner lr's schedule over run.steps inner steps, as optimizer.schedule (constant | step | warmup_step | cosine | linear)",
                    one_of(enum_names<LrSchedule>()));
  k.resolve = [](Config& c) { c.inner.schedule_kind = enum_from_name<LrSchedule>(c.inner.schedule).value(); };
  return k;
}

Check<std::vector<double>> all_within(double lo, double hi) {
  return [lo, hi](const std::vector<double>& v) -> std::optional<std::string> {
    for (double x : v)
      if (!(x >= lo && x <= hi)) return fmt::format("must list values in [{:g}, {:g}], got {:g}", lo, hi, x);
    return std::nullopt;
  };
}

std::vector<KeySpec> build_schema() {
  using C = Config;
  std::vector<KeySpec> s;
  // run
  s.push_back(field("run.steps", &C::run, &RunConfig::steps, "100", "number of optimisation steps (vote rounds)", at_least<int64_t>(1)));
  s.push_back(field("run.seed", &C::run, &RunConfig::seed, "0", "master seed; every rank derives its own streams from it"));
  s.push_back(field("run.log_every", &C::run, &RunConfig::log_every, "10", "write a metrics row every N steps", at_least<int64_t>(1)));
  s.push_back(field("run.progress_seconds", &C::run, &RunConfig::progress_seconds, "1.0", "seconds between server progress lines", positive()));
  s.push_back(field("run.hash_every", &C::run, &RunConfig::hash_every, "50", "workers report a 64-bit weight hash every N steps (0 = off)", at_least<int64_t>(0)));
  s.push_back(field("run.checkpoint_dir", &C::run, &RunConfig::checkpoint_dir, "\"\"", "directory for checkpoints (\"\" = none)"));
  s.push_back(field("run.checkpoint_every", &C::run, &RunConfig::checkpoint_every, "0", "steps between checkpoints (0 = only at the end)", at_least<int64_t>(0)));
  s.push_back(field("run.checkpoint_every_s", &C::run, &RunConfig::checkpoint_every_s, "0", "also checkpoint at the first round after each this many seconds of training (server 0's clock, so every worker agrees); written in the background (0 = by steps only)", within(0, 1e9, false)));
  s.push_back(field("run.keep_checkpoints", &C::run, &RunConfig::keep_checkpoints, "3", "keep the newest N complete checkpoints (a step's file and its workers' parts)", in_range(1, 1000000)));
  s.push_back(field("run.threads", &C::run, &RunConfig::threads, "1", "compute threads per worker rank (Eigen/oneDNN) and the host sign kernels' slices; at most the CPUs the rank can use", in_range(1, 4096)));
  s.push_back(field("run.eval_every", &C::run, &RunConfig::eval_every, "0", "networks: evaluate on the validation split every N steps (0 = every epoch)", at_least<int64_t>(0)));
  s.push_back(field("run.stall_warn_s", &C::run, &RunConfig::stall_warn_s, "10", "a server that has waited this many seconds after a round's first vote logs which worker ranks it still waits for, at which step and for how long, and repeats it every as many seconds (with no vote at all: after 3x the slowest first vote so far; 0 = never)", within(0, 1e9, false)));
  s.push_back(field("run.time_limit_s", &C::run, &RunConfig::time_limit_s, "0", "stop the run (with a final evaluation and checkpoint) after this many seconds; 0 = no limit", at_least<double>(0)));
  // cluster
  s.push_back(field("cluster.workers", &C::cluster, &ClusterConfig::workers, "1", "worker ranks; mpirun -np must equal servers + workers (the tally counts at most 1023 votes)", in_range(1, 1023)));
  s.push_back(field("cluster.servers", &C::cluster, &ClusterConfig::servers, "1", "server ranks (shards of the vote), ranks 0..servers-1", in_range(1, 1023)));
  s.push_back(field("cluster.round_deadline_ms", &C::cluster, &ClusterConfig::round_deadline_ms, "0", "majority_vote: each server tallies the votes that arrived within this many ms of the round's start; late votes abstain (0: wait for every worker)", in_range(0, 3600000)));
  s.push_back(field("cluster.max_missed_rounds", &C::cluster, &ClusterConfig::max_missed_rounds, "10", "with a deadline: a worker late this many rounds in a row stops the run with an error naming it", in_range(1, 1000000)));
  s.push_back(enum_field("cluster.hierarchy", &C::cluster, &ClusterConfig::hierarchy, &ClusterConfig::hierarchy_kind, "\"none\"", "majority_vote: none | node (the workers of a node average their gradients, one leader per node runs Signum and votes: a node votes once)"));
  s.push_back(field("cluster.ranks_per_node", &C::cluster, &ClusterConfig::ranks_per_node, "0", "tests: group consecutive workers into nodes of this many (0: the ranks that share a machine)", in_range(0, 1 << 20)));
  s.push_back(enum_field("cluster.server_wait", &C::cluster, &ClusterConfig::server_wait, &ClusterConfig::server_wait_kind, "\"spin\"", "how a server waits for the votes: spin (polls, lowest latency: a core of its own) | sleep (polls 0.1 ms, then sleeps up to 0.5 ms at a time: servers on the workers' cores)"));
  // model
  s.push_back(enum_field("model.name", &C::model, &ModelConfig::name, &ModelConfig::kind, "\"quadratic\"", "quadratic | resnet18 | small_cnn | mlp | external (signvote serve: the PyTorch workers' model, d from them)"));
  s.push_back(field("model.dim", &C::model, &ModelConfig::dim, "1000", "quadratic: number of coordinates d (MPI counts are int: at most 2^31-1)", in_range(1, INT_MAX)));
  s.push_back(field("model.init", &C::model, &ModelConfig::init, "1.0", "quadratic: every coordinate of x starts at this value", within(-1e30, 1e30, false)));
  s.push_back(field("model.width", &C::model, &ModelConfig::width, "64", "resnet18: base channel count (64 = the paper's 11,173,962 parameters)", in_range(1, 4096)));
  s.push_back(enum_field("model.device", &C::model, &ModelConfig::device, &ModelConfig::device_kind, "\"cpu\"", "networks: cpu | cuda (cuDNN/cuBLAS layers; worker ranks take the GPUs of their node in rank order)"));
  s.push_back(enum_field("model.math", &C::model, &ModelConfig::math, &ModelConfig::math_kind, "\"tf32\"", "cuda convolutions: fp32 | tf32 (TF32 tensor cores on Ampere and newer, PyTorch's cuDNN default; GEMMs stay fp32)"));
  // nhwc: channels-last activations on the GPU (PyTorch's channels_last); weights and checkpoints keep the OIHW order.
  s.push_back(enum_field("model.layout", &C::model, &ModelConfig::layout, &ModelConfig::layout_kind, "\"nchw\"", "cuda activations: nchw | nhwc (channels last, as PyTorch's channels_last; parameters and checkpoints stay in the OIHW order of CPU models; nhwc needs model.device = cuda)"));
  s.push_back(field("model.share_gpus", &C::model, &ModelConfig::share_gpus, "false", "cuda: allow more worker ranks than GPUs on a node (they share GPUs round-robin)"));
  s.push_back(field("model.workspace_mb", &C::model, &ModelConfig::workspace_mb, "1024", "cuda: most MiB of GPU workspace one convolution algorithm may use", in_range(0, 1 << 20)));
  s.push_back(field("model.tensors", &C::model, &ModelConfig::tensors, "[]", "external: the parameter tensors' sizes in flat order, set by the PyTorch workers (a tensor without a gradient abstains from the vote)", all_positive("tensor size")));
  // data
  s.push_back(field("data.noise_std", &C::data, &DataConfig::noise_std, "1.0", "quadratic: std of the N(0, s^2) noise added to each gradient component", within(0, 1e15, false)));
  s.push_back(field("data.path", &C::data, &DataConfig::path, "\"\"", "CIFAR-10 directory holding data_batch_*.bin"));
  s.push_back(field("data.batch_size", &C::data, &DataConfig::batch_size, "64", "images per worker per step", in_range(1, 65536)));
  s.push_back(field("data.val_count", &C::data, &DataConfig::val_count, "5000", "validation split: the last N training images", in_range(0, INT_MAX)));
  s.push_back(field("data.train_files", &C::data, &DataConfig::train_files, "5", "training files data_batch_1..N.bin the directory must hold (official CIFAR-10: 5)", in_range(1, 1000)));
  s.push_back(field("data.records_per_file", &C::data, &DataConfig::records_per_file, "10000", "exact records in each training file (official CIFAR-10: 10000); a short or empty file is an error", in_range(1, 100000000)));
  s.push_back(field("data.augment", &C::data, &DataConfig::augment, "true", "random crop (pad 4) and horizontal flip"));
  s.push_back(enum_field("data.pad_mode", &C::data, &DataConfig::pad_mode, &DataConfig::pad_mode_kind, "\"zero\"", "crop padding: zero | reflect"));
  // optimizer
  s.push_back(enum_field("optimizer.name", &C::optimizer, &OptimizerConfig::name, &OptimizerConfig::kind, "\"signum\"", "signsgd | signum | lion | sgd | adam | adamw (adamw: decoupled weight decay)"));
  s.push_back(field("optimizer.lr", &C::optimizer, &OptimizerConfig::lr, "0.001", "learning rate", within(0, 1e3, true)));
  s.push_back(field("optimizer.momentum", &C::optimizer, &OptimizerConfig::momentum, "0.9", "beta: Signum m = b m + (1-b) g; SGD heavy ball; adam beta1 (ignored by signsgd)", half_open(0, 1)));
  s.push_back(field("optimizer.weight_decay", &C::optimizer, &OptimizerConfig::weight_decay, "0", "decoupled from the vote: x -= lr (s + wd x)", within(0, 1e3, false)));
  s.push_back(field("optimizer.beta1", &C::optimizer, &OptimizerConfig::beta1, "0.9", "lion: each worker votes sign(beta1 m + (1-beta1) g)", half_open(0, 1)));
  s.push_back(field("optimizer.beta2", &C::optimizer, &OptimizerConfig::beta2, "0.999", "adam second-moment decay; lion: m = beta2 m + (1-beta2) g after the vote (0.99 when lion and not set)", half_open(0, 1)));
  s.push_back(field("optimizer.eps", &C::optimizer, &OptimizerConfig::eps, "1e-8", "adam epsilon", within(0, 1, true)));
  s.push_back(field("optimizer.nesterov", &C::optimizer, &OptimizerConfig::nesterov, "false", "sgd: Nesterov momentum, as PyTorch's SGD(nesterov=True) (DiLoCo's outer step: lr 0.7, momentum 0.9)"));
  s.push_back(enum_field("optimizer.schedule", &C::optimizer, &OptimizerConfig::schedule, &OptimizerConfig::schedule_kind, "\"constant\"", "constant | step | warmup_step | cosine | linear (cosine and linear decay to 0 over the run's budget: run.steps or run.time_limit_s, whichever ends first, as server 0's clock measures it)"));
  s.push_back(field("optimizer.milestones", &C::optimizer, &OptimizerConfig::milestones, "[]", "step schedule: steps at which lr *= gamma", increasing_positive()));
  s.push_back(field("optimizer.milestone_fractions", &C::optimizer, &OptimizerConfig::milestone_fractions, "[]", "step schedule: fractions of the run's budget (run.steps or run.time_limit_s, whichever ends first; server 0's clock) at which lr *= gamma, e.g. [0.5, 0.75]", increasing_fractions()));
  s.push_back(field("optimizer.gamma", &C::optimizer, &OptimizerConfig::gamma, "0.1", "step schedule factor", within(0, 1e3, true)));
  s.push_back(field("optimizer.warmup_steps", &C::optimizer, &OptimizerConfig::warmup_steps, "0", "warmup_step, step, cosine, linear: linear ramp from lr/warmup to lr over the first steps", at_least<int64_t>(0)));
  s.push_back(field("optimizer.groups", &C::optimizer, &OptimizerConfig::groups, "[]", "external: parameter tensors per group, in flat order, set by the PyTorch workers (each group its own lr and weight decay)", group_sizes()));
  s.push_back(field("optimizer.group_lr", &C::optimizer, &OptimizerConfig::group_lr, "[]", "external: each parameter group's initial lr (a torch LR scheduler may change it at every step)", all_within(0, 1e3)));
  s.push_back(field("optimizer.group_weight_decay", &C::optimizer, &OptimizerConfig::group_weight_decay, "[]", "external: each parameter group's weight decay", all_within(0, 1e3)));
  s.push_back(enum_field("optimizer.nonfinite", &C::optimizer, &OptimizerConfig::nonfinite, &OptimizerConfig::nonfinite_kind, "\"stop\"", "a worker's NaN or infinite gradient: stop (the run stops, naming it) | skip (every worker drops that round and restores its momentum: fp16 with a gradient scaler)"));
  // aggregation
  // The methods and their order come from the registry (src/methods/registry.cpp).
  s.push_back(field("aggregation.method", &C::aggregation, &AggregationConfig::method, "\"majority_vote\"", methods::method_list(), one_of(methods::method_names())));
  s.push_back(field("aggregation.overlap", &C::aggregation, &AggregationConfig::overlap, "false", "majority_vote: pack and send each server shard as soon as the backward pass has finished its gradients, and apply results as they arrive (needs cluster.servers > 1 to overlap anything)"));
  s.push_back(field("aggregation.bucket_bytes", &C::aggregation, &AggregationConfig::bucket_bytes, "0", "majority_vote: cut each server shard into buckets of about this many fp32 gradient bytes (as PyTorch DDP's bucket_cap_mb counts; the packed message is 1/32 of it), at most 64 per shard, each a message of its own; with aggregation.overlap a bucket is sent as soon as the backward pass has finished it. 0 = one bucket per shard", in_range(0, INT64_C(1) << 40)));
  s.push_back(enum_field("aggregation.transport", &C::aggregation, &AggregationConfig::transport, &AggregationConfig::transport_kind, "\"server\"", "majority_vote: server (votes go to the server shards) | alltoall (worker j tallies chunk j of the coordinates: an all-to-all of sign chunks, then an all-gather; the server only validates header-only reports)"));
  s.push_back(enum_field("aggregation.isa", &C::aggregation, &AggregationConfig::isa, &AggregationConfig::isa_kind, "\"auto\"", "CPU sign kernels: auto | avx512 | avx2 | scalar"));
  s.push_back(field("aggregation.f", &C::aggregation, &AggregationConfig::f, "2", "multi_krum: Byzantine workers tolerated; needs cluster.workers > 2f + 2", at_least<int64_t>(0)));
  s.push_back(field("aggregation.m", &C::aggregation, &AggregationConfig::m, "0", "multi_krum: lowest-scoring gradients averaged (0 = workers - f)", at_least<int64_t>(0)));
  s.push_back(field("aggregation.levels", &C::aggregation, &AggregationConfig::levels, "1", "qsgd: quantisation levels s (1 = ternary, 2 bits per coordinate)", in_range(1, 1 << 20)));
  s.push_back(enum_field("aggregation.norm", &C::aggregation, &AggregationConfig::norm, &AggregationConfig::norm_kind, "\"l2\"", "qsgd: scaling norm, l2 | max"));
  s.push_back(field("aggregation.bucket", &C::aggregation, &AggregationConfig::bucket, "512", "qsgd: coordinates sharing one norm (the QSGD paper's bucket; 0 = one norm for the whole vector)", in_range(0, INT_MAX)));
  s.push_back(field("aggregation.local_steps", &C::aggregation, &AggregationConfig::local_steps, "1", "inner steps each worker runs on its own (inner.*) between rounds; the round then aggregates the pseudo-gradient x_start - x and every replica applies the outer rule (optimizer.*) from x_start. run.steps and the *_every periods count inner steps and must be multiples of it. 1 = a round every step", in_range(1, 1 << 20)));
  // inner (local steps)
  s.push_back(enum_field("inner.name", &C::inner, &InnerConfig::name, &InnerConfig::kind, "\"sgd\"", "local steps: the inner optimizer, sgd | adamw"));
  s.push_back(field("inner.lr", &C::inner, &InnerConfig::lr, "0.01", "local steps: the inner learning rate", within(0, 1e3, true)));
  s.push_back(field("inner.momentum", &C::inner, &InnerConfig::momentum, "0", "local steps, sgd: heavy-ball momentum", half_open(0, 1)));
  s.push_back(field("inner.betas", &C::inner, &InnerConfig::betas, "[0.9, 0.999]", "local steps, adamw: [beta1, beta2]", betas_pair()));
  s.push_back(field("inner.weight_decay", &C::inner, &InnerConfig::weight_decay, "0", "local steps: sgd couples it (g + wd x), adamw decouples it (x -= lr wd x)", within(0, 1e3, false)));
  s.push_back(field("inner.eps", &C::inner, &InnerConfig::eps, "1e-8", "local steps, adamw: epsilon", within(0, 1, true)));
  s.push_back(inner_schedule());
  s.push_back(field("inner.warmup_steps", &C::inner, &InnerConfig::warmup_steps, "0", "local steps: inner steps of linear warm-up (warmup_step, step, cosine, linear)", at_least<int64_t>(0)));
  // adversary
  s.push_back(field("adversary.count", &C::adversary, &AdversaryConfig::count, "0", "the first N workers are adversaries", at_least<int64_t>(0)));
  s.push_back(field("adversary.workers", &C::adversary, &AdversaryConfig::workers, "[]", "or exactly these worker indices (0-based, i.e. rank - servers) are adversaries; set count or workers, not both", increasing_non_negative("worker indices")));
  s.push_back(enum_field("adversary.mode", &C::adversary, &AdversaryConfig::mode, &AdversaryConfig::mode_kind, "\"invert\"", "invert (negated estimate) | negative (gradient x -scale) | random (x scale, random signs) | gaussian (N(0, scale^2) noise) | collude (majority_vote: the adversaries vote -sign of the honest sum) | alie (dense: mu - z sigma of the honest gradients) | ipm (dense: -scale x their mean); collude, alie and ipm are simulated by the server as an omniscient attacker"));
  s.push_back(field("adversary.scale", &C::adversary, &AdversaryConfig::scale, "10", "negative/random: gradient factor (paper: 10); gaussian: noise std; ipm: epsilon", within(0, 1e15, true)));
  // probes
  s.push_back(field("probes.epochs", &C::probes, &ProbeConfig::epochs, "[]", "networks: a full gradient pass over the training split at the start of these epochs (Fig. 2 histograms + SNR)", increasing_non_negative("epochs")));
  s.push_back(field("probes.every", &C::probes, &ProbeConfig::every, "0", "networks: an SNR pass of probes.batches batches per worker every N steps (0 = off; Fig. 3)", at_least<int64_t>(0)));
  s.push_back(field("probes.batches", &C::probes, &ProbeConfig::batches, "20", "mini-batches per worker in a periodic SNR pass", in_range(2, 1 << 20)));
  s.push_back(field("probes.batch_size", &C::probes, &ProbeConfig::batch_size, "0", "probe mini-batch size (0 = data.batch_size; the paper's Fig. 2/3 use 128)", in_range(0, 65536)));
  s.push_back(field("probes.weights", &C::probes, &ProbeConfig::weights, "3", "randomly chosen weights whose per-batch gradients full passes record", in_range(0, 1 << 20)));
  // faults (tests only)
  s.push_back(field("faults.delay_rank", &C::faults, &FaultConfig::delay_rank, "-1", "tests: this worker rank sleeps before sending its vote (-1: none)", in_range(-1, 1 << 20)));
  s.push_back(field("faults.delay_ms", &C::faults, &FaultConfig::delay_ms, "0", "tests: how long faults.delay_rank sleeps", in_range(0, 3600000)));
  s.push_back(field("faults.wrong_step_rank", &C::faults, &FaultConfig::wrong_step_rank, "-1", "tests: this worker rank's vote to the last server shard in step faults.wrong_step_at claims step + 1000, so one shard alone sees the error (-1: none)", in_range(-1, 1 << 20)));
  s.push_back(field("faults.wrong_step_at", &C::faults, &FaultConfig::wrong_step_at, "0", "tests: the step of faults.wrong_step_rank's wrong vote", in_range(0, INT64_C(1) << 40)));
  s.push_back(enum_field("faults.wrong_field", &C::faults, &FaultConfig::wrong_field, &FaultConfig::wrong_field_kind, "\"step\"", "tests: what faults.wrong_step_rank's wrong vote gets wrong: step (+1000) | version (protocol version + 1) | length (+1 coordinate)"));
  s.push_back(field("faults.every", &C::faults, &FaultConfig::every, "1", "tests: on every N-th step", in_range(1, 1000000)));
  return s;
}

}  // namespace

const std::vector<KeySpec>& config_schema() {
  static const std::vector<KeySpec> schema = build_schema();
  return schema;
}

}  // namespace signvote::detail
