// oneDNN convolution: forward, backward-data, backward-weights.
#include "conv_dnnl.h"

#ifdef SIGNVOTE_HAVE_DNNL
namespace signvote::nn {

using dnnl::memory;
using tag = memory::format_tag;

struct DnnlConv::Prims {
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
  memory::desc src_md, dst_md, user_w_md;
  memory::desc fwd_w_md, bwd_w_md, dw_md;  // kernel-chosen weight formats
  dnnl::reorder w_to_fwd, w_to_bwd, dw_to_user;  // dw_to_user accumulates (sum)
  AlignedBuffer fwd_w, bwd_w, dw;              // blocked weight scratch
  std::string info;                            // oneDNN implementation names
};

DnnlConv::DnnlConv(const ConvGeom& g, std::shared_ptr<DnnlContext> ctx, bool winograd)
    : g_(g), ctx_(std::move(ctx)), winograd_(winograd) {}
DnnlConv::~DnnlConv() = default;

std::string DnnlConv::details() const { return details_.empty() ? name() : details_; }

namespace {
size_t floats_of(const memory::desc& md) { return md.get_size() / sizeof(float); }
}  // namespace

// Builds forward / backward-data / backward-weights primitives with `algo`
// plus the weight reorders. Throws dnnl::error when oneDNN has no
// implementation (e.g. Winograd for a 3-channel input).
std::unique_ptr<DnnlConv::Prims> DnnlConv::create(const Tensor& x, dnnl::algorithm algo) const {
  using namespace dnnl;
  auto p = std::make_unique<Prims>();
  const auto& eng = ctx_->engine;
  const Shape ys{x.n(), g_.oc, g_.out_h(x.h()), g_.out_w(x.w())};
  p->src_md = md_of(x.shape(), x.layout());
  p->dst_md = md_of(ys, ctx_->blocked);
  p->user_w_md = memory::desc({g_.oc, g_.ic, g_.kh, g_.kw}, memory::data_type::f32, tag::oihw);
  const memory::desc any_w({g_.oc, g_.ic, g_.kh, g_.kw}, memory::data_type::f32, tag::any);
  const memory::dims strides{g_.sh, g_.sw}, pad{g_.ph, g_.pw};
  // Right padding chosen so the output size matches out_h/out_w exactly.
  const memory::dims pad_r{(ys.h - 1) * g_.sh + g_.kh - x.h() - g_.ph,
                           (ys.w - 1) * g_.sw + g_.kw - x.w() - g_.pw};
  convolution_forward::primitive_desc fpd(
      {prop_kind::forward_training, algo, p->src_md, any_w, p->dst_md, strides, pad, pad_r}, eng);
  convolution_backward_data::primitive_desc dpd(
      {algo, p->src_md, any_w, p->dst_md, strides, pad, pad_r}, eng, fpd);
  convolution_backward_weights::primitive_desc wpd(
      {algo, p->src_md, any_w, p->dst_md, strides, pad, pad_r}, eng, fpd);
  p->fwd = convolution_forward(fpd);
  p->bwd_data = convolution_backward_data(dpd);
  p->bwd_weights = convolution_backward_weights(wpd);
  p->fwd_w_md = fpd.weights_desc();
  p->bwd_w_md = dpd.weights_desc();
  p->dw_md = wpd.diff_weights_desc();
  p->w_to_fwd = reorder(reorder::primitive_desc(eng, p->user_w_md, eng, p->fwd_w_md));
  p->w_to_bwd = reorder(reorder::primitive_desc(eng, p->user_w_md, eng, p->bwd_w_md));
  post_ops sum;
  sum.append_sum(1.f);
  primitive_attr acc;
  acc.set_post_ops(sum);
  p->dw_to_user = reorder(reorder::primitive_desc(eng, p->dw_md, eng, p->user_w_md, acc));
  p->fwd_w = AlignedBuffer(floats_of(p->fwd_w_md));
  p->bwd_w = AlignedBuffer(floats_of(p->bwd_w_md));
  p->dw = AlignedBuffer(floats_of(p->dw_md));
  p->info = std::string("fwd=") + fpd.impl_info_str() + " bwd_d=" + dpd.impl_info_str() +
            " bwd_w=" + wpd.impl_info_str();
  return p;
}

DnnlConv::Prims& DnnlConv::prims_for(const Tensor& x) {
  const Key key{x.n(), x.h(), x.w(), int(x.layout())};
  if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
  const std::string what = "conv " + std::to_string(g_.ic) + "->" + std::to_string(g_.oc) +
                           " k" + std::to_string(g_.kh) + " on " + to_string(x.shape());
  std::unique_ptr<Prims> p;
  // Winograd F(4x4, 3x3) where oneDNN implements it (3x3, stride 1, enough
  // channels); direct convolution otherwise.
  if (winograd_ && g_.kh == 3 && g_.kw == 3 && g_.sh == 1 && g_.sw == 1) {
    try {
      p = create(x, dnnl::algorithm::convolution_winograd);
    } catch (const dnnl::error&) {
      p = nullptr;  // unimplemented for this shape: use direct below
    }
  }
  if (!p) p = dnnl_try(what, [&] { return create(x, dnnl::algorithm::convolution_direct); });
  details_ = std::string(name()) + " " + p->info;
  return *cache_.emplace(key, std::move(p)).first->second;
}

void DnnlConv::forward(const Tensor& x, const float* w, Tensor& y) {
  require(y.layout() == ctx_->blocked, "conv backend 'dnnl' writes this CPU's blocked layout");
  Prims& p = prims_for(x);
  const auto& c = *ctx_;
  const memory wu = mem_of(p.user_w_md, c, w), wf = mem_of(p.fwd_w_md, c, p.fwd_w.data());
  dnnl_exec(c, p.w_to_fwd, {{DNNL_ARG_FROM, wu}, {DNNL_ARG_TO, wf}}, "conv weight reorder");
  dnnl_exec(c, p.fwd,
            {{DNNL_ARG_SRC, mem_of(p.src_md, c, x.data())},
             {DNNL_ARG_WEIGHTS, wf},
             {DNNL_ARG_DST, mem_of(p.dst_md, c, y.data())}},
            "conv forward");
}

void DnnlConv::backward(const Tensor& x, const float* w, const Tensor& dy, float* dw,
                        Tensor& dx) {
  Prims& p = prims_for(x);
  const auto& c = *ctx_;
  const memory ddst = mem_of(p.dst_md, c, dy.data());
  const memory dwk = mem_of(p.dw_md, c, p.dw.data());
  dnnl_exec(c, p.bwd_weights,
            {{DNNL_ARG_SRC, mem_of(p.src_md, c, x.data())},
             {DNNL_ARG_DIFF_DST, ddst},
             {DNNL_ARG_DIFF_WEIGHTS, dwk}},
            "conv backward weights");
  dnnl_exec(c, p.dw_to_user, {{DNNL_ARG_FROM, dwk}, {DNNL_ARG_TO, mem_of(p.user_w_md, c, dw)}},
            "conv weight-gradient reorder");
  if (dx.empty()) return;
  const memory wb = mem_of(p.bwd_w_md, c, p.bwd_w.data());
  dnnl_exec(c, p.w_to_bwd, {{DNNL_ARG_FROM, mem_of(p.user_w_md, c, w)}, {DNNL_ARG_TO, wb}},
            "conv weight reorder (bwd)");
  dnnl_exec(c, p.bwd_data,
            {{DNNL_ARG_DIFF_DST, ddst},
             {DNNL_ARG_WEIGHTS, wb},
             {DNNL_ARG_DIFF_SRC, mem_of(p.src_md, c, dx.data())}},
            "conv backward data");
}

}  // namespace signvote::nn
#endif  // SIGNVOTE_HAVE_DNNL
