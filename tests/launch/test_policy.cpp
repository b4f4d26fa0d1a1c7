// The launcher's decisions (launch/policy.h, launch/hosts.h), without
// running anything: how a finished job is sorted, what fits on the hosts
// left, and the host sources' formats.
#include <catch2/catch.hpp>

#include "launch/hosts.h"
#include "launch/policy.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace signvote::launch;

TEST_CASE("a finished job is sorted by its status and last lines", "[launch]") {
  CHECK(classify(0, {"[rank 0] [info] done"}, "").cause == Cause::done);
  const Verdict bad = classify(1, {"x", "[09:00:00.000] [rank 0] [error] cfg.yaml: key 'optimizer.lr' is out of range", "---"}, "");
  CHECK(bad.cause == Cause::deterministic);
  CHECK(bad.why == "[09:00:00.000] [rank 0] [error] cfg.yaml: key 'optimizer.lr' is out of range");
  const Verdict killed = classify(
      137, {"mpirun noticed that process rank 3 with PID 0 on node n3 exited on signal 9 (Killed)."}, "");
  CHECK(killed.cause == Cause::infrastructure);
  CHECK(killed.host == "n3");
  CHECK(classify(75, {"[rank 0] [error] server rank 0 stopped the run (worker_late) [infrastructure]"}, "").cause ==
        Cause::infrastructure);
  CHECK(classify(1, {"[rank 2] [error] MPI error [infrastructure]", "[rank 0] [error] other"}, "").cause ==
        Cause::infrastructure);  // a tagged line anywhere wins
  CHECK(classify(1, {"ORTE has lost communication with a remote daemon."}, "").cause == Cause::infrastructure);
  CHECK(classify(1, {"  ssh: connect to host n4 port 22: No route to host"}, "").cause == Cause::infrastructure);
  CHECK(classify(143, {}, "").cause == Cause::infrastructure);   // died of SIGTERM, nothing said
  CHECK(classify(2, {}, "").cause == Cause::deterministic);
  CHECK(classify(2, {}, "").why == "mpirun exited 2");
  // The rank's own error beats mpirun's words about the ranks it then killed.
  CHECK(classify(1, {"[rank 1] [error] checkpoint 'x': no array 'params'",
                     "mpirun noticed that process rank 0 with PID 0 on node n1 exited on signal 15 (Terminated)."},
                 "").cause == Cause::deterministic);
  // A PyTorch worker's own message, not mpirun's framed lines after it.
  const Verdict py = classify(1, {"cifar10: d/data_batch_1.bin holds 6146000 bytes, expected 10000 records",
                                  "-----------------------------------------------------------------",
                                  "mpirun detected that one or more processes exited with non-zero status",
                                  "  Exit code:    1",
                                  "-----------------------------------------------------------------"}, "");
  CHECK(py.cause == Cause::deterministic);
  CHECK(py.why == "cifar10: d/data_batch_1.bin holds 6146000 bytes, expected 10000 records");
  // A program that is not there: mpirun exits 132, but a restart would fail alike.
  const Verdict missing = classify(132, {"-----------------------------------------------------------------",
                                         "mpirun was unable to launch the specified application as it could not access",
                                         "or execute an executable:", "", "Executable: /nonexistent/python", "Node: n1",
                                         "-----------------------------------------------------------------",
                                         "2 total processes failed to start"}, "");
  CHECK(missing.cause == Cause::deterministic);
  CHECK(missing.why == "mpirun could not start '/nonexistent/python' (no such file, or not executable)");
  const Verdict stopped = classify(143, {"[rank 0] [error] x"}, "a round stalled");
  CHECK(stopped.cause == Cause::infrastructure);
  CHECK(stopped.why == "a round stalled");
}

TEST_CASE("restart shape: the workers that fit, servers per host when colocated", "[launch]") {
  std::string why;
  const std::vector<Host> six{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1}, {"f", 1}};
  auto s = fit({5, 1}, 6, {six.begin(), six.end() - 1}, &why);
  REQUIRE(s);
  CHECK(s->workers == 4);
  CHECK(s->servers == 1);
  s = fit({5, 1}, 6, six, &why);  // every host back: never more than the first try's workers
  CHECK(s->workers == 5);
  // Colocated shards, one server + one worker per node: 7 nodes -> 6.
  std::vector<Host> seven;
  for (int i = 0; i < 7; ++i) seven.push_back({fmt::format("n{}", i), 2});
  s = fit({7, 7}, 7, {seven.begin(), seven.end() - 1}, &why);
  CHECK(s->servers == 6);
  CHECK(s->workers == 6);
  s = fit({7, 3}, 7, {seven.begin(), seven.end() - 1}, &why);  // 3 shards on 7 nodes: not per host
  CHECK(s->servers == 3);
  CHECK(s->workers == 7);
  CHECK_FALSE(fit({5, 1}, 6, {{"a", 1}}, &why));
  CHECK_THAT(why, Catch::Contains("no room for a worker"));
}

TEST_CASE("host sources: hostfile lines and Slurm's task counts", "[launch]") {
  const auto f = std::filesystem::temp_directory_path() / "signvote_test_hostfile";
  std::ofstream(f) << "# nodes\nn1 slots=4\n\n  n2   slots=2 max_slots=8 # gpu\nn3\n";
  CHECK(read_hostfile(f) == std::vector<Host>{{"n1", 4}, {"n2", 2}, {"n3", 1}});
  CHECK(total_slots(read_hostfile(f)) == 7);
  std::ofstream(f) << "n1 slots=4\nn1 slots=2\n";
  CHECK_THROWS_WITH(read_hostfile(f), Catch::Contains("line 2: host 'n1' is listed twice"));
  std::ofstream(f) << "n1 cpus=4\n";
  CHECK_THROWS_WITH(read_hostfile(f), Catch::Contains("line 1: 'cpus=4' is not slots=N"));
  std::ofstream(f) << "# nothing\n";
  CHECK_THROWS_WITH(read_hostfile(f), Catch::Contains("no host in it"));
  std::filesystem::remove(f);
  CHECK_THROWS_WITH(read_hostfile(f), Catch::Contains("cannot read it"));
  CHECK(parse_tasks_per_node("2(x3),1") == std::vector<int>{2, 2, 2, 1});
  CHECK(parse_tasks_per_node("4") == std::vector<int>{4});
  CHECK_THROWS_WITH(parse_tasks_per_node("2(x3"), Catch::Contains("SLURM_TASKS_PER_NODE"));
  CHECK_THROWS_WITH(parse_tasks_per_node("0"), Catch::Contains("not a positive count"));
  CHECK_THROWS_WITH(with_slots({"a", "b"}, {1}), Catch::Contains("names 2 hosts"));
}
