// The one table of refused key combinations (config/combinations.h): every
// entry fires on a config made to hit it, with the line parse_config prints;
// every entry is documented; and the combinations the exchanges made
// possible parse.
#include "config/combinations.h"
#include "signvote/config.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using signvote::parse_config;

const char* kVote = "cluster:\n  workers: 4\n";

std::string error_of(const std::vector<std::string>& sets) {
  try {
    parse_config(kVote, "t.yaml", sets);
  } catch (const signvote::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("combinations: exchanges, hierarchy, overlap and buckets compose", "[config]") {
  const std::vector<std::vector<std::string>> ok = {
      {"cluster.hierarchy=node", "aggregation.overlap=true"},
      {"cluster.hierarchy=node", "aggregation.overlap=true", "aggregation.bucket_bytes=4096", "cluster.servers=2"},
      {"aggregation.transport=alltoall", "aggregation.overlap=true"},
      {"aggregation.transport=alltoall", "cluster.hierarchy=node"},
      {"aggregation.transport=alltoall", "cluster.hierarchy=node", "aggregation.overlap=true"},
      {"cluster.hierarchy=node", "cluster.round_deadline_ms=100"},
  };
  for (const auto& sets : ok) {
    std::string shown;
    for (const auto& s : sets) shown += s + " ";
    INFO(shown);
    CHECK(error_of(sets).empty());
    CHECK(signvote::refused(parse_config(kVote, "t.yaml", sets)) == nullptr);
  }
}

TEST_CASE("combinations: each refusal fires with its own line", "[config]") {
  struct Case {
    std::vector<std::string> sets;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"optimizer.name=adam"}, "key 'optimizer.name' = adam cannot be used with aggregation.method = majority_vote"},
      {{"aggregation.method=mean", "optimizer.name=sgd", "aggregation.overlap=true"},
       "key 'aggregation.overlap' needs aggregation.method = majority_vote, got mean"},
      {{"aggregation.method=mean", "optimizer.name=sgd", "cluster.hierarchy=node"},
       "key 'cluster.hierarchy' = node needs aggregation.method = majority_vote, got mean"},
      {{"aggregation.transport=alltoall", "cluster.servers=2"}, "alltoall needs cluster.servers = 1"},
      {{"aggregation.transport=alltoall", "cluster.round_deadline_ms=50"}, "a collective has no deadline"},
      {{"aggregation.transport=alltoall", "aggregation.bucket_bytes=4096"}, "has no effect with aggregation.transport = alltoall"},
      {{"aggregation.bucket_bytes=4096", "cluster.round_deadline_ms=50"}, "the deadline is per round, not per bucket"},
      {{"adversary.count=1", "adversary.mode=collude", "cluster.hierarchy=node"}, "simulated by the server over every worker's row"},
      {{"adversary.count=1", "adversary.mode=random", "aggregation.overlap=true"}, "needs adversary.mode = invert: random"},
      {{"faults.wrong_step_rank=2", "aggregation.transport=alltoall"}, "needs every worker to send its own votes"},
      {{"model.layout=nhwc"}, "key 'model.layout' = nhwc needs model.device = cuda"},
  };
  for (const auto& c : cases) {
    INFO(c.says);
    const std::string e = error_of(c.sets);
    CHECK_THAT(e, Catch::StartsWith("t.yaml: "));
    CHECK_THAT(e, Catch::Contains(c.says));
  }
}

TEST_CASE("combinations: signvote serve's rows", "[config]") {
  const auto serve = [](std::vector<std::string> sets) {
    const auto c = parse_config(kVote, "t.yaml", sets);
    const signvote::Refusal* r = signvote::refused_in_serve(c);
    return r ? r->message(c) : std::string();
  };
  CHECK(serve({}).empty());
  CHECK(serve({"aggregation.overlap=true", "cluster.servers=2"}).empty());
  CHECK(serve({"aggregation.transport=alltoall"}) == "key 'aggregation.transport' = alltoall is not available to PyTorch workers");
  CHECK(serve({"cluster.hierarchy=node"}) == "key 'cluster.hierarchy' = node is not available to PyTorch workers");
  CHECK_THAT(serve({"optimizer.schedule=cosine", "run.steps=1099511627776"}), Catch::Contains("needs a budget to decay over"));
  CHECK(serve({"optimizer.schedule=cosine", "run.steps=100"}).empty());
}

TEST_CASE("combinations: the table is documented and explained", "[config]") {
  std::ifstream doc(std::filesystem::path(SIGNVOTE_SOURCE_DIR) / "docs" / "configuration.md");
  REQUIRE(doc);
  std::stringstream ss;
  ss << doc.rdbuf();
  const std::string explained = signvote::explain_refusals();
  REQUIRE(signvote::refusals().size() >= 10);
  const auto md = [](std::string s) {  // a Markdown table cell: | is written \|
    for (size_t i = s.find('|'); i != std::string::npos; i = s.find('|', i + 2)) s.insert(i, "\\");
    return s;
  };
  std::vector<signvote::Refusal> all = signvote::refusals();
  all.insert(all.end(), signvote::serve_refusals().begin(), signvote::serve_refusals().end());
  for (const auto& r : all) {
    INFO(r.keys);
    CHECK(ss.str().find("| " + md(r.keys) + " | " + md(r.why) + " |") != std::string::npos);
    CHECK(explained.find(r.keys) != std::string::npos);
  }
}
