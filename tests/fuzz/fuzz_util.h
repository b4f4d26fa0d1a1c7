// Shared by the fuzz harnesses: how a harness reports a finding.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace signvote::fuzz {

// A broken invariant (not an expected rejection). abort() makes libFuzzer
// save the input as a crash-* artifact and makes the ctest replay fail.
[[noreturn]] inline void finding(const char* harness, const std::string& what) {
  std::fprintf(stderr, "FINDING in fuzz_%s: %s\n", harness, what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace signvote::fuzz
