// The enum-valued config keys (signvote/config_enums.h): every value of every
// key round-trips name -> enum -> name through its one table, through the
// schema (check, resolve, dump text) and through parse_config; an unknown
// value still gives the one-line error naming the key.
#include "config/config_schema.h"
#include "signvote/config.h"
#include "signvote/config_enums.h"

#include <catch2/catch.hpp>

#include <string>

using namespace signvote;

namespace {

const detail::KeySpec* spec_of(const std::string& key) {
  for (const auto& k : detail::config_schema())
    if (k.key == key) return &k;
  return nullptr;
}

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    parse_config(yaml, "t.yaml", sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// cfg.*sec.*kind is key E's typed field.
template <class E, class Sec>
void check_key(Sec Config::*sec, E Sec::*kind) {
  const std::string key(EnumTable<E>::key);
  INFO(key);
  const detail::KeySpec* spec = spec_of(key);
  REQUIRE(spec);
  REQUIRE(spec->resolve);
  for (const auto& e : EnumTable<E>::entries) {
    const std::string name(e.name);
    INFO(key << " = " << name);
    CHECK(enum_from_name<E>(name) == e.value);
    CHECK(enum_name(e.value) == name);
    Config c;  // the schema's path: set the text, check it, resolve it, print it
    spec->set(c, YAML::Node(name));
    CHECK_FALSE(spec->check(c).has_value());
    spec->resolve(c);
    CHECK((c.*sec).*kind == e.value);
    CHECK(spec->get(c) == "\"" + name + "\"");
  }
  CHECK_FALSE(enum_from_name<E>("no_such_value").has_value());
  CHECK(enum_name(static_cast<E>(200)).empty());
  // An unknown value: one line naming the key, the allowed names and the value.
  const std::string expected = "key '" + key + "' must be one of " + enum_name_list<E>("|") + ", got \"no_such_value\"";
  const std::string from_set = error_of("", {key + "=no_such_value"});
  CHECK(from_set == "--set: " + expected);
  const auto dot = key.find('.');
  const std::string from_file = error_of(key.substr(0, dot) + ":\n  " + key.substr(dot + 1) + ": no_such_value\n");
  CHECK(from_file == "t.yaml: " + expected);
  CHECK(from_file.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("config enums: every value round-trips name -> enum -> name, unknown names fail naming the key", "[config][enums]") {
  check_key(&Config::cluster, &ClusterConfig::hierarchy_kind);
  check_key(&Config::model, &ModelConfig::kind);
  check_key(&Config::model, &ModelConfig::device_kind);
  check_key(&Config::model, &ModelConfig::math_kind);
  check_key(&Config::model, &ModelConfig::layout_kind);
  check_key(&Config::data, &DataConfig::pad_mode_kind);
  check_key(&Config::optimizer, &OptimizerConfig::kind);
  check_key(&Config::optimizer, &OptimizerConfig::schedule_kind);
  check_key(&Config::optimizer, &OptimizerConfig::nonfinite_kind);
  check_key(&Config::cluster, &ClusterConfig::server_wait_kind);
  check_key(&Config::aggregation, &AggregationConfig::transport_kind);
  check_key(&Config::aggregation, &AggregationConfig::isa_kind);
  check_key(&Config::aggregation, &AggregationConfig::norm_kind);
  check_key(&Config::adversary, &AdversaryConfig::mode_kind);
  check_key(&Config::faults, &FaultConfig::wrong_field_kind);
  check_key(&Config::inner, &InnerConfig::kind);
}

TEST_CASE("config enums: inner.schedule takes optimizer.schedule's values and is resolved", "[config][enums]") {
  CHECK(parse_config("aggregation:\n  local_steps: 4\ninner:\n  schedule: cosine\n", "t.yaml").inner.schedule_kind ==
        LrSchedule::cosine);
  CHECK(error_of("inner:\n  schedule: sometimes\n") ==
        "t.yaml: key 'inner.schedule' must be one of " + enum_name_list<LrSchedule>("|") + ", got \"sometimes\"");
}

TEST_CASE("config enums: the schema resolves exactly the keys with a table", "[config][enums]") {
  int resolved = 0;
  for (const auto& k : detail::config_schema()) resolved += k.resolve ? 1 : 0;
  CHECK(resolved == 17);  // the 16 check_key calls above and inner.schedule (optimizer.schedule's values)
}

TEST_CASE("config enums: parse_config fills the typed fields; the defaults agree with the text", "[config][enums]") {
  const Config d = parse_config("", "t.yaml");
  CHECK(d.model.kind == ModelName::quadratic);
  CHECK(d.optimizer.kind == OptimizerName::signum);
  CHECK(d.aggregation.isa_kind == IsaChoice::automatic);
  CHECK(d.model.math_kind == ConvMath::tf32);
  const Config c = parse_config(
      "model: {name: mlp, device: cuda, layout: nhwc, math: fp32}\ndata: {path: /x, pad_mode: reflect}\n"
      "optimizer: {name: lion, schedule: cosine}\ncluster: {hierarchy: node, workers: 4}\n"
      "aggregation: {isa: scalar, norm: max}\nadversary: {mode: gaussian}\nfaults: {wrong_field: length}\n",
      "t.yaml");
  CHECK(c.model.kind == ModelName::mlp);
  CHECK(c.model.device_kind == ModelDevice::cuda);
  CHECK(c.model.layout_kind == ModelLayout::nhwc);
  CHECK(c.model.math_kind == ConvMath::fp32);
  CHECK(c.data.pad_mode_kind == PadMode::reflect);
  CHECK(c.optimizer.kind == OptimizerName::lion);
  CHECK(c.optimizer.schedule_kind == LrSchedule::cosine);
  CHECK(c.cluster.hierarchy_kind == Hierarchy::node);
  CHECK(c.aggregation.isa_kind == IsaChoice::scalar);
  CHECK(c.aggregation.norm_kind == QsgdNorm::max);
  CHECK(c.adversary.mode_kind == AdversaryMode::gaussian);
  CHECK(c.faults.wrong_field_kind == WrongField::length);
  // The dump prints the names from the tables and reads back to the same enums.
  const Config again = parse_config(dump_config(c), "dump");
  CHECK(dump_config(again) == dump_config(c));
  CHECK(again.model.layout_kind == ModelLayout::nhwc);
  CHECK(again.optimizer.schedule_kind == LrSchedule::cosine);
}
