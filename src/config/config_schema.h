// Internal: the table of configuration keys (see include/signvote/config.h).
#pragma once

#include "signvote/config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

namespace signvote::detail {

// Thrown by KeySpec::set for a value of the right type that the field cannot
// hold (a non-finite float); what() completes "key 'k' ...".
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct KeySpec {
  std::string key;           // "section.name"
  std::string type_name;     // int | float | string | bool | int list
  std::string default_yaml;  // default value, as YAML
  std::string doc;           // one line for docs/configuration.md
  // Sets the field from a YAML node; throws YAML::Exception on a wrong type.
  std::function<void(Config&, const YAML::Node&)> set;
  // The field as YAML text (for dump_config).
  std::function<std::string(const Config&)> get;
  // Range check: an error message about the value, or nullopt when valid.
  std::function<std::optional<std::string>(const Config&)> check;
  // Enum-valued keys: sets the enum field from the (checked) name, through
  // the key's table in signvote/config_enums.h; empty for other keys.
  std::function<void(Config&)> resolve;
};

const std::vector<KeySpec>& config_schema();

}  // namespace signvote::detail
