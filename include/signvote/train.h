// Entry point of `signvote train`: runs this rank's part (server or worker)
// of a configured run. MPI must be initialised; every rank calls train().
#pragma once

#include "signvote/config.h"

#include <cstdint>
#include <string>

namespace signvote {

struct TrainOptions {
  std::string metrics_path;  // server 0 writes the metrics CSV here ("" = none)
  bool overwrite = false;    // allow replacing an existing metrics file
  bool append = false;       // continue an existing metrics file (`serve` of a restarted PyTorch job)
  std::string resume;        // checkpoint file, or a directory holding latest.ckpt
  bool rewind = false;       // resume from a checkpoint older than the directory's latest:
                             // the later ones move to DIR/rewound-<step>/
  uint64_t run_id = 0;       // the run's id (0: a new one); `signvote launch` keeps one across its restarts, so a
                             // restart before the first checkpoint may claim the directory its first try claimed
};

// Returns 0 on success. Throws on errors (ConfigError, a round error naming
// the rank, I/O errors); every rank of the run throws, none hangs.
int train(const Config& cfg, const TrainOptions& opt);

}  // namespace signvote
