// The method objects (src/methods) and their registry: what each method
// says, the one lookup by name, and the worked example of docs/extending.md
// (tests/methods/trimmed_mean.h) run through the server's combine step.
#include "config/run_plan.h"
#include "methods/registry.h"
#include "server/aggregation.h"
#include "signvote/compressor.h"
#include "signvote/config.h"
#include "signvote/sign_kernels.h"
#include "trimmed_mean.h"
#include "worker/encoder.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace signvote;
using Catch::Contains;

namespace {

Config dense_config(const std::string& method, int workers, int servers = 1) {
  return parse_config("cluster: {workers: " + std::to_string(workers) + ", servers: " + std::to_string(servers) +
                          "}\noptimizer: {name: sgd}\naggregation: {method: " + method + "}\n",
                      "t.yaml");
}

}  // namespace

TEST_CASE("methods: the registry lists the shipped methods in schema order", "[methods]") {
  const std::vector<std::string> names = {"majority_vote", "allreduce", "mean", "multi_krum",
                                          "coordinate_median", "qsgd", "ef_sign"};
  CHECK(methods::method_names() == names);
  for (const std::string& n : names) {
    const methods::Method* m = methods::find_method(n);
    REQUIRE(m != nullptr);
    CHECK(m->name() == n);
  }
  CHECK(methods::find_method("krum") == nullptr);
  CHECK(methods::find_method("trimmed_mean") == nullptr);  // the example is not shipped
  CHECK(methods::method_list() == "majority_vote | allreduce | mean | multi_krum | coordinate_median | qsgd | ef_sign");
  CHECK(methods::method_list(RoundKind::dense) == "mean | multi_krum | coordinate_median | qsgd | ef_sign");
  CHECK_THROWS_WITH(parse_config("aggregation: {method: krum}\n", "t.yaml"),
                    Contains("must be one of majority_vote|allreduce|mean|multi_krum|coordinate_median|qsgd|ef_sign"));
}

TEST_CASE("methods: kind, shards and optimizer family of each method", "[methods]") {
  struct Row {
    const char* name;
    RoundKind kind;
    bool shardable, sign_optimizer;
  };
  for (const Row& r : {Row{"majority_vote", RoundKind::vote, true, true}, Row{"allreduce", RoundKind::allreduce, false, false},
                       Row{"mean", RoundKind::dense, true, false}, Row{"multi_krum", RoundKind::dense, false, false},
                       Row{"coordinate_median", RoundKind::dense, true, false}, Row{"qsgd", RoundKind::dense, true, false},
                       Row{"ef_sign", RoundKind::dense, false, false}}) {
    INFO(r.name);
    const methods::Method& m = *methods::find_method(r.name);
    CHECK(m.round_kind() == r.kind);
    CHECK(m.shardable() == r.shardable);
    CHECK(m.takes_sign_optimizer() == r.sign_optimizer);
  }
  CHECK_THROWS_WITH(dense_config("ef_sign", 3, 2), Contains("its scale and residual are per whole vector"));
  CHECK_NOTHROW(dense_config("qsgd", 3, 2));
}

TEST_CASE("methods: parse_config resolves aggregation.method once", "[methods]") {
  const Config cfg = dense_config("qsgd", 3);
  CHECK(cfg.aggregation.resolved == methods::find_method("qsgd"));
  CHECK(&methods::method_of(cfg) == methods::find_method("qsgd"));
  CHECK(round_kind(cfg) == RoundKind::dense);
  Config by_hand;  // not parsed: looked up by name
  by_hand.aggregation.method = "coordinate_median";
  CHECK(&methods::method_of(by_hand) == methods::find_method("coordinate_median"));
  by_hand.aggregation.method = "nope";
  CHECK_THROWS_WITH(methods::method_of(by_hand), "unknown aggregation.method 'nope'");
}

TEST_CASE("methods: wire formats per method", "[methods]") {
  AggregationConfig a;
  a.levels = 3;
  a.bucket = 64;
  const auto& vote = methods::find_method("majority_vote")->round_format(a);
  CHECK(vote.up_words(100) == comm::payload_words(100));
  CHECK(vote.down_words(100) == comm::payload_words(100));
  const auto fp32 = methods::find_method("coordinate_median")->round_format(a);
  CHECK(fp32.up_words(100) == 112);
  const auto qsgd = methods::find_method("qsgd")->round_format(a);
  CHECK(qsgd.up_words(1000) == comm::bytes_payload_words(QsgdCodec::encoded_bytes(1000, 3, 64)));
  CHECK(qsgd.up_words(0) == 0);
  CHECK(qsgd.down_words(1000) == comm::fp32_payload_words(1000));
  const auto ef = methods::find_method("ef_sign")->round_format(a);
  CHECK(ef.up_words(1000) == comm::bytes_payload_words(EfSignCodec::encoded_bytes(1000)));
}

TEST_CASE("methods: worker encoders (fp32 counts non-finite values, ef_sign keeps a residual)", "[methods]") {
  const std::vector<float> g = {1.f, -2.f, std::numeric_limits<float>::quiet_NaN(), 4.f};
  std::vector<uint32_t> payload(16, 0u);
  worker::DenseEncoder mean(dense_config("mean", 3), {4}, 7);
  CHECK(mean.encode(0, g, 1, payload.data()) == 1);
  CHECK(reinterpret_cast<const float*>(payload.data())[3] == 4.f);
  CHECK(mean.residual().empty());
  worker::DenseEncoder ef(dense_config("ef_sign", 3), {4}, 7);
  CHECK(ef.residual().size() == 4);
}

TEST_CASE("methods: the trimmed-mean example aggregates to its closed form", "[methods]") {
  // 5 workers, b = 1: each coordinate drops its smallest and largest value
  // and averages the middle 3. Columns: {1,2,3,4,100} -> 3; {-5,0,5,10,-50}
  // -> 0; 7 everywhere -> 7; {0.5,-1,2,8,-3} -> (-1 + 0.5 + 2) / 3 = 0.5.
  const methods::Method& tm = methods::trimmed_mean_method();
  Config cfg = dense_config("mean", 5);
  cfg.aggregation.resolved = &tm;  // the test binary's own method in place of the parsed one
  CHECK(round_kind(cfg) == RoundKind::dense);
  CHECK(tm.shardable());
  const size_t d = 4, stride = round_format(cfg).up_words(d);
  REQUIRE(stride == 16);
  const float values[5][4] = {{1, -5, 7, 0.5f}, {2, 0, 7, -1}, {3, 5, 7, 2}, {4, 10, 7, 8}, {100, -50, 7, -3}};
  std::vector<float> rows(5 * stride, 0.f);
  for (size_t k = 0; k < 5; ++k)
    for (size_t i = 0; i < d; ++i) rows[k * stride + i] = values[k][i];
  std::vector<float> out(stride, -1.f);
  server::make_aggregate(cfg, 5, d, kernels::best_ops())(reinterpret_cast<const uint32_t*>(rows.data()), 5, stride,
                                                         comm::Range{0, d}, reinterpret_cast<uint32_t*>(out.data()), kernels::tie_word(1));
  CHECK(out[0] == 3.f);
  CHECK(out[1] == 0.f);
  CHECK(out[2] == 7.f);
  CHECK(out[3] == Approx(0.5));
  // Its config check: n > 2b.
  const auto fail = [](const std::string& msg) { throw ConfigError("t.yaml: " + msg); };
  Config two = dense_config("mean", 2);
  CHECK_THROWS_WITH(tm.check(two, fail), "t.yaml: key 'cluster.workers' = 2 must exceed 2b = 2 for trimmed_mean");
  CHECK_NOTHROW(tm.check(cfg, fail));
}
