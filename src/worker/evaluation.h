// Validation during training. BatchNorm running statistics are per worker
// (each sees its own batches); every evaluation uses their mean over the
// workers (MPI_Allreduce), so all replicas evaluate the same network, and
// each worker's own statistics are restored afterwards. Each
// worker scores a 1/W share of the validation split and the sums are
// all-reduced; worker 0 logs the result and appends it to <metrics>_val.csv.
#pragma once

#include "util/timer.h"

#include "comm/topology.h"
#include "signvote/config.h"
#include "worker/problem.h"
#include "worker/run_csv.h"

#include <cstdio>
#include <memory>
#include <string>

namespace signvote::worker {

struct ValResult {
  double accuracy = 0, loss = 0, count = 0;
};

class Evaluator {
 public:
  // metrics_path "" = log only; otherwise worker 0 writes <stem>_val.csv
  // (step, epoch, val_accuracy, val_loss, val_count, elapsed_s)
  // (appending on resume, replacing with --overwrite, refusing otherwise).
  Evaluator(const Config& cfg, const comm::Topology& topo, const std::string& metrics_path, const CsvMode& mode);
  // Collective over the workers.
  ValResult run(Problem& p, uint64_t step);
  const ValResult& last() const { return last_; }

 private:
  const comm::Topology& topo_;
  util::Clock::time_point start_ = util::Clock::now();  // elapsed_s: wall time since the worker started
  CsvFile csv_;
  ValResult last_;
};

// The validation CSV path for a metrics CSV path: out/run.csv -> out/run_val.csv.
std::string val_csv_path(const std::string& metrics_path);

}  // namespace signvote::worker
