#include "server/server.h"

#include "comm/mpi_calls.h"
#include "util/timer.h"

#include "signvote/sign_kernels.h"
#include "comm/agreement.h"
#include "server/aggregation.h"
#include "server/buckets.h"
#include "server/metrics.h"
#include "config/run_plan.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

namespace signvote::server {
namespace {

// Sums a step's summary into the current CSV row (divided on output).
void accumulate(RoundSummary& acc, const RoundSummary& s) {
  acc.loss = s.loss;  // the objective at the row's step, not averaged
  acc.t_compute += s.t_compute;
  acc.t_pack += s.t_pack;
  acc.t_comm += s.t_comm;
  acc.t_apply += s.t_apply;
  acc.t_tally += s.t_tally;
  acc.correct += s.correct;
  acc.samples += s.samples;
  acc.bytes_recv_per_worker = s.bytes_recv_per_worker;
  acc.bytes_sent_per_worker = s.bytes_sent_per_worker;
  acc.lr = s.lr;
}

// What the servers agree on after each round (bits, OR over the servers).
constexpr int kTold = 1;   // a round failed validation: its workers were told and stop
constexpr int kAfter = 2;  // a failure after the replies (logging): the workers are in the next round

class Server final : public ServerLoop {
 public:
  Server(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo)
      : cfg_(cfg), topo_(topo), kind_(round_kind(cfg)), dim_(model_dim(cfg)),
        ops_(kernels::ops_for(cfg.aggregation.isa_kind)),
        srv_(topo, reports_only(cfg) ? 0 : dim_, bucket_coords(cfg), round_format(cfg),
             [&](size_t length) { return make_aggregate(cfg, topo.voters(), length, ops_); },
             DeadlinePolicy{cfg.cluster.round_deadline_ms, cfg.cluster.max_missed_rounds,
                            cfg.cluster.server_wait_kind == ServerWait::sleep, cfg.run.stall_warn_s}),
        logger_(topo.world_rank() == 0),
        progress_(static_cast<uint64_t>(cfg.run.steps), cfg.run.progress_seconds) {
    if (logger_ && !opt.metrics_path.empty()) csv_.emplace(opt.metrics_path, opt.overwrite, !opt.resume.empty() || opt.append, cfg.cluster.workers);
    srv_.set_tail_rules(ops_, schedule_drives_lr(cfg.optimizer) ? group_lrs(cfg) : std::vector<double>{});
    srv_.set_round_steps(round_steps(cfg));  // the vote's ties alternate by round
  }

  void run(uint64_t first, double elapsed_s) override {
    if (logger_)
      spdlog::info("{}: {} workers, {} server(s), d = {}, {} + {}{}, {} adversaries, kernels {}", cfg_.origin,
                   topo_.workers(), topo_.servers(), dim_, cfg_.optimizer.name, cfg_.aggregation.method,
                   kind_ == RoundKind::vote && reports_only(cfg_) ? " (all-to-all among the workers)" : "",
                   cfg_.adversaries(), kernels::isa_name(ops_.isa));
    const uint64_t steps = static_cast<uint64_t>(cfg_.run.steps);
    const auto t0 = util::Clock::now();
    progress_ = Progress(steps, cfg_.run.progress_seconds, first, cfg_.run.time_limit_s);
    const uint64_t h = round_steps(cfg_);  // rounds at inner steps H, 2H, ... (aggregation.local_steps)
    uint64_t step = first;
    for (; step <= steps; step += h) {
      mark_ = mark_for(step, steps, elapsed_s + util::seconds_since(t0));
      const bool stop = (mark_.flags & protocol::kFlagStop) != 0;
      int failed = 0;
      std::string error;
      RoundSummary s;
      try {
        s = srv_.round(step, mark_);
      } catch (const RoundError& e) {
        error = e.what(), failed = kTold;
      }
      if (s.left) {  // every shard saw every worker leave at this step
        if (logger_) spdlog::info("every worker left at step {}: the run ends after step {}", step, step - h);
        if (logger_ && in_row_ > 0) write_row(step - h);  // the last, partial row
        step -= h;
        break;
      }
      // Every shard learns of a failure any of them saw (small all-reduces,
      // only with several servers): first whether any shard rejected the
      // round (then nobody logs it), then whether logging failed.
      int told = agree(failed);
      if (!told) {
        if (stop && logger_) spdlog::info("time limit {} s reached: step {} is the last", cfg_.run.time_limit_s, step);
        try {
          if (logger_) log_step(step, stop ? step : steps, s);
        } catch (const std::exception& e) {
          error = e.what(), failed = kAfter;
        }
        told = agree(failed);
      }
      if (told) leave(told, step, stop || step == steps, error);
      if (stop) break;
    }
    srv_.finish(std::min(step, steps));  // deadline mode: late workers catch up before the server leaves
  }

 private:
  // After a failure: when no round failed validation the workers are already
  // in the next round, so stop them there; after the last round nobody
  // waits for the server: it exits non-zero and lets the workers finish
  // their final evaluation and checkpoint. The failing server throws its
  // reason (main prints it once), the others leave quietly.
  // The OR of every shard's failure bits (this shard's alone when S = 1).
  int agree(int failed) const {
    if (topo_.servers() > 1) failed = comm::allreduce_bit_or(failed, topo_.servers_comm());
    return failed;
  }

  [[noreturn]] void leave(int failed, uint64_t step, bool last, const std::string& error) {
    if (!(failed & kTold) && !last) srv_.abort(step + round_steps(cfg_));
    if (!error.empty()) throw RoundError(error);
    throw PeerFailure(fmt::format("server rank {}: another server stopped the run at step {}", topo_.world_rank(), step));
  }

  // Server 0's clock decides for every shard, so that all servers and
  // workers agree on the last round and on the schedule's progress (one
  // small broadcast per round with several servers). `elapsed` counts the
  // training time before a resume too.
  RoundMark mark_for(uint64_t step, uint64_t steps, double elapsed) const {
    if (topo_.servers() > 1) comm::bcast_one(elapsed, 0, topo_.servers_comm());
    RoundMark m;
    m.elapsed_s = elapsed;
    if (cfg_.run.time_limit_s > 0 && elapsed >= cfg_.run.time_limit_s && step < steps) m.flags = protocol::kFlagStop;
    m.progress = m.flags ? 1.0 : budget_progress(cfg_.run, step, elapsed);
    return m;
  }

  void log_step(uint64_t step, uint64_t steps, RoundSummary& s) {
    if (kind_ == RoundKind::allreduce)  // the paper's count: 32 bits/param each way
      s.bytes_recv_per_worker = s.bytes_sent_per_worker = 4 * dim_;
    else if (reports_only(cfg_))  // all-to-all vote: the packed signs, each way
      s.bytes_recv_per_worker = s.bytes_sent_per_worker = 4 * comm::payload_words(dim_);
    const uint64_t every = static_cast<uint64_t>(cfg_.run.log_every);
    if (in_row_ == 0) acc_ = RoundSummary{}, skipped_in_row_ = 0;
    accumulate(acc_, s);
    if (s.skipped) {
      ++skipped_in_row_, ++skipped_;
      spdlog::warn("step {}: skipped by every worker (a worker's gradient was not finite; optimizer.nonfinite: skip), "
                   "{} skipped so far", step, skipped_);
    }
    ++in_row_;  // steps summed in this row (fewer than log_every after a resume off the grid)
    if (period_due(step, static_cast<int64_t>(every), round_steps(cfg_)) || step == steps) write_row(step);
    progress_.update(step, s, mark_, step == steps);
  }

  // The metrics row of the steps summed since the last one, ending at `step`.
  void write_row(uint64_t step) {
    RoundSummary row = acc_;
    for (double* v : {&row.t_compute, &row.t_pack, &row.t_comm, &row.t_apply, &row.t_tally}) *v /= double(in_row_);
    // the workers' own lr (a torch LR scheduler) unless the server's schedule drives it
    const double lr = row.lr >= 0 && !schedule_drives_lr(cfg_.optimizer) ? row.lr : lr_at(cfg_.optimizer, step, mark_.progress);
    if (csv_) csv_->write({step, lr, row, skipped_in_row_});
    in_row_ = 0;
  }

  const Config& cfg_;
  const comm::Topology& topo_;
  RoundKind kind_;
  size_t dim_;
  const kernels::SignOps& ops_;
  BucketRounds srv_;
  bool logger_;
  Progress progress_;
  std::optional<MetricsCsv> csv_;
  RoundSummary acc_;
  RoundMark mark_;  // this round's budget clock
  uint64_t in_row_ = 0;  // steps summed in acc_ and not yet written
  uint64_t skipped_in_row_ = 0, skipped_ = 0;  // rounds dropped (optimizer.nonfinite: skip)
};

}  // namespace

std::unique_ptr<ServerLoop> make_server(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo) {
  return std::make_unique<Server>(cfg, opt, topo);
}

}  // namespace signvote::server
