// oneDNN batch normalisation (forward training/inference, backward).
#include "bn_dnnl.h"

#ifdef SIGNVOTE_HAVE_DNNL
namespace signvote::nn {

using dnnl::memory;
using nf = dnnl::normalization_flags;

struct DnnlBatchNorm::Prims {
  memory::desc data_md, vec_md;  // activations; float[C]
  dnnl::memory ws;                      // train-forward workspace (fused ReLU)
  dnnl::batch_normalization_forward train, eval;
  dnnl::batch_normalization_backward bwd;
};

DnnlBatchNorm::DnnlBatchNorm(int channels, float eps, bool fuse_relu,
                             std::shared_ptr<DnnlContext> ctx)
    : c_(channels), eps_(eps), relu_(fuse_relu), ctx_(std::move(ctx)) {}
DnnlBatchNorm::~DnnlBatchNorm() = default;

DnnlBatchNorm::Prims& DnnlBatchNorm::prims_for(const Tensor& x) {
  const Key key{x.n(), x.h(), x.w(), int(x.layout())};
  if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
  auto p = std::make_unique<Prims>();
  dnnl_try("batchnorm on " + to_string(x.shape()), [&] {
    using namespace dnnl;
    const auto& eng = ctx_->engine;
    p->data_md = md_of(x.shape(), x.layout());
    p->vec_md = memory::desc({c_}, memory::data_type::f32, memory::format_tag::x);
    const nf ss = nf::use_scale | nf::use_shift | (relu_ ? nf::fuse_norm_relu : nf::none);
    batch_normalization_forward::primitive_desc tpd(
        {prop_kind::forward_training, p->data_md, eps_, ss}, eng);
    batch_normalization_forward::primitive_desc ipd(
        {prop_kind::forward_inference, p->data_md, eps_, ss | nf::use_global_stats}, eng);
    batch_normalization_backward::primitive_desc bpd(
        {prop_kind::backward, p->data_md, p->data_md, eps_, ss}, eng, tpd);
    p->train = batch_normalization_forward(tpd);
    p->eval = batch_normalization_forward(ipd);
    p->bwd = batch_normalization_backward(bpd);
    if (relu_) p->ws = memory(tpd.workspace_desc(), eng);  // oneDNN-allocated mask
  });
  return *cache_.emplace(key, std::move(p)).first->second;
}

void DnnlBatchNorm::forward_train(const Tensor& x, const float* gamma, const float* beta,
                                  Tensor& y, float* mean, float* var) {
  Prims& p = prims_for(x);
  const auto& c = *ctx_;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem_of(p.data_md, c, x.data())},
                                       {DNNL_ARG_DST, mem_of(p.data_md, c, y.data())},
                                       {DNNL_ARG_SCALE, mem_of(p.vec_md, c, gamma)},
                                       {DNNL_ARG_SHIFT, mem_of(p.vec_md, c, beta)},
                                       {DNNL_ARG_MEAN, mem_of(p.vec_md, c, mean)},
                                       {DNNL_ARG_VARIANCE, mem_of(p.vec_md, c, var)}};
  if (relu_) args.emplace(DNNL_ARG_WORKSPACE, p.ws);
  dnnl_exec(c, p.train, args, "batchnorm forward (train)");
}

void DnnlBatchNorm::forward_eval(const Tensor& x, const float* gamma, const float* beta,
                                 const float* rmean, const float* rvar, Tensor& y) {
  Prims& p = prims_for(x);
  const auto& c = *ctx_;
  dnnl_exec(c, p.eval,
            {{DNNL_ARG_SRC, mem_of(p.data_md, c, x.data())},
             {DNNL_ARG_DST, mem_of(p.data_md, c, y.data())},
             {DNNL_ARG_SCALE, mem_of(p.vec_md, c, gamma)},
             {DNNL_ARG_SHIFT, mem_of(p.vec_md, c, beta)},
             {DNNL_ARG_MEAN, mem_of(p.vec_md, c, rmean)},
             {DNNL_ARG_VARIANCE, mem_of(p.vec_md, c, rvar)}},
            "batchnorm forward (eval)");
}

void DnnlBatchNorm::backward(const Tensor& x, const Tensor& dy, const float* gamma,
                             const float* beta, const float* mean, const float* var, Tensor& dx, float* dgamma,
                             float* dbeta) {
  Prims& p = prims_for(x);
  const auto& c = *ctx_;
  // oneDNN always computes diff_src; write it to dx (the caller supplies one).
  require(!dx.empty(), "BatchNorm2d (dnnl) backward needs a dx tensor");
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem_of(p.data_md, c, x.data())},
                                       {DNNL_ARG_DIFF_DST, mem_of(p.data_md, c, dy.data())},
                                       {DNNL_ARG_SCALE, mem_of(p.vec_md, c, gamma)},
                                       {DNNL_ARG_SHIFT, mem_of(p.vec_md, c, beta)},
                                       {DNNL_ARG_MEAN, mem_of(p.vec_md, c, mean)},
                                       {DNNL_ARG_VARIANCE, mem_of(p.vec_md, c, var)},
                                       {DNNL_ARG_DIFF_SRC, mem_of(p.data_md, c, dx.data())},
                                       {DNNL_ARG_DIFF_SCALE, mem_of(p.vec_md, c, dgamma)},
                                       {DNNL_ARG_DIFF_SHIFT, mem_of(p.vec_md, c, dbeta)}};
  if (relu_) args.emplace(DNNL_ARG_WORKSPACE, p.ws);  // mask of the last train forward
  dnnl_exec(c, p.bwd, args, "batchnorm backward");
}

}  // namespace signvote::nn
#endif  // SIGNVOTE_HAVE_DNNL
