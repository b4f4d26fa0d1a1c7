// Uses signvote::kernels alone: pack three workers' signs, tally the vote,
// check it against the majority counted by hand. Exit 0 = agreement.
#include <signvote/sign_kernels.h>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  namespace k = signvote::kernels;
  const std::size_t n = 1000, W = 3, words = k::wire_words(n);
  std::vector<std::uint32_t> votes(W * words, 0u), out(words, 0u);
  std::vector<float> g(n);
  for (std::size_t r = 0; r < W; ++r) {
    for (std::size_t i = 0; i < n; ++i) g[i] = ((i * (r + 3)) % 7 < 3) ? -1.f : 1.f;
    k::best_ops().pack(g.data(), n, votes.data() + r * words);
  }
  k::best_ops().tally(votes.data(), W, words, words, out.data(), k::tie_word(0));  // odd W: no ties
  for (std::size_t i = 0; i < n; ++i) {
    int plus = 0;
    for (std::size_t r = 0; r < W; ++r) plus += ((i * (r + 3)) % 7 < 3) ? 0 : 1;
    if (k::get_bit(out.data(), i) != (plus >= 2 ? 1u : 0u)) {
      std::fprintf(stderr, "kernels_user: vote %zu wrong\n", i);
      return 1;
    }
  }
  std::printf("kernels_user: %zu votes agree (isa %s)\n", n, k::isa_name(k::best_ops().isa));
  return 0;
}
