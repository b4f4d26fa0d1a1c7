// Shared by the fuzz harnesses: how a harness reports a finding.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace signvote::fuzz {

// A broken invariant (not an expected rejection). abort() makes libFuzzer
// save the input as a crash-* artifact and makes the ctest replay fail.
[[noreturn]] inline void finding(const char* harness, const std::string& what) {
  std::fprintf(stderr, "FINDING in fuzz_%s: %s\n", harness, what.c_str());
  std::fflush(stderr);
  std::abort();
}

// A writer's output must read back to itself: again = write(read(text)) must
// equal text, and read must accept it. `round_trip` is write(read(.)); the
// text is shown in the finding when it is printable (show_text).
template <class RoundTrip>
void check_fixed_point(const char* harness, const std::string& text, RoundTrip round_trip, bool show_text) {
  const std::string shown = show_text ? "\n--- text ---\n" + text : std::string();
  std::string again;
  try {
    again = round_trip(text);
  } catch (const std::exception& e) {
    finding(harness, std::string("the writer's output does not read back: ") + e.what() + shown);
  }
  if (again != text)
    finding(harness, "write(read(text)) differs from text" + shown +
                         (show_text ? "\n--- again ---\n" + again : std::string()));
}

}  // namespace signvote::fuzz
