#include "worker/evaluation.h"

#include "comm/mpi_calls.h"
#include "util/timer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace signvote::worker {

std::string val_csv_path(const std::string& metrics_path) { return side_csv_path(metrics_path, "_val"); }

Evaluator::Evaluator(const Config& cfg, const comm::Topology& topo, const std::string& metrics_path,
                     const CsvMode& mode)
    : topo_(topo) {
  if (metrics_path.empty() || topo.worker_index() != 0 || cfg.model.kind == ModelName::quadratic || cfg.model.kind == ModelName::external) return;
  csv_ = CsvFile(val_csv_path(metrics_path), "step,epoch,val_accuracy,val_loss,val_count,elapsed_s\n", mode);
}

ValResult Evaluator::run(Problem& p, uint64_t step) {
  // Evaluate with the mean of the workers' running statistics, then put this
  // worker's own back: evaluation never changes the training state, so a
  // resumed run stays bit-identical to an uninterrupted one.
  p.pull(Flat::buffers);  // cuda: the device statistics into the host mirror
  const auto b = p.buffers();
  std::vector<float> own(b.begin(), b.end());
  const float inv = 1.f / static_cast<float>(topo_.workers());
  comm::allreduce(b, comm::Op::sum, topo_.workers_comm());
  for (auto& v : b) v *= inv;
  p.push(Flat::buffers);
  const EvalSums mine = p.evaluate(topo_.worker_index(), topo_.workers());
  std::copy(own.begin(), own.end(), b.begin());
  p.push(Flat::buffers);
  double sums[3] = {mine.loss_sum, mine.correct, mine.count};
  comm::allreduce(std::span<double>(sums), comm::Op::sum, topo_.workers_comm());
  last_ = {sums[2] > 0 ? sums[1] / sums[2] : 0.0, sums[2] > 0 ? sums[0] / sums[2] : 0.0, sums[2]};
  if (topo_.worker_index() == 0) {
    spdlog::info("step {} (epoch {}): val accuracy {:.2f}% loss {:.4f} on {:.0f} images", step, p.epoch(),
                 100 * last_.accuracy, last_.loss, last_.count);
    if (csv_) {
      csv_.row(fmt::format("{},{},{:.6f},{:.6f},{:.0f},{:.3f}\n", step, p.epoch(), last_.accuracy, last_.loss, last_.count,
                           util::seconds_since(start_)));
      csv_.flush();
    }
  }
  return last_;
}

}  // namespace signvote::worker
