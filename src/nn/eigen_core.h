// <Eigen/Core> for signvote_nn sources. GCC 12 with -march=native (AVX-512)
// reports a false -Wmaybe-uninitialized inside Eigen's AVX-512 transpose
// (gemm_pack_lhs -> _mm512_unpacklo_ps); silence exactly that warning for
// Eigen's code only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
