// The CSV files a run writes next to its metrics file (out/run.csv ->
// out/run_val.csv, out/run_snr.csv, ...), written by worker 0 through the
// run's one CSV writer (formats/csv_file.h): a resumed run appends; --overwrite
// replaces; otherwise an existing file is an error, so no data is lost.
#pragma once

#include "formats/csv_file.h"

#include <string>

namespace signvote::worker {

using data::CsvFile;
using data::CsvMode;

// out/run.csv + "_val" -> out/run_val.csv
std::string side_csv_path(const std::string& metrics_path, const std::string& suffix);

}  // namespace signvote::worker
