// The enum-valued configuration keys as C++ enums, each with its one
// name <-> value table. parse_config (src/config/config.cpp) resolves every
// such key once into its enum field (e.g. cfg.model.device_kind); the schema's
// list of allowed values and dump_config's text come from the same tables,
// so after parsing no code compares a mode's name.
//
//   enum_name(ModelDevice::cuda)          -> "cuda"
//   enum_from_name<ModelDevice>("cuda")   -> ModelDevice::cuda (nullopt if unknown)
//   enum_names<ModelDevice>()             -> {"cpu", "cuda"} (table order)
//   EnumTable<ModelDevice>::key           -> "model.device"
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signvote {

enum class Hierarchy : uint8_t { none, node };                                      // cluster.hierarchy
enum class ModelName : uint8_t { quadratic, resnet18, small_cnn, mlp, external };  // model.name
enum class ModelDevice : uint8_t { cpu, cuda };                                     // model.device
enum class ConvMath : uint8_t { fp32, tf32 };                                       // model.math
enum class ModelLayout : uint8_t { nchw, nhwc };                                    // model.layout
enum class PadMode : uint8_t { zero, reflect };                                     // data.pad_mode
enum class OptimizerName : uint8_t { signsgd, signum, lion, sgd, adam, adamw };     // optimizer.name
enum class InnerName : uint8_t { sgd, adamw };                                      // inner.name (local steps)
enum class LrSchedule : uint8_t { constant, step, warmup_step, cosine, linear };    // optimizer.schedule
enum class VoteTransport : uint8_t { server, alltoall };                            // aggregation.transport
enum class IsaChoice : uint8_t { automatic, avx512, avx2, scalar };                 // aggregation.isa ("auto" = best)
enum class QsgdNorm : uint8_t { l2, max };                                          // aggregation.norm
// collude, alie and ipm are simulated by the server (signvote/adversary.h).
enum class AdversaryMode { invert, negative, random, gaussian, collude, alie, ipm };  // adversary.mode
enum class WrongField : uint8_t { step, version, length };                         // faults.wrong_field
enum class NonFinite : uint8_t { stop, skip };                                     // optimizer.nonfinite
enum class ServerWait : uint8_t { spin, sleep };                                   // cluster.server_wait

template <class E>
struct EnumEntry {
  std::string_view name;  // the YAML value, exactly as written in a config
  E value;
};

// Specialised once per enum below: `key` (the config key) and `entries`
// (every value once, in the order the schema and the docs list them).
template <class E>
struct EnumTable;

#define SIGNVOTE_ENUM_TABLE(E, KEY, ...)                         \
  template <>                                                    \
  struct EnumTable<E> {                                          \
    static constexpr std::string_view key = KEY;                 \
    static constexpr EnumEntry<E> entries[] = {__VA_ARGS__};     \
  }

SIGNVOTE_ENUM_TABLE(Hierarchy, "cluster.hierarchy", {"none", Hierarchy::none}, {"node", Hierarchy::node});
SIGNVOTE_ENUM_TABLE(ModelName, "model.name", {"quadratic", ModelName::quadratic}, {"resnet18", ModelName::resnet18},
                    {"small_cnn", ModelName::small_cnn}, {"mlp", ModelName::mlp}, {"external", ModelName::external});
SIGNVOTE_ENUM_TABLE(ModelDevice, "model.device", {"cpu", ModelDevice::cpu}, {"cuda", ModelDevice::cuda});
SIGNVOTE_ENUM_TABLE(ConvMath, "model.math", {"fp32", ConvMath::fp32}, {"tf32", ConvMath::tf32});
SIGNVOTE_ENUM_TABLE(ModelLayout, "model.layout", {"nchw", ModelLayout::nchw}, {"nhwc", ModelLayout::nhwc});
SIGNVOTE_ENUM_TABLE(PadMode, "data.pad_mode", {"zero", PadMode::zero}, {"reflect", PadMode::reflect});
SIGNVOTE_ENUM_TABLE(OptimizerName, "optimizer.name", {"signsgd", OptimizerName::signsgd},
                    {"signum", OptimizerName::signum}, {"lion", OptimizerName::lion}, {"sgd", OptimizerName::sgd},
                    {"adam", OptimizerName::adam}, {"adamw", OptimizerName::adamw});
SIGNVOTE_ENUM_TABLE(InnerName, "inner.name", {"sgd", InnerName::sgd}, {"adamw", InnerName::adamw});
SIGNVOTE_ENUM_TABLE(LrSchedule, "optimizer.schedule", {"constant", LrSchedule::constant}, {"step", LrSchedule::step},
                    {"warmup_step", LrSchedule::warmup_step}, {"cosine", LrSchedule::cosine},
                    {"linear", LrSchedule::linear});
SIGNVOTE_ENUM_TABLE(VoteTransport, "aggregation.transport", {"server", VoteTransport::server},
                    {"alltoall", VoteTransport::alltoall});
SIGNVOTE_ENUM_TABLE(IsaChoice, "aggregation.isa", {"auto", IsaChoice::automatic}, {"avx512", IsaChoice::avx512},
                    {"avx2", IsaChoice::avx2}, {"scalar", IsaChoice::scalar});
SIGNVOTE_ENUM_TABLE(QsgdNorm, "aggregation.norm", {"l2", QsgdNorm::l2}, {"max", QsgdNorm::max});
SIGNVOTE_ENUM_TABLE(AdversaryMode, "adversary.mode", {"invert", AdversaryMode::invert},
                    {"negative", AdversaryMode::negative}, {"random", AdversaryMode::random},
                    {"gaussian", AdversaryMode::gaussian}, {"collude", AdversaryMode::collude},
                    {"alie", AdversaryMode::alie}, {"ipm", AdversaryMode::ipm});
SIGNVOTE_ENUM_TABLE(WrongField, "faults.wrong_field", {"step", WrongField::step}, {"version", WrongField::version},
                    {"length", WrongField::length});
SIGNVOTE_ENUM_TABLE(NonFinite, "optimizer.nonfinite", {"stop", NonFinite::stop}, {"skip", NonFinite::skip});
SIGNVOTE_ENUM_TABLE(ServerWait, "cluster.server_wait", {"spin", ServerWait::spin}, {"sleep", ServerWait::sleep});

#undef SIGNVOTE_ENUM_TABLE

// The table's name of v; "" for a value outside the table (a bad cast).
template <class E>
constexpr std::string_view enum_name(E v) {
  for (const auto& e : EnumTable<E>::entries)
    if (e.value == v) return e.name;
  return {};
}

// The value named `name`, or nullopt when the table has no such name.
template <class E>
constexpr std::optional<E> enum_from_name(std::string_view name) {
  for (const auto& e : EnumTable<E>::entries)
    if (e.name == name) return e.value;
  return std::nullopt;
}

// Every name, in table order (the schema's allowed values).
template <class E>
std::vector<std::string> enum_names() {
  std::vector<std::string> out;
  for (const auto& e : EnumTable<E>::entries) out.emplace_back(e.name);
  return out;
}

// "a, b, c": the names for an error message.
template <class E>
std::string enum_name_list(std::string_view sep = ", ") {
  std::string out;
  for (const auto& e : EnumTable<E>::entries) {
    if (!out.empty()) out += sep;
    out += e.name;
  }
  return out;
}

}  // namespace signvote
