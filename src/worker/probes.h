// Gradient probes (paper Fig. 2 and 3), run between steps on every worker.
//
// A pass: each of the W workers takes the first `batches` full mini-batches
// (all of them in a full pass) of its 1/W share of the training split, no
// augmentation, and computes their gradients g_b (d,) at the current weights
// (Problem::probe; training state untouched). Summed over all B batches of
// all workers, per parameter tensor ("layer") l:
//
//   gbar     = (1/B) sum_b g_b                                       (d,)
//   mean_sq  = ||gbar_l||^2
//   noise    = sum_{i in l} Var_b[g_b,i]
//            = B/(B-1) * ((1/B) sum_b ||g_b,l||^2 - ||gbar_l||^2)
//   signal   = mean_sq - noise / B      (unbiased estimate of ||E g_l||^2)
//   snr      = signal / noise           (Fig. 3; < 0 when noise swamps it)
//
// Worker 0 appends one row per layer to <stem>_snr.csv:
//   step,epoch,kind,layer,name,params,batches,mean_sq,noise,snr
// and, for full passes (`kind` = epoch), the per-batch gradient of each of
// probes.weights weights chosen uniformly from [0, d) by run.seed to
// <stem>_grads.csv (Fig. 2 histograms):
//   step,epoch,weight,index,layer,worker,batch,grad
// `step` counts the steps completed before the pass.
#pragma once

#include "comm/topology.h"
#include "signvote/config.h"
#include "worker/problem.h"
#include "worker/run_csv.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace signvote::worker {

// Per-layer SNR statistics of one probe pass (formulas above).
struct LayerSnr {
  double mean_sq = 0, noise = 0, signal = 0, snr = 0;
};

// Running sums for the formulas above: sum_b g_b (d,) and sum_b ||g_b,l||^2
// per layer, in double. Sums from several workers add element-wise.
class GradientMoments {
 public:
  GradientMoments(size_t d, std::vector<ParamSlice> layers);
  void add(std::span<const float> g);  // one batch gradient (d,)
  std::span<double> sum() { return sum_; }
  std::span<double> sq_norms() { return sq_; }
  double batches() const { return batches_; }
  std::span<double> batch_count() { return {&batches_, 1}; }  // for reductions
  // Needs batches() >= 2.
  std::vector<LayerSnr> result() const;
  const std::vector<ParamSlice>& layers() const { return layers_; }

 private:
  std::vector<ParamSlice> layers_;
  std::vector<double> sum_, sq_;
  double batches_ = 0;
};

class Prober {
 public:
  Prober(const Config& cfg, const comm::Topology& topo, const std::string& metrics_path, const CsvMode& mode,
         size_t d);
  bool enabled() const { return enabled_; }
  // Collective over the workers: runs a pass if one is due before `step`
  // (the step about to be computed). Full passes take precedence.
  void maybe_run(Problem& p, uint64_t step);

 private:
  void pass(Problem& p, uint64_t done_steps, uint64_t epoch, bool full);
  void write_snr(const GradientMoments& m, uint64_t done_steps, uint64_t epoch, bool full);

  const Config& cfg_;
  const comm::Topology& topo_;
  bool enabled_;
  size_t d_;
  std::vector<uint64_t> chosen_;  // indices of the recorded weights
  CsvFile snr_csv_, grads_csv_;
};

}  // namespace signvote::worker
