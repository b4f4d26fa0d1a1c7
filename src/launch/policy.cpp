#include "launch/policy.h"

#include "signvote/exit_status.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <regex>
#include <string_view>

namespace signvote::launch {
namespace {

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// mpirun's and the ranks' words for a lost process, daemon or link (Open MPI 4).
constexpr std::array<std::string_view, 9> kInfrastructure = {
    "exited on signal",  // "mpirun noticed that process rank 3 with PID 7 on node n3 exited on signal 9 (Killed)."
    "lost communication",       // "ORTE has lost communication with a remote daemon."
    "daemon has unexpectedly",  // "An ORTE daemon has unexpectedly failed after launch"
    "unable to reliably start",  // "ORTE was unable to reliably start one or more daemons."
    "unexpectedly disconnected",  // "An MPI communication peer process has unexpectedly disconnected"
    "connection to lifeline",   // an orted lost mpirun
    "ssh: connect to host",     // a host that does not answer
    "Could not resolve hostname",
    "MPI_ERR_PROC_FAILED"};

// The host a line names ("... on node NAME ..."), or "".
std::string named_host(const std::string& line) {
  static const std::regex node(R"(on node ([^ ,]+))");
  std::smatch m;
  return std::regex_search(line, m, node) ? m[1].str() : std::string();
}

bool is_rule(const std::string& line) {  // mpirun frames its messages in lines of dashes
  return line.size() >= 10 && line.find_first_not_of('-') == std::string::npos;
}

// The last line that carries the job's own error ("[error]"), else the last
// non-empty line outside mpirun's framed messages (a PyTorch worker's own
// message or traceback), else the last non-empty line.
std::string last_error(const std::vector<std::string>& lines) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (contains(*it, "[error]")) return *it;
  std::string outside, any;
  bool framed = false;
  for (const std::string& line : lines) {
    if (is_rule(line)) {
      framed = !framed;
      continue;
    }
    if (line.find_first_not_of(" -\t") == std::string::npos) continue;
    any = line;
    if (!framed) outside = line;
  }
  return outside.empty() ? any : outside;
}

// mpirun could not start the program (a wrong path, not executable): it
// exits 132, but the same line would fail again. "mpirun could not start
// <the Executable: line's program>", or nullopt.
std::optional<std::string> unstartable(const std::vector<std::string>& lines) {
  bool said = false;
  for (const std::string& line : lines) {
    said = said || contains(line, "unable to launch the specified application") ||
           contains(line, "unable to find the specified executable");
    const auto at = line.find("Executable:");
    if (said && at != std::string::npos) {
      const std::string program = line.substr(line.find_first_not_of(' ', at + 11));
      return fmt::format("mpirun could not start '{}' (no such file, or not executable)", program);
    }
  }
  if (said) return std::string("mpirun could not start the program (no such file, or not executable)");
  return std::nullopt;
}

}  // namespace

const char* cause_name(Cause c) {
  switch (c) {
    case Cause::done: return "done";
    case Cause::deterministic: return "deterministic";
    case Cause::infrastructure: return "infrastructure";
  }
  return "?";
}

Verdict classify(int status, const std::vector<std::string>& lines, const std::string& stopped) {
  if (!stopped.empty()) return {Cause::infrastructure, stopped, ""};
  if (status == exit_status::ok) return {Cause::done, "", ""};
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (contains(*it, "[infrastructure]")) return {Cause::infrastructure, *it, named_host(*it)};
  if (const auto program = unstartable(lines)) return {Cause::deterministic, *program, ""};
  const std::string why = last_error(lines);
  const bool own_error = contains(why, "[error]");  // a rank's own untagged error: it would fail again
  if (own_error && status != exit_status::infrastructure && status < 128) return {Cause::deterministic, why, ""};
  for (const std::string_view word : kInfrastructure)
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
      if (contains(*it, word)) return {Cause::infrastructure, *it, named_host(*it)};
  if (status == exit_status::infrastructure || status >= 128)
    return {Cause::infrastructure, why.empty() ? fmt::format("mpirun exited {}", status) : why, named_host(why)};
  return {Cause::deterministic, why.empty() ? fmt::format("mpirun exited {}", status) : why, ""};
}

std::optional<Shape> fit(const Shape& first, int first_hosts, const std::vector<Host>& hosts, std::string* why) {
  const bool per_host = first.servers > 1 && first.servers == first_hosts;
  Shape s;
  s.servers = per_host ? static_cast<int>(hosts.size()) : first.servers;
  const int slots = total_slots(hosts);
  s.workers = std::min(first.workers, slots - s.servers);
  if (hosts.empty() || s.workers < 1) {
    *why = fmt::format("{} host(s) with {} slot(s) left: no room for a worker beside {} server(s)", hosts.size(), slots,
                       s.servers);
    return std::nullopt;
  }
  return s;
}

}  // namespace signvote::launch
