// Server 0's outputs: the metrics CSV and the ~1 s progress line.
#pragma once

#include "formats/csv_file.h"
#include "server/shard_server.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace signvote::server {

// Per-step averages accumulated between two CSV rows.
struct MetricsRow {
  uint64_t step = 0;
  double lr = 0;
  RoundSummary s;
  uint64_t skipped = 0;
};

// The metrics CSV through the run's one CSV writer (formats/csv_file.h):
// refuses to replace an existing file unless `overwrite`, `append` (resume)
// continues it, nothing is touched before the first row, write errors throw.
class MetricsCsv {
 public:
  MetricsCsv(const std::string& path, bool overwrite, bool append, uint64_t workers);
  void write(const MetricsRow& row);

 private:
  data::CsvFile csv_;
  uint64_t workers_;  // the "workers" column
};

// Logs "step i/N | steps/s | ETA | objective" at most every `period` seconds.
class Progress {
 public:
  // time_limit_s > 0: the run ends at whichever comes first, the last step
  // or the time limit, and the ETA says which.
  Progress(uint64_t total_steps, double period_s, uint64_t first_step = 1, double time_limit_s = 0);
  void update(uint64_t step, const RoundSummary& s, const RoundMark& mark, bool force = false);

 private:
  using Clock = util::Clock;
  uint64_t total_;
  double period_, limit_ = 0;
  Clock::time_point start_, last_;
  uint64_t first_ = 1, last_step_ = 0;
};

}  // namespace signvote::server
