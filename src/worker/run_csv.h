// The CSV files a run writes next to its metrics file (out/run.csv ->
// out/run_val.csv, out/run_snr.csv, ...), opened by worker 0 with the same
// rules as the server's metrics file: a resumed run appends; --overwrite
// replaces; otherwise an existing file is an error, so no data is lost.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

namespace signvote::worker {

struct CsvMode {
  bool overwrite = false;  // --overwrite
  bool resume = false;     // --resume: append (header only for a new file)
};

struct CloseFile {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using CsvFile = std::unique_ptr<std::FILE, CloseFile>;

// out/run.csv + "_val" -> out/run_val.csv
std::string side_csv_path(const std::string& metrics_path, const std::string& suffix);
// Opens `path` under `mode`, writing `header` (with its newline) to a new or
// replaced file; throws std::runtime_error naming the file otherwise.
CsvFile open_run_csv(const std::string& path, const char* header, const CsvMode& mode);

}  // namespace signvote::worker
