#include "server/metrics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace signvote::server {

MetricsCsv::MetricsCsv(const std::string& path, bool overwrite, bool append, uint64_t workers)
    : csv_(path,
           "step,objective,accuracy,lr,bytes_sent,bytes_recv,t_compute,t_pack,t_comm,t_tally,t_apply,skipped,workers\n",
           {.overwrite = overwrite, .resume = append}),
      workers_(workers) {}

// bytes_* are per worker for this step; t_* are seconds (means over workers);
// skipped: the row's rounds every worker dropped (optimizer.nonfinite: skip);
// workers: the run's worker count (a run resumed with another count changes it).
void MetricsCsv::write(const MetricsRow& r) {
  const auto& s = r.s;
  const double acc = s.samples ? double(s.correct) / double(s.samples) : 0.0;
  const auto line = fmt::format("{},{:.8g},{:.6g},{:.6g},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{}\n", r.step, s.loss, acc,
                                r.lr, s.bytes_recv_per_worker, s.bytes_sent_per_worker, s.t_compute, s.t_pack, s.t_comm,
                                s.t_tally, s.t_apply, r.skipped, workers_);
  csv_.row(line);
  csv_.flush();
}

Progress::Progress(uint64_t total_steps, double period_s, uint64_t first_step, double time_limit_s)
    : total_(total_steps), period_(period_s), limit_(time_limit_s), start_(Clock::now()), last_(start_),
      first_(first_step), last_step_(first_step - 1) {}

void Progress::update(uint64_t step, const RoundSummary& s, const RoundMark& mark, bool force) {
  const auto now = Clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  if (!force && since_last < period_) return;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = since_last > 0 ? double(step - last_step_) / since_last : 0.0;
  const double avg_rate = elapsed > 0 ? double(step + 1 - first_) / elapsed : 0.0;
  double eta = avg_rate > 0 ? double(total_ - step) / avg_rate : 0.0;
  const bool clock_ends = limit_ > 0 && limit_ - mark.elapsed_s < eta;  // the time limit comes first
  if (clock_ends) eta = std::max(0.0, limit_ - mark.elapsed_s);
  std::string acc;
  if (s.samples) acc = fmt::format(" | train acc {:.2f}%", 100.0 * double(s.correct) / double(s.samples));
  spdlog::info("step {}/{} | {:.1f} steps/s | {:.0f}% of the budget | ETA {:.0f}s{} | objective {:.6g}{}", step, total_,
               rate, 100.0 * mark.progress, eta, clock_ends ? " (time limit)" : "", s.loss, acc);
  last_ = now;
  last_step_ = step;
}

}  // namespace signvote::server
