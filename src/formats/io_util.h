// Internal POSIX file helpers for signvote_data (not installed API): exact
// reads with one-line errors naming the file, and atomic replace-by-rename.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace signvote::data::io {

// RAII read-only file descriptor. Throws std::runtime_error
// "<what>: cannot open <file>: <strerror>" on failure.
class ReadFile {
 public:
  ReadFile(const std::filesystem::path& file, std::string_view what);
  ~ReadFile();
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;

  std::uint64_t size() const { return size_; }
  // Reads exactly `n` bytes at byte `offset` into dst, else throws
  // "<what>: <file>: read failed ...".
  void read_at(std::uint64_t offset, void* dst, std::size_t n) const;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string file_;
  std::string what_;
};

// Whole file into a string (checkpoints: up to a few hundred MB).
std::string read_all(const std::filesystem::path& file, std::string_view what);

// Writes `bytes` to a fresh temp file in file's directory, fsyncs it, renames
// it over `file` and fsyncs the directory. On any failure the temp file is
// removed and `file` is left exactly as it was; throws one line naming file.
void write_file_atomic(const std::filesystem::path& file, std::string_view bytes,
                       std::string_view what);

// Points `link` at `target` (a relative name) atomically: symlink at a temp
// name, then rename over `link`, then fsync the directory.
void replace_symlink_atomic(const std::filesystem::path& link, const std::string& target,
                            std::string_view what);

// A unique temp name next to `file`: ".<name>.tmp-<pid>-<counter>".
std::filesystem::path temp_sibling(const std::filesystem::path& file);

}  // namespace signvote::data::io
