// Training checkpoints: named float arrays, uint64 scalars and byte blobs in
// one checksummed little-endian file. Format: docs/checkpoint.md.
//
// Writes are atomic (temp file in the same directory + fsync + rename + fsync
// of the directory): `file` always holds either the previous complete
// checkpoint or the new complete one, never a partial file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signvote::data {

inline constexpr char kCheckpointMagic[8] = {'S', 'I', 'G', 'N', 'V', 'C', 'K', 'P'};
inline constexpr std::uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  std::map<std::string, std::vector<float>> arrays;  // weights, momentum, BN buffers
  std::map<std::string, std::uint64_t> scalars;      // step, epoch, ...
  std::map<std::string, std::string> blobs;          // RNG / loader state, config YAML

  bool operator==(const Checkpoint&) const = default;  // NB: float ==, NaN != NaN
};

// The exact file image (deterministic: sections sorted by kind, then name).
std::string serialize_checkpoint(const Checkpoint& ckpt);
// Parses a file image; `name` (usually the path) prefixes every error:
// "checkpoint <name>: bad magic ..." | "unsupported format version N" |
// "truncated ..." | "checksum mismatch ..." | "corrupt section table ...".
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& name);

void write_checkpoint_atomic(const std::filesystem::path& file, const Checkpoint& ckpt);

// A section every reader needs, or one line naming `file` and the section:
// "checkpoint 'F': no array 'params' (a complete file without that section: not
// a checkpoint of this kind of run)". Every reader of checkpoints uses these.
const std::vector<float>& require_array(const Checkpoint& c, const std::string& name, const std::filesystem::path& file);
// A fresh run id (64 random bits, never 0): the scalar run_id of a run's
// checkpoints and DIR/signvote-run.
std::uint64_t new_run_id();

std::uint64_t require_scalar(const Checkpoint& c, const std::string& name, const std::filesystem::path& file);
const std::string& require_blob(const Checkpoint& c, const std::string& name, const std::filesystem::path& file);
// Throws std::runtime_error, one line naming `file`: missing / unreadable,
// plus the parse_checkpoint errors.
Checkpoint read_checkpoint(const std::filesystem::path& file);

// Worker k's part of the checkpoint `file` when the workers wrote their own
// state (scalar "parts" = W; see CheckpointDir): merges the part's arrays
// into c. Nothing to do for a checkpoint without parts, or k >= W. Throws one
// line naming the part file if it is missing, damaged, or of another step or run.
void add_part(Checkpoint& c, const std::filesystem::path& file, int k);
// read_checkpoint plus every worker's part (`signvote inspect`).
Checkpoint read_checkpoint_with_parts(const std::filesystem::path& file);

// A directory of checkpoints of ONE run:
//   DIR/ckpt-<step, 12 digits zero padded>.ckpt   (e.g. ckpt-000000001000.ckpt)
//   DIR/ckpt-<step>.part-<k>-of-<W>               worker k's own state of that
//                                                  step, when each of the W
//                                                  workers writes its part
//   DIR/latest.ckpt -> ckpt-....ckpt               (relative symlink)
//   DIR/signvote-run                               "run <16 hex digits>\n": the
//                                                  run id that owns the files
// Every checkpoint also stores its run id (scalar "run_id"); a resumed run
// keeps the id of the checkpoint it resumed from.
// save() writes the checkpoint atomically, then repoints latest.ckpt
// atomically (new symlink + rename), then deletes all but the newest
// `keep_last` complete steps (keep_last 0 = keep all) -- only after claim()
// and only while DIR/signvote-run still names this run, so a run never
// deletes files it did not write. A crash at any point leaves the newest
// complete checkpoint readable.
// A step is complete when its ckpt file exists and, if part 0 of some W
// exists beside it (worker 0 writes its part before the ckpt file), so do
// parts 1..W-1 of W. Only complete steps are resumed (latest()), kept by
// pruning, or guarded by claim(); an incomplete one is an interrupted write.
// What claim() checks a run may do with a checkpoint directory.
struct DirClaim {
  std::uint64_t run_id = 0;      // this run's id
  bool resuming = false;         // --resume was given
  std::uint64_t resume_step = 0; // the step resumed from (when resuming)
  bool rewind = false;           // --rewind: later checkpoints may be set aside
  std::uint64_t bytes_needed = 0;  // size of one checkpoint (free-space check)
};

class CheckpointDir {
 public:
  // keep_last >= 0. With allow_overwrite = false, save() refuses to replace
  // an existing ckpt file for the same step (likely another run's).
  CheckpointDir(std::filesystem::path dir, int keep_last, bool allow_overwrite = false);
  ~CheckpointDir();
  CheckpointDir(const CheckpointDir&) = delete;
  CheckpointDir& operator=(const CheckpointDir&) = delete;

  // Before round 1, on the one rank that writes: creates DIR, locks it for
  // this job's lifetime (DIR/signvote-run.lock, flock: a second live job is
  // refused), checks that this run may write there, then removes the temp
  // files of interrupted writes and checks that DIR is writable with room
  // for one checkpoint. This run may write into DIR when:
  //  - DIR/signvote-run is absent or names claim.run_id;
  //  - a DIR with checkpoints also needs claim.resuming (a DIR without a run
  //    file is adopted only when resuming from a checkpoint inside it,
  //    `resume_in_dir`);
  //  - checkpoints later than claim.resume_step are refused, unless
  //    claim.rewind, which moves them to a new DIR/rewound-<step>[.N]/.
  // Then writes DIR/signvote-run. Throws one line naming DIR otherwise.
  // Returns a note for the log ("" if nothing to say).
  std::string claim(const DirClaim& claim, bool resume_in_dir);

  // Returns the path written. Creates DIR if needed. Throws std::runtime_error
  // if the step exists (see above) or DIR/latest.ckpt is not a symlink.
  std::filesystem::path save(const Checkpoint& ckpt, std::uint64_t step);

  // Worker k of W's part of `step` (see above): written atomically, without
  // the symlink or pruning (worker 0's save() does those). Replaces a part
  // an interrupted write of this run left. Returns the path written.
  std::filesystem::path save_part(const Checkpoint& part, std::uint64_t step, int k, int workers) const;

  // The checkpoint DIR/latest.ckpt points to if it is complete; else the
  // highest-step complete ckpt-*.ckpt file (temp files never match);
  // nullopt if none / DIR missing.
  std::optional<std::filesystem::path> latest() const;
  // (step, path) of every ckpt-*.ckpt file, complete or not, ascending step.
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> list() const;
  // The complete ones among them, ascending step.
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_complete() const;
  // The files of one step: its ckpt file (if present) and its parts.
  std::vector<std::filesystem::path> step_files(std::uint64_t step) const;

  const std::filesystem::path& dir() const { return dir_; }
  static std::string file_name(std::uint64_t step);  // "ckpt-000000001000.ckpt"
  static std::string part_name(std::uint64_t step, int k, int workers);  // "ckpt-000000001000.part-3-of-7"
  // The run id in DIR/signvote-run; nullopt when absent or unreadable.
  std::optional<std::uint64_t> owner() const;

 private:
  void prune(std::uint64_t newest_step) const;
  // Removes the incomplete steps and the parts without a ckpt file (claim(),
  // before this run writes); returns how many steps' files went.
  int remove_interrupted() const;
  void lock();
  void check_owner(const DirClaim& c, bool resume_in_dir,
                   const std::vector<std::pair<std::uint64_t, std::filesystem::path>>& files) const;

  std::filesystem::path dir_;
  int keep_last_;
  bool allow_overwrite_;
  std::optional<std::uint64_t> run_id_;  // set by claim(); pruning needs it
  int lock_fd_ = -1;                     // flock held from claim() to destruction
};

}  // namespace signvote::data
