// Fuzz harness: the YAML config loader and the `--set key=value` parser
// (signvote::parse_config, include/signvote/config.h).
//
// Input layout: if the input holds a NUL byte, the bytes before the first NUL
// are `--set` overrides, one per '\n'-separated line, and the bytes after it
// are the YAML text; without a NUL the whole input is YAML and there are no
// overrides. Seeds: tests/fuzz/corpus/config/.
//
// Expected rejections are std::exception (ConfigError, or anything else the
// loader lets through); crashes, UB, hangs and non-std exceptions are findings.
// An accepted config must also survive the path a checkpoint takes
// (`signvote eval` re-reads the dump_config text stored in the checkpoint):
// parse_config(dump_config(cfg)) must succeed and dump to the same text.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "signvote/config.h"

namespace {

struct Split {
  std::vector<std::string> overrides;  // "key=value" strings, as from --set
  std::string yaml;                    // the config file's text
};

Split split_input(std::string_view in) {
  Split s;
  const auto nul = in.find('\0');
  if (nul == std::string_view::npos) {
    s.yaml = std::string(in);
    return s;
  }
  s.yaml = std::string(in.substr(nul + 1));
  std::string_view sets = in.substr(0, nul);
  while (!sets.empty()) {
    const auto nl = sets.find('\n');
    s.overrides.emplace_back(sets.substr(0, nl));
    sets = nl == std::string_view::npos ? std::string_view() : sets.substr(nl + 1);
  }
  return s;
}

// The checkpoint round trip of an accepted config (see the file comment).
void check_dump_round_trip(const signvote::Config& cfg) {
  signvote::fuzz::check_fixed_point(
      "config", signvote::dump_config(cfg),
      [](const std::string& dumped) { return signvote::dump_config(signvote::parse_config(dumped, "<dump>")); }, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Split in = split_input({reinterpret_cast<const char*>(data), size});
  signvote::Config cfg;
  try {
    cfg = signvote::parse_config(in.yaml, "fuzz.yaml", in.overrides);
  } catch (const std::exception&) {
    return 0;  // rejected with a message: the expected outcome for most inputs
  }
  // Accepted: exercise the helpers every rank calls on a config.
  (void)cfg.world_size();
  (void)cfg.adversaries();
  for (int64_t w = 0; w < 4; ++w) (void)cfg.is_adversary(w);
  check_dump_round_trip(cfg);
  return 0;
}
