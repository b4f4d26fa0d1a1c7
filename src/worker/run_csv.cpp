#include "worker/run_csv.h"

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

namespace signvote::worker {

std::string side_csv_path(const std::string& metrics_path, const std::string& suffix) {
  std::filesystem::path p(metrics_path);
  return (p.parent_path() / (p.stem().string() + suffix + ".csv")).string();
}

CsvFile open_run_csv(const std::string& path, const char* header, const CsvMode& mode) {
  const bool exists = std::filesystem::exists(path);
  if (exists && !mode.resume && !mode.overwrite)
    throw std::runtime_error(fmt::format("'{}' already exists (pass --overwrite to replace it)", path));
  const bool append = mode.resume && exists;
  CsvFile f(std::fopen(path.c_str(), append ? "a" : "w"));
  if (!f) throw std::runtime_error(fmt::format("'{}': cannot open for writing", path));
  if (!append) std::fputs(header, f.get());
  return f;
}

}  // namespace signvote::worker
