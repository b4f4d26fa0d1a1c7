// CheckpointDir::claim: who may write into a checkpoint directory, checked
// before round 1 (docs/reliability.md, "Checkpoints").
#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "formats/io_util.h"

namespace signvote::data {
namespace fs = std::filesystem;
namespace {

constexpr const char* kRunFile = "signvote-run";
constexpr const char* kLockFile = "signvote-run.lock";
constexpr std::string_view kWhat = "checkpoint";

std::runtime_error dir_error(const fs::path& dir, const std::string& msg) {
  return std::runtime_error("checkpoint dir '" + dir.string() + "' " + msg);
}

std::string hex(std::uint64_t id) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, id);
  return buf;
}

// ".ckpt-<step>.ckpt.tmp-<pid>-<n>" / ".latest.ckpt.tmp-..." / ".signvote-run.tmp-...":
// the temp names io::temp_sibling gives our files. Nothing else matches.
bool is_our_temp(const std::string& name) {
  for (const char* stem : {".ckpt-", ".latest.ckpt.tmp-", ".signvote-run.tmp-", ".write-test-"})
    if (name.starts_with(stem) && name.find(".tmp-") != std::string::npos) return true;
  return false;
}

// Removes the temp files interrupted writes left; returns how many.
int remove_stale_temps(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || !is_our_temp(it->path().filename().string())) continue;
    if (fs::remove(it->path(), ec)) ++removed;
  }
  return removed;
}

// Writes and removes a small file: DIR accepts new files (permissions,
// read-only mounts, a full disk that cannot even take a few bytes).
void check_writable(const fs::path& dir) {
  const fs::path probe = dir / (".write-test-" + std::to_string(::getpid()) + ".tmp-0");
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    const std::string block(4096, '\0');
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) err = errno ? errno : ENOSPC;
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    ::close(fd);
    ::unlink(probe.c_str());
  }
  if (err != 0) throw dir_error(dir, std::string("is not writable: ") + std::strerror(err));
}

void check_free_space(const fs::path& dir, std::uint64_t needed) {
  struct statvfs st {};
  if (needed == 0 || ::statvfs(dir.c_str(), &st) != 0) return;
  const std::uint64_t avail = std::uint64_t(st.f_bavail) * st.f_frsize;
  if (avail < needed)
    throw dir_error(dir, "has " + std::to_string(avail >> 20) + " MiB free; one checkpoint needs about " +
                             std::to_string((needed + (1u << 20) - 1) >> 20) + " MiB");
}

// Moves the checkpoints after `step` (their ckpt files and parts) to a new
// DIR/rewound-<step>[.N]/ (--rewind): an earlier rewind's folder is never
// reused, so nothing is replaced.
std::string set_aside(const CheckpointDir& cd, const std::vector<std::pair<std::uint64_t, fs::path>>& later,
                      std::uint64_t step) {
  const fs::path& dir = cd.dir();
  fs::path to = dir / ("rewound-" + std::to_string(step));
  std::error_code ec;
  for (int n = 2; fs::exists(to, ec); ++n) to = dir / ("rewound-" + std::to_string(step) + "." + std::to_string(n));
  fs::create_directory(to, ec);
  if (ec) throw dir_error(dir, "--rewind: cannot create " + to.string() + ": " + ec.message());
  for (const auto& [s, main] : later)
    for (const fs::path& p : cd.step_files(s)) {
      fs::rename(p, to / p.filename(), ec);
      if (ec) throw dir_error(dir, "--rewind: cannot move " + p.filename().string() + ": " + ec.message());
    }
  return "--rewind: moved " + std::to_string(later.size()) + " later checkpoint(s) to " + to.string();
}

}  // namespace

std::optional<std::uint64_t> CheckpointDir::owner() const {
  std::error_code ec;
  const fs::path f = dir_ / kRunFile;
  if (!fs::is_regular_file(f, ec)) return std::nullopt;
  std::string text;
  try {
    text = io::read_all(f, kWhat);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  unsigned long long id = 0;
  if (std::sscanf(text.c_str(), "run %16llx", &id) != 1) return std::nullopt;
  return id;
}

// Holds an exclusive flock on DIR/signvote-run.lock while this run lives:
// two jobs never write into one directory at the same time.
void CheckpointDir::lock() {
  if (lock_fd_ >= 0) return;  // held since an earlier claim() of this object
  const fs::path f = dir_ / kLockFile;
  lock_fd_ = ::open(f.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw dir_error(dir_, std::string("cannot create its lock file: ") + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
    throw dir_error(dir_, "is in use by another running job (" + f.string() + " is locked)");
}

// The ownership rules of claim() (see checkpoint.h); throws naming DIR.
void CheckpointDir::check_owner(const DirClaim& c, bool resume_in_dir,
                                const std::vector<std::pair<std::uint64_t, fs::path>>& files) const {
  const auto id = owner();
  if (files.empty()) {
    // A run file without checkpoints: a run that has not saved yet, or died first.
    if (id && *id != c.run_id)
      throw dir_error(dir_, "belongs to run " + hex(*id) + ", which has written no checkpoint yet: choose another "
                            "directory, or remove " + (dir_ / kRunFile).string() + " if that run is gone");
    return;
  }
  if (!c.resuming)
    throw dir_error(dir_, "already holds checkpoints: pass --resume " + dir_.string() +
                              " to continue that run, or choose another directory");
  if (id ? *id != c.run_id : !resume_in_dir)
    throw dir_error(dir_, "holds checkpoints of another run (run " + (id ? hex(*id) : std::string("unknown")) +
                              ", this run is " + hex(c.run_id) + "): choose another --checkpoint-dir");
}

std::string CheckpointDir::claim(const DirClaim& c, bool resume_in_dir) {
  std::error_code ec;
  if (fs::exists(dir_, ec) && !fs::is_directory(dir_, ec)) throw dir_error(dir_, "exists and is not a directory");
  fs::create_directories(dir_, ec);
  if (ec) throw dir_error(dir_, "cannot be created: " + ec.message());
  lock();
  const auto files = list_complete();
  check_owner(c, resume_in_dir, files);
  std::string note;  // the directory is ours from here on
  if (int n = remove_stale_temps(dir_)) note = "removed " + std::to_string(n) + " temp file(s) of interrupted writes";
  if (int n = remove_interrupted())
    note += (note.empty() ? "" : "; ") + ("removed the files of " + std::to_string(n) +
                                          " incomplete checkpoint(s) (a worker's part was never written)");
  if (!files.empty()) {
    std::vector<std::pair<std::uint64_t, fs::path>> later;
    for (const auto& f : files)
      if (f.first > c.resume_step) later.push_back(f);
    if (!later.empty() && !c.rewind)
      throw dir_error(dir_, "holds later checkpoints of this run (up to step " + std::to_string(later.back().first) +
                                ") than the one resumed (step " + std::to_string(c.resume_step) +
                                "): resume from the latest, or pass --rewind to set them aside");
    if (!later.empty()) note += (note.empty() ? "" : "; ") + set_aside(*this, later, c.resume_step);
  }
  check_writable(dir_);
  check_free_space(dir_, c.bytes_needed);
  io::write_file_atomic(dir_ / kRunFile, "run " + hex(c.run_id) + "\n", kWhat);
  run_id_ = c.run_id;
  return note;
}

}  // namespace signvote::data
