// CheckpointDir: ckpt-<step>.ckpt files and their per-worker parts, the
// latest.ckpt symlink, completeness, pruning.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "formats/checkpoint.h"
#include "formats/io_util.h"

namespace signvote::data {
namespace fs = std::filesystem;
namespace {

constexpr const char* kLatest = "latest.ckpt";

// "ckpt-<digits>.ckpt" -> step; nullopt for anything else (temp files,
// latest.ckpt, parts, foreign files).
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

struct Part {
  std::uint64_t step = 0;
  int k = 0, workers = 0;
  fs::path path;
};

// "ckpt-<12 digits>.part-<k>-of-<W>" exactly as part_name writes it; nullopt otherwise.
std::optional<Part> parse_part(const fs::path& path) {
  const std::string name = path.filename().string();
  unsigned long long step = 0;
  int k = 0, w = 0;
  if (std::sscanf(name.c_str(), "ckpt-%12llu.part-%d-of-%d", &step, &k, &w) != 3 || k < 0 || w < 1 || k >= w ||
      name != CheckpointDir::part_name(step, k, w))
    return std::nullopt;
  return Part{step, k, w, path};
}

// One scan of DIR: the ckpt files (ascending step) and the parts.
struct Listing {
  std::vector<std::pair<std::uint64_t, fs::path>> mains;
  std::vector<Part> parts;

  bool has_main(std::uint64_t step) const {
    return std::any_of(mains.begin(), mains.end(), [&](const auto& m) { return m.first == step; });
  }
  bool has_part(std::uint64_t step, int k, int w) const {
    return std::any_of(parts.begin(), parts.end(),
                       [&](const Part& p) { return p.step == step && p.k == k && p.workers == w; });
  }
  // The ckpt file, and when part 0 of some W lies beside it, parts 1..W-1 of W.
  bool complete(std::uint64_t step) const {
    if (!has_main(step)) return false;
    bool split = false;
    for (const Part& p : parts) {
      if (p.step != step || p.k != 0) continue;
      split = true;
      int k = 1;
      while (k < p.workers && has_part(step, k, p.workers)) ++k;
      if (k == p.workers) return true;
    }
    return !split;
  }
};

Listing scan(const fs::path& dir) {
  Listing l;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (auto step = parse_step(it->path().filename().string())) l.mains.emplace_back(*step, it->path());
    else if (auto part = parse_part(it->path())) l.parts.push_back(*part);
  }
  std::sort(l.mains.begin(), l.mains.end());
  return l;
}

void create_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("checkpoint: cannot create directory " + dir.string() + ": " + ec.message());
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);  // best effort: a leftover file is harmless (never complete, never resumed)
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

std::string CheckpointDir::part_name(std::uint64_t step, int k, int workers) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "ckpt-%012llu.part-%d-of-%d", static_cast<unsigned long long>(step), k, workers);
  return buf;
}

fs::path CheckpointDir::save(const Checkpoint& ckpt, std::uint64_t step) {
  create_dir(dir_);
  std::error_code ec;
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

fs::path CheckpointDir::save_part(const Checkpoint& part, std::uint64_t step, int k, int workers) const {
  create_dir(dir_);
  const fs::path file = dir_ / part_name(step, k, workers);
  write_checkpoint_atomic(file, part);
  return file;
}

std::vector<std::pair<std::uint64_t, fs::path>> CheckpointDir::list() const { return scan(dir_).mains; }

std::vector<std::pair<std::uint64_t, fs::path>> CheckpointDir::list_complete() const {
  const Listing l = scan(dir_);
  std::vector<std::pair<std::uint64_t, fs::path>> out;
  for (const auto& m : l.mains)
    if (l.complete(m.first)) out.push_back(m);
  return out;
}

std::vector<fs::path> CheckpointDir::step_files(std::uint64_t step) const {
  const Listing l = scan(dir_);
  std::vector<fs::path> out;
  for (const auto& m : l.mains)
    if (m.first == step) out.push_back(m.second);
  for (const Part& p : l.parts)
    if (p.step == step) out.push_back(p.path);
  return out;
}

std::optional<fs::path> CheckpointDir::latest() const {
  std::error_code ec;
  const fs::path link = dir_ / kLatest;
  const Listing l = scan(dir_);
  if (fs::is_symlink(fs::symlink_status(link, ec))) {
    const fs::path target = fs::read_symlink(link, ec);
    const auto step = ec ? std::nullopt : parse_step(target.filename().string());
    if (step && fs::is_regular_file(dir_ / target, ec) && l.complete(*step)) return dir_ / target;
  }
  // no usable symlink (e.g. a crash before it was updated, or a part missing): the newest complete step
  for (auto it = l.mains.rbegin(); it != l.mains.rend(); ++it)
    if (l.complete(it->first)) return it->second;
  return std::nullopt;
}

void CheckpointDir::prune(std::uint64_t newest_step) const {
  if (keep_last_ == 0 || !run_id_ || owner() != run_id_) return;  // not ours to delete
  const Listing l = scan(dir_);
  // Keep the newest keep_last complete steps and everything after the oldest
  // of them (the newest may still wait for other workers' parts).
  std::optional<std::uint64_t> oldest_kept;
  int kept = 0;
  for (auto it = l.mains.rbegin(); it != l.mains.rend() && kept < keep_last_; ++it)
    if (l.complete(it->first)) oldest_kept = it->first, ++kept;
  if (!oldest_kept) return;
  for (const auto& [step, path] : l.mains)
    if (step < *oldest_kept && step != newest_step) remove_quietly(path);  // never the one just written
  for (const Part& p : l.parts)
    if (p.step < *oldest_kept) remove_quietly(p.path);
}

int CheckpointDir::remove_interrupted() const {
  const Listing l = scan(dir_);
  std::set<std::uint64_t> gone;
  for (const auto& [step, path] : l.mains)
    if (!l.complete(step)) remove_quietly(path), gone.insert(step);
  for (const Part& p : l.parts)
    if (!l.has_main(p.step) || gone.count(p.step)) remove_quietly(p.path), gone.insert(p.step);
  return static_cast<int>(gone.size());
}

void add_part(Checkpoint& c, const fs::path& file, int k) {
  const auto parts = c.scalars.find("parts");
  if (parts == c.scalars.end() || static_cast<std::uint64_t>(k) >= parts->second) return;
  const std::uint64_t step = require_scalar(c, "step", file);
  const fs::path path = file.parent_path() / CheckpointDir::part_name(step, k, static_cast<int>(parts->second));
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw std::runtime_error("checkpoint '" + file.string() + "': worker " + std::to_string(k) + "'s part '" +
                             path.string() + "' is missing (each worker writes its own part: was the checkpoint "
                             "directory shared by every host, and complete?)");
  const Checkpoint part = read_checkpoint(path);
  const auto run = c.scalars.find("run_id");
  if (require_scalar(part, "step", path) != step ||
      (run != c.scalars.end() && require_scalar(part, "run_id", path) != run->second))
    throw std::runtime_error("checkpoint part '" + path.string() + "' belongs to another step or run than '" +
                             file.string() + "'");
  for (const auto& [name, values] : part.arrays) c.arrays[name] = values;
}

Checkpoint read_checkpoint_with_parts(const fs::path& file) {
  Checkpoint c = read_checkpoint(file);
  const auto parts = c.scalars.find("parts");
  for (std::uint64_t k = 0; parts != c.scalars.end() && k < parts->second; ++k) add_part(c, file, static_cast<int>(k));
  return c;
}

}  // namespace signvote::data
