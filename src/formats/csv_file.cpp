#include "formats/csv_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace signvote::data {
namespace fs = std::filesystem;

CsvFile::CsvFile(std::string path, std::string header, CsvMode mode)
    : path_(std::move(path)), header_(std::move(header)), mode_(mode) {
  std::error_code ec;
  const auto st = fs::status(path_, ec);
  const bool exists = fs::exists(st);
  if (exists && !fs::is_regular_file(st)) throw std::runtime_error("'" + path_ + "' exists and is not a regular file");
  if (exists && !mode.resume && !mode.overwrite)
    throw std::runtime_error("'" + path_ + "' already exists (pass --overwrite to replace it)");
  fs::path dir = fs::path(path_).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("'" + path_ + "': folder '" + dir.string() + "' does not exist");
  if (::access(dir.c_str(), W_OK) != 0 || (exists && ::access(path_.c_str(), W_OK) != 0))
    throw std::runtime_error("'" + path_ + "': cannot write there: " + std::strerror(errno));
  append_ = mode.resume && exists;
  if (append_) check_columns();
}

// Appending rows under another header would mix columns: the file's first
// line must be this writer's header (an empty file gets it on open()).
void CsvFile::check_columns() {
  std::FILE* f = std::fopen(path_.c_str(), "r");
  if (!f) throw std::runtime_error("'" + path_ + "': cannot read it to append: " + std::strerror(errno));
  std::string first;
  for (int c; (c = std::fgetc(f)) != EOF && c != '\n';) first.push_back(static_cast<char>(c));
  std::fclose(f);
  const std::string want = header_.substr(0, header_.find('\n'));
  if (first.empty()) append_ = false;
  else if (first != want)
    throw std::runtime_error("'" + path_ + "' has the columns '" + first + "', this run writes '" + want +
                             "': pass another file to continue in");
}

void CsvFile::open() {
  f_.reset(std::fopen(path_.c_str(), append_ ? "a" : "w"));
  if (!f_) fail(errno);
  if (!append_ && std::fputs(header_.c_str(), f_.get()) < 0) fail(errno);
}

void CsvFile::row(std::string_view line) {
  if (!f_) open();
  if (std::fwrite(line.data(), 1, line.size(), f_.get()) != line.size()) fail(errno);
}

// fflush hands the rows to the kernel, which reports a full disk (ENOSPC)
// or quota there; no fsync per row (the toy writes thousands of rows a second).
void CsvFile::flush() {
  if (!f_) return;  // no row yet: no file
  if (std::fflush(f_.get()) != 0 || std::ferror(f_.get())) fail(errno);
}

void CsvFile::fail(int err) {
  throw std::runtime_error("'" + path_ + "': write failed: " + std::strerror(err ? err : EIO));
}

}  // namespace signvote::data
