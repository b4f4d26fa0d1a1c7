// The hosts `signvote launch` may place ranks on, and how many each takes.
// Sources, first found wins: --hostfile, a Slurm allocation
// (SLURM_JOB_NODELIST with SLURM_TASKS_PER_NODE), this machine.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace signvote::launch {

struct Host {
  std::string name;
  int slots = 1;  // ranks it takes
  bool operator==(const Host&) const = default;
};

// An Open MPI hostfile: one "NAME [slots=N] [max_slots=M]" per line, '#'
// comments, blank lines. Throws naming file:line for anything else, a
// repeated host or no host at all.
std::vector<Host> read_hostfile(const std::filesystem::path& file);

// Writes `hosts` as a hostfile (NAME slots=N per line); throws naming the file.
void write_hostfile(const std::filesystem::path& file, const std::vector<Host>& hosts);

// SLURM_TASKS_PER_NODE, e.g. "2(x3),1" -> {2, 2, 2, 1}; throws naming the
// variable on anything else.
std::vector<int> parse_tasks_per_node(const std::string& s);

// Host names, in order, with Slurm's counts: names.size() must equal
// counts.size() (throws naming both variables otherwise).
std::vector<Host> with_slots(const std::vector<std::string>& names, const std::vector<int>& counts);

// The sum of the hosts' slots.
int total_slots(const std::vector<Host>& hosts);

}  // namespace signvote::launch
