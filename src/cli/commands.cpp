#include "cli/commands.h"

#include "config/run_plan.h"
#include "formats/checkpoint.h"
#include "data/cifar10.h"
#include "formats/hash.h"
#include "data/loader.h"
#include "signvote/config.h"
#include "signvote/model.h"
#include "worker/checkpointing.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace signvote::cli {

int run_eval(const EvalArgs& a) {
  const auto file = worker::resolve_checkpoint(a.checkpoint);
  const data::Checkpoint c = data::read_checkpoint(file);
  const Config cfg = parse_config(data::require_blob(c, "config", file), file.string() + ":config");
  if (cfg.model.kind == ModelName::quadratic) throw std::runtime_error(fmt::format("checkpoint '{}' holds the quadratic toy, not a network", file.string()));
  nn::ModelSpec spec = model_spec(cfg);  // the run's model; its weights come from the checkpoint
  spec.threads = a.threads;
  const auto device = enum_from_name<ModelDevice>(a.device);  // the --device flag
  if (!device) throw std::invalid_argument("unknown model device '" + a.device + "' (known: cpu, cuda)");
  spec.device = *device;
  if (spec.device != ModelDevice::cuda) spec.layout = ModelLayout::nchw;  // an nhwc run's checkpoint: parameters are layout-independent
  auto model = nn::make_model(spec);
  const auto& params = data::require_array(c, "params", file);
  const auto& bn = data::require_array(c, "buffers.mean", file);  // the workers' averaged BN statistics
  if (params.size() != model->num_params() || bn.size() != model->buffers().size())
    throw std::runtime_error(fmt::format("checkpoint '{}' does not match model {} width {}", file.string(), cfg.model.name, spec.width));
  copy_floats(model->params().data(), model->space(), params.data(), MemSpace::host, params.size());
  copy_floats(model->buffers().data(), model->space(), bn.data(), MemSpace::host, bn.size());

  const std::string dir = a.data.empty() ? cfg.data.path : a.data;
  const auto split = data::parse_split(a.split);
  const data::Cifar10Layout layout{static_cast<size_t>(cfg.data.train_files),
                                   static_cast<size_t>(cfg.data.records_per_file)};
  const data::Dataset ds = data::load_cifar10(dir, split, static_cast<size_t>(cfg.data.val_count), layout);
  constexpr int kBatch = 500;
  data::EvalLoader ev(ds, kBatch);
  nn::Tensor img(nn::Shape{kBatch, 3, 32, 32});
  std::vector<int> lab(kBatch);
  double loss = 0, correct = 0, n_total = 0;
  int n = 0;
  while (ev.next(img.data(), lab.data(), &n)) {
    const auto r = model->evaluate(img, lab.data(), n);
    loss += r.loss_sum;
    correct += r.correct;
    n_total += r.count;
  }
  const double acc = n_total > 0 ? correct / n_total : 0.0;
  if (a.json)
    fmt::print("{{\"accuracy\": {:.6f}, \"loss\": {:.6f}, \"n\": {:.0f}}}\n", acc, n_total > 0 ? loss / n_total : 0.0, n_total);
  else
    fmt::print("{} on {} split of {}: accuracy {:.2f}% loss {:.4f} ({:.0f} images, step {})\n", file.string(), a.split, dir,
               100 * acc, n_total > 0 ? loss / n_total : 0.0, n_total, data::require_scalar(c, "step", file));
  return 0;
}

void print_devices(bool json) {
  std::string why;
  const int n = cuda_device_count(&why);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(cuda_device_name(i));
  if (json) {
    std::string list;
    for (const auto& d : names) list += (list.empty() ? "\"" : ", \"") + d + "\"";
    fmt::print("{{\"cuda_built\": {}, \"count\": {}, \"why\": \"{}\", \"devices\": [{}]}}\n", cuda_built(), n,
               n > 0 ? std::string() : why, list);
    return;
  }
  if (n == 0) fmt::print("no CUDA device visible: {}\n", why);
  for (int i = 0; i < n; ++i) fmt::print("cuda:{} {}\n", i, names[size_t(i)]);
}

int run_inspect(const std::string& checkpoint) {
  const auto file = worker::resolve_checkpoint(checkpoint);
  const data::Checkpoint c = data::read_checkpoint_with_parts(file);  // the workers' parts too
  fmt::print("{}\n", file.string());
  for (const auto& [k, v] : c.scalars) fmt::print("scalar {} = {}\n", k, v);
  for (const auto& [k, v] : c.arrays) fmt::print("array  {} ({} floats) hash {:#018x}\n", k, v.size(), data::hash_floats(v));
  for (const auto& [k, v] : c.blobs)
    fmt::print("blob   {} ({} bytes) hash {:#018x}\n", k, v.size(), data::hash_bytes(v.data(), v.size()));
  return 0;
}

}  // namespace signvote::cli
