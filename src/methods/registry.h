// The shipped aggregation methods (registry.cpp lists them, one line each)
// and the one lookup by name, which parse_config does once.
#pragma once

#include "methods/method.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace signvote::methods {

// Every shipped method, in the order the schema and the docs list them.
std::span<const Method* const> all_methods();
// The method called `name`, or null.
const Method* find_method(std::string_view name);
// Their names, in order; with `kind`, only the methods of that kind.
std::vector<std::string> method_names(std::optional<RoundKind> kind = std::nullopt);
// method_names(kind) joined with " | " (schema docs, error messages).
std::string method_list(std::optional<RoundKind> kind = std::nullopt);

// cfg's method: the one parse_config resolved (aggregation.resolved); a
// Config built by hand is looked up by name. Throws std::invalid_argument
// "unknown aggregation.method '<name>'" for a name no method has.
const Method& method_of(const Config& cfg);

}  // namespace signvote::methods
