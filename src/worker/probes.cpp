// Gradient probes: formulas and CSV layouts in probes.h.
#include "worker/probes.h"

#include "comm/mpi_calls.h"
#include "util/timer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>

namespace signvote::worker {

GradientMoments::GradientMoments(size_t d, std::vector<ParamSlice> layers)
    : layers_(std::move(layers)), sum_(d, 0.0), sq_(layers_.size(), 0.0) {}

void GradientMoments::add(std::span<const float> g) {
  for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += g[i];
  for (size_t l = 0; l < layers_.size(); ++l) {
    double acc = 0;
    for (size_t i = layers_[l].offset; i < layers_[l].offset + layers_[l].length; ++i)
      acc += static_cast<double>(g[i]) * g[i];
    sq_[l] += acc;
  }
  batches_ += 1;
}

std::vector<LayerSnr> GradientMoments::result() const {
  const double B = batches_;
  std::vector<LayerSnr> out(layers_.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    double mean_sq = 0;
    for (size_t i = layers_[l].offset; i < layers_[l].offset + layers_[l].length; ++i)
      mean_sq += (sum_[i] / B) * (sum_[i] / B);
    LayerSnr& r = out[l];
    r.mean_sq = mean_sq;
    r.noise = std::max(0.0, B / (B - 1) * (sq_[l] / B - mean_sq));
    r.signal = mean_sq - r.noise / B;
    r.snr = r.noise > 0 ? r.signal / r.noise : 0.0;
  }
  return out;
}

Prober::Prober(const Config& cfg, const comm::Topology& topo, const std::string& metrics_path, const CsvMode& mode,
               size_t d)
    : cfg_(cfg), topo_(topo), enabled_(cfg.probes.every > 0 || !cfg.probes.epochs.empty()), d_(d) {
  if (!enabled_) return;
  std::mt19937_64 rng(cfg.run.seed ^ 0x9e3779b97f4a7c15ull);  // same choice on every worker
  std::uniform_int_distribution<uint64_t> pick(0, d - 1);
  for (int64_t q = 0; q < cfg.probes.weights; ++q) chosen_.push_back(pick(rng));
  if (metrics_path.empty() || topo.worker_index() != 0) return;
  snr_csv_ = CsvFile(side_csv_path(metrics_path, "_snr"),
                          "step,epoch,kind,layer,name,params,batches,mean_sq,noise,snr\n", mode);
  if (!cfg.probes.epochs.empty() && !chosen_.empty())
    grads_csv_ = CsvFile(side_csv_path(metrics_path, "_grads"),
                              "step,epoch,weight,index,layer,worker,batch,grad\n", mode);
}

void Prober::maybe_run(Problem& p, uint64_t step) {
  if (!enabled_) return;
  uint64_t epoch = p.epoch();
  const auto& full_at = cfg_.probes.epochs;
  if (p.at_epoch_start(&epoch) &&
      std::find(full_at.begin(), full_at.end(), static_cast<int64_t>(epoch)) != full_at.end())
    return pass(p, step - 1, epoch, true);
  const auto every = static_cast<uint64_t>(cfg_.probes.every);
  if (every > 0 && (step - 1) % every == 0) pass(p, step - 1, epoch, false);
}

void Prober::pass(Problem& p, uint64_t done_steps, uint64_t epoch, bool full) {
  const auto t0 = util::Clock::now();
  const auto slices = p.param_slices();
  GradientMoments m(d_, slices);
  std::vector<float> samples;  // (batches, weights) row-major
  const int batch = static_cast<int>(cfg_.probes.batch_size > 0 ? cfg_.probes.batch_size : cfg_.data.batch_size);
  const size_t max_batches = full ? 0 : static_cast<size_t>(cfg_.probes.batches);
  p.probe(topo_.worker_index(), topo_.workers(), batch, max_batches, [&](std::span<const float> g) {
    m.add(g);
    if (full)
      for (uint64_t i : chosen_) samples.push_back(g[i]);
  });
  // Sum the moments on worker 0 (rank 0 of the workers' communicator).
  const MPI_Comm wc = topo_.workers_comm();
  const bool root = topo_.worker_index() == 0;
  auto reduce = [&](std::span<double> v) { comm::reduce(v, comm::Op::sum, 0, wc); };
  reduce(m.sum());
  reduce(m.sq_norms());
  reduce(m.batch_count());
  // Gather the chosen weights' samples (worker w's count first).
  int mine = static_cast<int>(samples.size());
  std::vector<int> counts(root ? topo_.workers() : 0), displs(counts.size());
  comm::gather(&mine, counts.data(), 1, 0, wc);
  for (size_t w = 1; w < counts.size(); ++w) displs[w] = displs[w - 1] + counts[w - 1];
  std::vector<float> all(root ? static_cast<size_t>(displs.back() + counts.back()) : 0);
  comm::gatherv(std::span<const float>(samples), all.data(), counts.data(), displs.data(), 0, wc);
  if (!root) return;
  write_snr(m, done_steps, epoch, full);
  if (grads_csv_ && full) {
    auto layer_of = [&](uint64_t i) {
      for (size_t l = 0; l < slices.size(); ++l)
        if (i >= slices[l].offset && i < slices[l].offset + slices[l].length) return slices[l].name;
      return std::string("?");
    };
    const size_t K = chosen_.size();
    for (size_t w = 0; w < counts.size(); ++w)
      for (size_t j = 0; j < static_cast<size_t>(counts[w]) / K; ++j)
        for (size_t q = 0; q < K; ++q)
          grads_csv_.row(fmt::format("{},{},{},{},{},{},{},{:.9g}\n", done_steps, epoch, q, chosen_[q],
                                     layer_of(chosen_[q]), w, j, all[static_cast<size_t>(displs[w]) + j * K + q]));
    grads_csv_.flush();
  }
  spdlog::info("probe after step {} (epoch {}, {}): {:.0f} batches of {} in {:.1f} s", done_steps, epoch,
               full ? "full pass" : "periodic", m.batches(), batch,
               util::seconds_since(t0));
}

void Prober::write_snr(const GradientMoments& m, uint64_t done_steps, uint64_t epoch, bool full) {
  if (!snr_csv_) return;
  const auto r = m.result();
  const auto& layers = m.layers();
  for (size_t l = 0; l < layers.size(); ++l)
    snr_csv_.row(fmt::format("{},{},{},{},{},{},{:.0f},{:.9g},{:.9g},{:.9g}\n", done_steps, epoch,
                             full ? "epoch" : "periodic", l, layers[l].name, layers[l].length, m.batches(),
                             r[l].mean_sq, r[l].noise, r[l].snr));
  snr_csv_.flush();
}

}  // namespace signvote::worker
