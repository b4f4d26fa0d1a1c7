#include "formats/io_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace signvote::data::io {
namespace {

std::runtime_error sys_error(std::string_view what, const std::string& action,
                             const std::filesystem::path& file, int err) {
  return std::runtime_error(std::string(what) + ": " + action + " " + file.string() + ": " +
                            std::strerror(err));
}

std::filesystem::path dir_of(const std::filesystem::path& file) {
  auto dir = file.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

// fsync a directory so a rename inside it survives a crash.
void fsync_dir(const std::filesystem::path& dir, std::string_view what) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw sys_error(what, "cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw sys_error(what, "cannot fsync directory", dir, err);
}

// Writes all of `bytes` to fd, retrying short writes and EINTR; returns errno or 0.
int write_all(int fd, std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

ReadFile::ReadFile(const std::filesystem::path& file, std::string_view what)
    : file_(file.string()), what_(what) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw sys_error(what, "cannot open", file, errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(what_ + ": cannot read " + file_ + ": not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

ReadFile::~ReadFile() {
  if (fd_ >= 0) ::close(fd_);
}

void ReadFile::read_at(std::uint64_t offset, void* dst, std::size_t n) const {
  auto* out = static_cast<char*>(dst);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw sys_error(what_, "read failed on", file_, errno);
    if (got == 0)
      throw std::runtime_error(what_ + ": " + file_ + ": unexpected end of file at byte " +
                               std::to_string(offset + done));
    done += static_cast<std::size_t>(got);
  }
}

std::string read_all(const std::filesystem::path& file, std::string_view what) {
  ReadFile f(file, what);
  std::string bytes(f.size(), '\0');
  f.read_at(0, bytes.data(), bytes.size());
  return bytes;
}

std::filesystem::path temp_sibling(const std::filesystem::path& file) {
  static std::atomic<std::uint64_t> counter{0};
  // Built with += (GCC 12 gives a false -Wrestrict for "." + std::string).
  std::string name = ".";
  name += file.filename().string();
  name += ".tmp-";
  name += std::to_string(::getpid());
  name += '-';
  name += std::to_string(counter++);
  return dir_of(file) / name;
}

void write_file_atomic(const std::filesystem::path& file, std::string_view bytes,
                       std::string_view what) {
  const auto tmp = temp_sibling(file);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw sys_error(what, "cannot create temp file for", file, errno);
  int err = write_all(fd, bytes);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), file.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());  // `file` itself was never touched
    throw sys_error(what, "cannot write", file, err);
  }
  fsync_dir(dir_of(file), what);
}

void replace_symlink_atomic(const std::filesystem::path& link, const std::string& target,
                            std::string_view what) {
  const auto tmp = temp_sibling(link);
  if (::symlink(target.c_str(), tmp.c_str()) != 0)
    throw sys_error(what, "cannot create symlink for", link, errno);
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw sys_error(what, "cannot update symlink", link, err);
  }
  fsync_dir(dir_of(link), what);
}

}  // namespace signvote::data::io
