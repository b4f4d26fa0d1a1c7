// Uses signvote::signvote through the public headers only: parse a config,
// build the model it names, take one gradient, pack its signs.
#include <signvote/config.h>
#include <signvote/model.h>
#include <signvote/sign_kernels.h>
#include <signvote/train.h>

#include <cstdio>
#include <vector>

int main() {
  const signvote::Config cfg = signvote::parse_config(
      "model: {name: mlp}\noptimizer: {name: signum, lr: 0.01, momentum: 0.9}\n"
      "aggregation: {method: majority_vote}\ncluster: {workers: 2}\nrun: {steps: 1}\n"
      "data: {path: /nonexistent/cifar10}\n",  // checked only when data is read
      "<consumer>", {"data.batch_size=4"});
  auto model = signvote::nn::make_model({.name = cfg.model.kind, .seed = 1});
  signvote::nn::Tensor images({static_cast<int>(cfg.data.batch_size), 3, 32, 32});
  for (std::size_t i = 0; i < images.numel(); ++i) images.data()[i] = 0.01f * float(i % 97);
  std::vector<int> labels{0, 1, 2, 3};
  model->zero_grads();
  const float loss = model->forward_backward(images, labels.data(), 4, nullptr);
  auto g = model->grads();
  std::vector<std::uint32_t> bits(signvote::kernels::packed_words(g.size()));
  const std::size_t nans = signvote::kernels::best_ops().pack(g.data(), g.size(), bits.data());
  if (!(loss > 0.f) || nans != 0) {
    std::fprintf(stderr, "engine_user: loss %g, %zu NaN gradients\n", loss, nans);
    return 1;
  }
  std::printf("engine_user: %s, %zu parameters, loss %.4f, %zu packed words\n",
              cfg.model.name.c_str(), model->num_params(), loss, bits.size());
  return 0;
}
