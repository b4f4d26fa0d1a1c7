#include "worker/run_csv.h"

#include <filesystem>

namespace signvote::worker {

std::string side_csv_path(const std::string& metrics_path, const std::string& suffix) {
  std::filesystem::path p(metrics_path);
  return (p.parent_path() / (p.stem().string() + suffix + ".csv")).string();
}

}  // namespace signvote::worker
