// Internal: switch from a run-time voter count W to the compile-time counter
// width K = counter_bits(W) (0..10), calling TALLY_K<K>(args...). Included by
// each ISA TU; the template named by TALLY_K lives in that TU's anonymous
// namespace so the per-ISA instantiations never merge at link time.
#pragma once

#define SV_TALLY_DISPATCH(TALLY_K, W, ...)                               \
  switch (counter_bits(static_cast<std::uint32_t>(W))) {                 \
    case 0: TALLY_K<0>(__VA_ARGS__); break;                              \
    case 1: TALLY_K<1>(__VA_ARGS__); break;                              \
    case 2: TALLY_K<2>(__VA_ARGS__); break;                              \
    case 3: TALLY_K<3>(__VA_ARGS__); break;                              \
    case 4: TALLY_K<4>(__VA_ARGS__); break;                              \
    case 5: TALLY_K<5>(__VA_ARGS__); break;                              \
    case 6: TALLY_K<6>(__VA_ARGS__); break;                              \
    case 7: TALLY_K<7>(__VA_ARGS__); break;                              \
    case 8: TALLY_K<8>(__VA_ARGS__); break;                              \
    case 9: TALLY_K<9>(__VA_ARGS__); break;                              \
    case 10: TALLY_K<10>(__VA_ARGS__); break;                            \
    default: break; /* W validated by the dispatcher: K <= 10 */         \
  }
