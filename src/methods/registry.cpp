// The registry: adding a method is its file in this folder, a line in
// SIGNVOTE_METHODS below and its tests (docs/extending.md).
#include "methods/registry.h"

#include <array>
#include <stdexcept>

namespace signvote::methods {

// The shipped methods in schema order; each is defined in <name>.cpp as
// `const Method& <name>_method()`.
#define SIGNVOTE_METHODS(X) \
  X(majority_vote)          \
  X(allreduce)              \
  X(mean)                   \
  X(multi_krum)             \
  X(coordinate_median)      \
  X(qsgd)                   \
  X(ef_sign)

#define SIGNVOTE_DECLARE_METHOD(n) const Method& n##_method();
SIGNVOTE_METHODS(SIGNVOTE_DECLARE_METHOD)
#undef SIGNVOTE_DECLARE_METHOD

std::span<const Method* const> all_methods() {
#define SIGNVOTE_METHOD_ENTRY(n) &n##_method(),
  static const std::array table{SIGNVOTE_METHODS(SIGNVOTE_METHOD_ENTRY)};
#undef SIGNVOTE_METHOD_ENTRY
  return table;
}

const Method* find_method(std::string_view name) {
  for (const Method* m : all_methods())
    if (name == m->name()) return m;
  return nullptr;
}

std::vector<std::string> method_names(std::optional<RoundKind> kind) {
  std::vector<std::string> names;
  for (const Method* m : all_methods())
    if (!kind || m->round_kind() == *kind) names.emplace_back(m->name());
  return names;
}

std::string method_list(std::optional<RoundKind> kind) {
  std::string out;
  for (const std::string& n : method_names(kind)) out += (out.empty() ? "" : " | ") + n;
  return out;
}

const Method& method_of(const Config& cfg) {
  if (cfg.aggregation.resolved) return *cfg.aggregation.resolved;
  if (const Method* m = find_method(cfg.aggregation.method)) return *m;
  throw std::invalid_argument("unknown aggregation.method '" + cfg.aggregation.method + "'");
}

}  // namespace signvote::methods
