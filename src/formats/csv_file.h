// The one CSV writer of a run: the server's metrics file and worker 0's side
// files (<metrics>_val.csv, _snr.csv, _grads.csv).
//
//   CsvFile f("out/run.csv", "step,loss\n", {.overwrite = false, .resume = false});
//   f.row(fmt::format("{},{}\n", step, loss));   // opens the file on first use
//   f.flush();                                   // throws on any write error
//
// No data is lost by surprise:
//  - constructing it only checks: an existing file needs resume (append) or
//    overwrite (replace), else it throws naming the file and --overwrite;
//    the folder must exist and be writable;
//  - the file is created, truncated or appended to at the first row, so a
//    run that fails before round 1 leaves every file as it was;
//  - every write, flush and close error throws "<path>: write failed: <reason>".
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace signvote::data {

struct CsvMode {
  bool overwrite = false;  // --overwrite: replace an existing file
  bool resume = false;     // --resume: append (header only for a new file)
};

class CsvFile {
 public:
  CsvFile() = default;  // no file: row()/flush() must not be called
  CsvFile(std::string path, std::string header, CsvMode mode);

  explicit operator bool() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  // Appends `line` (with its '\n'); buffered until flush().
  void row(std::string_view line);
  // Hands the buffered rows to the OS; throws naming the file on any error.
  void flush();

 private:
  void check_columns();  // throws unless the existing file starts with header_
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  void open();
  [[noreturn]] void fail(int err);

  std::string path_, header_;
  CsvMode mode_;
  bool append_ = false;  // decided at construction: resume onto an existing file
  std::unique_ptr<std::FILE, Close> f_;
};

}  // namespace signvote::data
