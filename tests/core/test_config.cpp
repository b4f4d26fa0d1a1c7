// Config: defaults, overrides, and one-line errors naming the key and file.
#include "signvote/config.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using signvote::ConfigError;
using signvote::parse_config;

namespace {
std::string error_of(const std::string& yaml, std::vector<std::string> overrides = {}) {
  try {
    parse_config(yaml, "test.yaml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("config: defaults and YAML values", "[config]") {
  auto c = parse_config("optimizer:\n  lr: 0.01\ncluster:\n  workers: 7\n", "t.yaml");
  CHECK(c.optimizer.lr == Approx(0.01));
  CHECK(c.cluster.workers == 7);
  CHECK(c.cluster.servers == 1);
  CHECK(c.model.name == "quadratic");
  CHECK(c.world_size() == 8);
}

TEST_CASE("config: --set overrides are typed and applied after the file", "[config]") {
  auto c = parse_config("optimizer:\n  lr: 0.01\n", "t.yaml",
                        {"optimizer.lr=1e-3", "cluster.workers=27", "optimizer.milestones=[10, 20]"});
  CHECK(c.optimizer.lr == Approx(1e-3));
  CHECK(c.cluster.workers == 27);
  REQUIRE(c.optimizer.milestones.size() == 2);
  CHECK(c.optimizer.milestones[1] == 20);
}

TEST_CASE("config: errors name the key and the file", "[config]") {
  CHECK_THAT(error_of("optimizer:\n  lrr: 1\n"), Catch::Contains("test.yaml") && Catch::Contains("'optimizer.lrr'"));
  CHECK_THAT(error_of("optimizer:\n  lr: fast\n"), Catch::Contains("'optimizer.lr' expects float"));
  CHECK_THAT(error_of("cluster:\n  workers: 2.5\n"), Catch::Contains("'cluster.workers' expects int"));
  CHECK_THAT(error_of("optimizer:\n  lr: -1\n"), Catch::Contains("'optimizer.lr' must be in (0, 1000]"));
  CHECK_THAT(error_of("optimizer:\n  lr: 0\n"), Catch::Contains("'optimizer.lr' must be in (0, 1000]"));
  CHECK_THAT(error_of("optimizer:\n  momentum: 1.0\n"), Catch::Contains("'optimizer.momentum' must be in [0, 1)"));
  CHECK_THAT(error_of("optimizer:\n  momentum: -0.1\n"), Catch::Contains("'optimizer.momentum'"));
  CHECK_THAT(error_of("cluster:\n  workers: 3\nadversary:\n  count: 4\n"), Catch::Contains("'adversary.count'"));
  CHECK_THAT(error_of("aggregation:\n  method: gossip\n"), Catch::Contains("'aggregation.method' must be one of"));
  CHECK_THAT(error_of("optimizer:\n  name: sgd\n"), Catch::Contains("'optimizer.name' = sgd"));
  CHECK_THAT(error_of("run: 5\n"), Catch::Contains("'run'"));
  CHECK_THAT(error_of("run:\n  steps: [1\n"), Catch::Contains("invalid YAML"));
  CHECK_THAT(error_of("", {"optimizer.lr"}), Catch::Contains("expected key=value"));
  CHECK_THAT(error_of("", {"nope.key=1"}), Catch::Contains("unknown key 'nope.key'"));
  CHECK_THAT(error_of("", {"run.steps=0"}), Catch::Contains("'run.steps' must be >= 1"));
  CHECK_THAT(error_of("model:\n  name: resnet18\n"), Catch::Contains("'data.path' is required"));
  CHECK(error_of("optimizer:\n  lr: 0.5\n").empty());
}

TEST_CASE("config: model.layout is nchw by default, nhwc only on cuda", "[config]") {
  CHECK(parse_config("", "t.yaml").model.layout == "nchw");
  const std::string net = "model:\n  name: resnet18\n  device: cuda\n  layout: nhwc\ndata:\n  path: /tmp\n";
  CHECK(parse_config(net, "t.yaml").model.layout == "nhwc");
  CHECK_THAT(error_of("model:\n  layout: nchwc\n"), Catch::Contains("'model.layout' must be one of nchw|nhwc"));
  // One line naming the key, for the default device and an explicit cpu.
  const std::string msg = error_of("", {"model.layout=nhwc"});
  CHECK_THAT(msg, Catch::Contains("'model.layout' = nhwc needs model.device = cuda"));
  CHECK(msg.find('\n') == std::string::npos);
  CHECK_THAT(error_of("model:\n  name: mlp\n  device: cpu\n  layout: nhwc\ndata:\n  path: /tmp\n"),
             Catch::Contains("'model.layout'"));
}

TEST_CASE("config: values it cannot honour are refused at load, naming the key", "[config]") {
  // Non-finite floats, and finite ones that would overflow the update.
  for (const char* v : {".nan", ".inf", "-.inf"})
    CHECK_THAT(error_of("", {std::string("optimizer.lr=") + v}), Catch::Contains("'optimizer.lr' must be a finite number"));
  CHECK_THAT(error_of("", {"optimizer.lr=1e308"}), Catch::Contains("'optimizer.lr' must be in (0, 1000]"));
  CHECK_THAT(error_of("", {"optimizer.lr=1e999"}), Catch::Contains("'optimizer.lr' expects float"));
  CHECK_THAT(error_of("", {"data.noise_std=.nan"}), Catch::Contains("'data.noise_std' must be a finite number"));
  CHECK_THAT(error_of("run:\n  time_limit_s: .nan\n"), Catch::Contains("'run.time_limit_s' must be a finite number"));
  // Integers that overflow the field they end up in.
  CHECK_THAT(error_of("", {"model.width=3000000000"}), Catch::Contains("'model.width' must be in [1, 4096]"));
  CHECK_THAT(error_of("", {"model.dim=1000000000000"}), Catch::Contains("'model.dim' must be in [1, 2147483647]"));
  CHECK_THAT(error_of("", {"cluster.workers=1024"}), Catch::Contains("'cluster.workers' must be in [1, 1023]"));
  CHECK_THAT(error_of("", {"run.seed=-1"}), Catch::Contains("'run.seed' expects int"));
  CHECK_THAT(error_of("", {"run.steps=99999999999999999999"}), Catch::Contains("'run.steps' expects int"));
  // Duplicate keys and sections, with the line of the second one.
  CHECK_THAT(error_of("run:\n  steps: 5\n  steps: 6\n"), Catch::Contains("line 3: key 'run.steps' appears twice"));
  CHECK_THAT(error_of("run:\n  steps: 5\nrun:\n  seed: 1\n"), Catch::Contains("line 3: section 'run' appears twice"));
  // A bad --set value is blamed on --set, a bad file value on the file.
  CHECK_THAT(error_of("", {"model.width=-1"}), Catch::StartsWith("--set: key 'model.width'"));
  CHECK_THAT(error_of("model:\n  width: -1\n"), Catch::StartsWith("test.yaml: key 'model.width'"));
}

TEST_CASE("config: a config path that is not a regular file is refused", "[config]") {
  const auto dir = std::filesystem::temp_directory_path();
  CHECK_THROWS_WITH(signvote::load_config(dir.string()), Catch::Contains("not a regular file (a directory)"));
}

TEST_CASE("config: missing file is a one-line error naming it", "[config]") {
  try {
    signvote::load_config("/nonexistent/dir/x.yaml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("/nonexistent/dir/x.yaml"));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("config: dump round-trips", "[config]") {
  auto c = parse_config("optimizer:\n  lr: 0.02\n  milestones: [5, 9]\ncluster:\n  workers: 5\n", "t.yaml");
  auto again = parse_config(signvote::dump_config(c), "dump");
  CHECK(signvote::dump_config(again) == signvote::dump_config(c));
  CHECK(again.optimizer.lr == Approx(0.02));
  CHECK(again.optimizer.milestones == std::vector<int64_t>{5, 9});
}

TEST_CASE("config: shipped configs parse and every key is documented", "[config]") {
  const std::filesystem::path root = SIGNVOTE_SOURCE_DIR;
  for (const auto& f : std::filesystem::directory_iterator(root / "configs")) {
    if (f.path().extension() != ".yaml") continue;
    INFO(f.path());
    CHECK_NOTHROW(signvote::load_config(f.path().string(), {"data.path=/tmp"}));
  }
  std::ifstream doc(root / "docs" / "configuration.md");
  REQUIRE(doc);
  std::stringstream ss;
  ss << doc.rdbuf();
  for (const auto& key : signvote::config_keys()) {
    INFO(key);
    CHECK(ss.str().find("`" + key + "`") != std::string::npos);
  }
}

TEST_CASE("config: adversaries are the first `count` workers or a listed set", "[config]") {
  auto first = parse_config("cluster:\n  workers: 7\nadversary:\n  count: 3\n", "t.yaml");
  auto listed = parse_config("cluster:\n  workers: 7\nadversary:\n  workers: [1, 4, 6]\n", "t.yaml");
  std::string a, b;
  for (int k = 0; k < 7; ++k) a += first.is_adversary(k) ? 'A' : '.', b += listed.is_adversary(k) ? 'A' : '.';
  CHECK(a == "AAA....");
  CHECK(b == ".A..A.A");
  CHECK(first.adversaries() == 3);
  CHECK(listed.adversaries() == 3);
  CHECK_THAT(error_of("cluster:\n  workers: 7\nadversary:\n  workers: [2, 7]\n"),
             Catch::Contains("'adversary.workers' names worker 7"));
  CHECK_THAT(error_of("cluster:\n  workers: 7\nadversary:\n  workers: [3, 1]\n"),
             Catch::Contains("'adversary.workers' must be increasing worker indices"));
  CHECK_THAT(error_of("cluster:\n  workers: 7\nadversary:\n  count: 1\n  workers: [3]\n"),
             Catch::Contains("both set"));
  CHECK_THAT(error_of("probes:\n  every: 10\n"), Catch::Contains("'probes.every'"));
}

TEST_CASE("config: local steps need run.steps on a round, and refuse what needs the common x every step", "[config]") {
  auto err = [](const std::string& yaml) {
    try {
      parse_config(yaml, "t.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const signvote::Config c = signvote::parse_config("run: {steps: 96, log_every: 10}\naggregation: {local_steps: 8}\ninner: {name: adamw, betas: [0.8, 0.99]}\n", "t.yaml");
  CHECK(c.aggregation.local_steps == 8);
  CHECK(c.inner.kind == signvote::InnerName::adamw);
  CHECK(err("run: {steps: 100}\naggregation: {local_steps: 8}\n") ==
        "t.yaml: key 'run.steps' = 100 is not a multiple of aggregation.local_steps = 8: rounds come every 8 inner "
        "steps, so the run would end between two");
  CHECK(err("aggregation: {local_steps: 4}\ninner: {betas: [0.9]}\n").find("key 'inner.betas' must be [beta1, beta2]") !=
        std::string::npos);
  CHECK(err("aggregation: {local_steps: 4}\ninner: {schedule: step}\n").find("key 'inner.schedule' = step") != std::string::npos);
  CHECK(err("optimizer: {name: signum, nesterov: true}\n").find("key 'optimizer.nesterov' needs optimizer.name = sgd") !=
        std::string::npos);
  CHECK(err("aggregation: {local_steps: 0}\n").find("key 'aggregation.local_steps' must be in [1,") != std::string::npos);
}

TEST_CASE("config: YAML nested 100,000 deep is one line saying so, with its line", "[config]") {
  const std::string deep = "run:\n  steps: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  std::string msg;
  try {
    parse_config(deep, "deep.yaml");
  } catch (const ConfigError& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("deep.yaml:2: invalid YAML: nested more than ") == 0);
  CHECK(msg.find("levels deep") != std::string::npos);
  CHECK(msg.find("bad file") == std::string::npos);
}
