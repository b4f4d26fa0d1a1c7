#include "data/cifar10.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <system_error>

#include "formats/io_util.h"

namespace signvote::data {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kWhat = "cifar10";
constexpr std::size_t kChunkRecords = 1024;  // records per read (3 MB buffer)

std::runtime_error error(const std::string& msg) {
  return std::runtime_error(std::string(kWhat) + ": " + msg);
}

// One CIFAR file with its validated record count.
struct FileInfo {
  fs::path path;
  std::size_t records = 0;
};

FileInfo inspect(const fs::path& file) {
  std::error_code ec;
  const bool is_file = fs::is_regular_file(file, ec);
  if (!is_file && fs::exists(file, ec))
    throw error("cannot read " + file.string() + ": not a regular file");
  if (!is_file) throw error(file.string() + " not found");
  const std::uint64_t bytes = fs::file_size(file, ec);
  if (ec) throw error("cannot read " + file.string() + ": " + ec.message());
  if (bytes % kRecordBytes != 0)
    throw error(file.string() + ": size " + std::to_string(bytes) +
                " bytes is not a multiple of the " + std::to_string(kRecordBytes) +
                "-byte record (truncated or not CIFAR-10 binary)");
  return {file, static_cast<std::size_t>(bytes / kRecordBytes)};
}

// "data_batch_<N>.bin" -> N, or -1 if the name does not match.
long batch_number(const std::string& name) {
  constexpr std::string_view prefix = "data_batch_", suffix = ".bin";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return -1;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size() - suffix.size();
  long n = -1;
  auto [end, err] = std::from_chars(first, last, n);
  return (err == std::errc() && end == last) ? n : -1;
}

// Appends records [first, first+count) of `f` to `out`, validating labels.
void read_records(const FileInfo& f, std::size_t first, std::size_t count, Dataset& out) {
  io::ReadFile file(f.path, kWhat);
  if (file.size() != f.records * kRecordBytes)
    throw error(f.path.string() + ": file changed size while reading");
  std::vector<std::uint8_t> buf(std::min(count, kChunkRecords) * kRecordBytes);
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(count - done, kChunkRecords);
    file.read_at((first + done) * kRecordBytes, buf.data(), n * kRecordBytes);
    for (std::size_t r = 0; r < n; ++r) {
      const std::uint8_t* rec = buf.data() + r * kRecordBytes;
      if (rec[0] >= kNumClasses)
        throw error(f.path.string() + ": record " + std::to_string(first + done + r) +
                    " has label " + std::to_string(rec[0]) + " (expected 0..9)");
      out.labels.push_back(rec[0]);
      out.pixels.insert(out.pixels.end(), rec + 1, rec + kRecordBytes);
    }
    done += n;
  }
}

// Global record range [begin, end) across the concatenation of `files`.
Dataset read_range(const std::vector<FileInfo>& files, std::size_t begin, std::size_t end) {
  Dataset ds;
  ds.labels.reserve(end - begin);
  ds.pixels.reserve((end - begin) * kImageBytes);
  std::size_t offset = 0;  // global index of the current file's first record
  for (const auto& f : files) {
    const std::size_t lo = std::max(begin, offset), hi = std::min(end, offset + f.records);
    if (lo < hi) read_records(f, lo - offset, hi - lo, ds);
    offset += f.records;
  }
  return ds;
}

// The training files of `dir` checked against `layout` (see cifar10.h).
std::vector<FileInfo> train_files(const fs::path& dir, const Cifar10Layout& layout) {
  const auto found = cifar10_train_files(dir);
  std::vector<FileInfo> files;
  if (layout.files == 0) {
    for (const auto& p : found) files.push_back(inspect(p));
    return files;
  }
  const std::string expect = " (data.train_files = " + std::to_string(layout.files) + ": data_batch_1.." +
                             std::to_string(layout.files) + ".bin)";
  for (const auto& p : found)
    if (batch_number(p.filename().string()) > static_cast<long>(layout.files))
      throw error("unexpected " + p.string() + expect);
  for (std::size_t k = 1; k <= layout.files; ++k) {
    const fs::path p = dir / ("data_batch_" + std::to_string(k) + ".bin");
    files.push_back(inspect(p));  // "not found" names the missing file
    if (layout.records_per_file > 0 && files.back().records != layout.records_per_file)
      throw error(p.string() + " holds " + std::to_string(files.back().records) + " records, expected " +
                  std::to_string(layout.records_per_file) + " (data.records_per_file): empty or cut short?");
  }
  return files;
}

}  // namespace

std::array<std::size_t, kNumClasses> Dataset::class_counts() const {
  std::array<std::size_t, kNumClasses> counts{};
  for (std::uint8_t l : labels) ++counts.at(l);
  return counts;
}

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
  }
  return "?";
}

Split parse_split(std::string_view name) {
  for (Split s : {Split::train, Split::val, Split::test})
    if (name == split_name(s)) return s;
  throw std::invalid_argument("unknown split '" + std::string(name) +
                              "' (expected train, val or test)");
}

std::vector<fs::path> cifar10_train_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw error("directory " + dir.string() + " does not exist");
  if (!fs::is_directory(dir, ec)) throw error(dir.string() + " is not a directory");
  std::vector<std::pair<long, fs::path>> found;
  fs::directory_iterator it(dir, ec);
  if (ec) throw error("cannot list directory " + dir.string() + ": " + ec.message());
  for (const auto& entry : it) {
    const long n = batch_number(entry.path().filename().string());
    if (n >= 0) found.emplace_back(n, entry.path());
  }
  if (found.empty())
    throw error("no data_batch_*.bin files in " + dir.string() +
                " (get them with scripts/download_cifar10.sh)");
  std::sort(found.begin(), found.end());
  std::vector<fs::path> files;
  for (auto& [n, p] : found) files.push_back(std::move(p));
  return files;
}

Dataset read_cifar10_file(const fs::path& file) {
  const FileInfo f = inspect(file);
  Dataset ds = read_range({f}, 0, f.records);
  ds.source = file.string();
  return ds;
}

Dataset load_cifar10(const fs::path& dir, Split split, std::size_t val_count, const Cifar10Layout& layout) {
  if (split == Split::test) {
    const fs::path test = dir / "test_batch.bin";
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw error("directory " + dir.string() + " does not exist");
    if (!fs::exists(test, ec))
      throw error(test.string() +
                  " not found: this copy has no test split (use --split val for a held-out "
                  "part of the training files)");
    Dataset ds = read_cifar10_file(test);
    if (ds.size() == 0) throw error(test.string() + " holds no records");
    ds.source = test.string() + " [test]";
    return ds;
  }
  const std::vector<FileInfo> files = train_files(dir, layout);
  std::size_t total = 0;
  for (const auto& f : files) total += f.records;
  if (split == Split::val && val_count == 0) throw error("val split requested with val_count 0");
  if (val_count >= total)
    throw error("val_count " + std::to_string(val_count) + " leaves no training records (" +
                dir.string() + " holds " + std::to_string(total) + ")");
  const std::size_t cut = total - val_count;  // first val record
  Dataset ds = split == Split::train ? read_range(files, 0, cut) : read_range(files, cut, total);
  ds.source = dir.string() + " [" + split_name(split) + ", val_count " +
              std::to_string(val_count) + "]";
  return ds;
}

}  // namespace signvote::data
