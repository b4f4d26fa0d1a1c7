// CheckpointDir: ckpt-<step>.ckpt files, the latest.ckpt symlink, pruning.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "formats/checkpoint.h"
#include "formats/io_util.h"

namespace signvote::data {
namespace fs = std::filesystem;
namespace {

constexpr const char* kLatest = "latest.ckpt";

// "ckpt-<digits>.ckpt" -> step; nullopt for anything else (temp files,
// latest.ckpt, foreign files).
std::optional<std::uint64_t> parse_step(const std::string& name) {
  constexpr std::string_view prefix = "ckpt-", suffix = ".ckpt";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return std::nullopt;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size() - suffix.size();
  std::uint64_t step = 0;
  auto [end, err] = std::from_chars(first, last, step);
  if (err != std::errc() || end != last) return std::nullopt;
  return step;
}

}  // namespace

CheckpointDir::CheckpointDir(fs::path dir, int keep_last, bool allow_overwrite)
    : dir_(std::move(dir)), keep_last_(keep_last), allow_overwrite_(allow_overwrite) {
  if (keep_last < 0) throw std::invalid_argument("checkpoint keep_last must be >= 0");
}

CheckpointDir::~CheckpointDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::string CheckpointDir::file_name(std::uint64_t step) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "ckpt-%012llu.ckpt", static_cast<unsigned long long>(step));
  return buf;
}

fs::path CheckpointDir::save(const Checkpoint& ckpt, std::uint64_t step) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("checkpoint: cannot create directory " + dir_.string() +
                                   ": " + ec.message());
  const fs::path file = dir_ / file_name(step);
  const fs::path link = dir_ / kLatest;
  if (!allow_overwrite_ && fs::exists(fs::symlink_status(file, ec)))
    throw std::runtime_error("checkpoint " + file.string() +
                             " already exists (another run's?); refusing to overwrite");
  const auto link_status = fs::symlink_status(link, ec);
  if (fs::exists(link_status) && !fs::is_symlink(link_status))
    throw std::runtime_error("checkpoint: " + link.string() +
                             " exists and is not a symlink; refusing to replace it");
  write_checkpoint_atomic(file, ckpt);
  io::replace_symlink_atomic(link, file.filename().string(), "checkpoint");
  prune(step);
  return file;
}

std::vector<std::pair<std::uint64_t, fs::path>> CheckpointDir::list() const {
  std::vector<std::pair<std::uint64_t, fs::path>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (auto step = parse_step(it->path().filename().string())) out.emplace_back(*step, it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<fs::path> CheckpointDir::latest() const {
  std::error_code ec;
  const fs::path link = dir_ / kLatest;
  if (fs::is_symlink(fs::symlink_status(link, ec))) {
    const fs::path target = fs::read_symlink(link, ec);
    if (!ec && parse_step(target.filename().string()) && fs::is_regular_file(dir_ / target, ec))
      return dir_ / target;
  }
  auto all = list();  // no usable symlink (e.g. crash before it was updated)
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

void CheckpointDir::prune(std::uint64_t newest_step) const {
  if (keep_last_ == 0 || !run_id_ || owner() != run_id_) return;  // not ours to delete
  auto all = list();
  const std::size_t keep = static_cast<std::size_t>(keep_last_);
  for (std::size_t i = 0; i + keep < all.size(); ++i) {
    if (all[i].first == newest_step) continue;  // never the one just written
    std::error_code ec;
    fs::remove(all[i].second, ec);  // best effort: a leftover file is harmless
  }
}

}  // namespace signvote::data
