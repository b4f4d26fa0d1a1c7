#include "launch/hosts.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>

namespace signvote::launch {
namespace {

int to_int(const std::string& s, const std::string& what) {
  int n = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || n < 1)
    throw std::runtime_error(fmt::format("{}: '{}' is not a positive count", what, s));
  return n;
}

// "key=N" with N a positive int, or -1 if `word` is not "key=...".
int keyed_count(const std::string& word, const std::string& key, const std::string& where) {
  if (word.rfind(key + "=", 0) != 0) return -1;
  try {
    return to_int(word.substr(key.size() + 1), where);
  } catch (const std::runtime_error&) {
    throw std::runtime_error(fmt::format("{}: '{}' needs a positive count", where, word));
  }
}

}  // namespace

std::vector<Host> read_hostfile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(fmt::format("--hostfile '{}': cannot read it", file.string()));
  std::vector<Host> hosts;
  std::set<std::string> seen;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    Host h;
    if (!(words >> h.name)) continue;
    const std::string where = fmt::format("--hostfile '{}' line {}", file.string(), no);
    for (std::string w; words >> w;) {
      const int slots = keyed_count(w, "slots", where);
      if (slots > 0) h.slots = slots;
      else if (keyed_count(w, "max_slots", where) < 0)
        throw std::runtime_error(fmt::format("{}: '{}' is not slots=N or max_slots=N", where, w));
    }
    if (!seen.insert(h.name).second) throw std::runtime_error(fmt::format("{}: host '{}' is listed twice", where, h.name));
    hosts.push_back(h);
  }
  if (hosts.empty()) throw std::runtime_error(fmt::format("--hostfile '{}': no host in it", file.string()));
  return hosts;
}

void write_hostfile(const std::filesystem::path& file, const std::vector<Host>& hosts) {
  std::ofstream out(file, std::ios::trunc);
  for (const Host& h : hosts) out << h.name << " slots=" << h.slots << "\n";
  out.flush();
  if (!out) throw std::runtime_error(fmt::format("cannot write the hostfile '{}'", file.string()));
}

std::vector<int> parse_tasks_per_node(const std::string& s) {
  std::vector<int> out;
  std::istringstream parts(s);
  const std::string what = "SLURM_TASKS_PER_NODE '" + s + "'";
  for (std::string p; std::getline(parts, p, ',');) {
    const auto open = p.find("(x");
    if (open == std::string::npos) {
      out.push_back(to_int(p, what));
      continue;
    }
    if (p.back() != ')') throw std::runtime_error(fmt::format("{}: '{}' is not N or N(xK)", what, p));
    const int n = to_int(p.substr(0, open), what), k = to_int(p.substr(open + 2, p.size() - open - 3), what);
    out.insert(out.end(), static_cast<size_t>(k), n);
  }
  if (out.empty()) throw std::runtime_error(what + ": empty");
  return out;
}

std::vector<Host> with_slots(const std::vector<std::string>& names, const std::vector<int>& counts) {
  if (names.size() != counts.size())
    throw std::runtime_error(fmt::format("SLURM_JOB_NODELIST names {} hosts but SLURM_TASKS_PER_NODE counts {}",
                                         names.size(), counts.size()));
  std::vector<Host> hosts;
  for (size_t i = 0; i < names.size(); ++i) hosts.push_back({names[i], counts[i]});
  return hosts;
}

int total_slots(const std::vector<Host>& hosts) {
  return std::accumulate(hosts.begin(), hosts.end(), 0, [](int a, const Host& h) { return a + h.slots; });
}

}  // namespace signvote::launch
