#include "worker/mnist/network.h"

#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

namespace parzen::mnist {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;
using Args = std::unordered_map<int, memory>;

constexpr int64_t kImageSide = 28;
constexpr int64_t kClasses = 10;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A tensor the user keeps in a plain layout and a primitive may want in
// another: `prim` is what primitives read and write; when the layouts
// differ, `user` is a separate buffer and reorders copy between them.
struct Tensor {
  memory user;
  memory prim;
  bool differs = false;

  Tensor() = default;
  Tensor(const memory::desc& user_md, const memory::desc& prim_md, const dnnl::engine& eng,
         void* user_handle) {
    user = memory(user_md, eng, user_handle);
    differs = user_md != prim_md;
    prim = differs ? memory(prim_md, eng) : user;
  }
  void ToPrim(dnnl::stream& s) {
    if (differs) dnnl::reorder(user, prim).execute(s, user, prim);
  }
  void ToUser(dnnl::stream& s) {
    if (differs) dnnl::reorder(prim, user).execute(s, prim, user);
  }
};

// A memory seen in the layout a primitive wants: the memory itself when
// the layouts agree, else a copy that Sync() refreshes (a reorder).
struct Relayout {
  memory source;
  memory view;
  bool differs = false;

  Relayout() = default;
  Relayout(const memory& from, const memory::desc& want, const dnnl::engine& eng)
      : source(from), view(from.get_desc() == want ? from : memory(want, eng)),
        differs(from.get_desc() != want) {}
  // Copies source -> view (inputs) ...
  void Pull(dnnl::stream& s) {
    if (differs) dnnl::reorder(source, view).execute(s, source, view);
  }
  // ... or view -> source (outputs).
  void Push(dnnl::stream& s) {
    if (differs) dnnl::reorder(view, source).execute(s, view, source);
  }
};

// bf16 is the top half of an fp32; round to nearest even on the way down.
float Bf16ToFloat(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
uint16_t FloatToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

// Multiplies element i of an fp32 or bf16 buffer by factor(i).
template <typename F>
void Scale(void* data, size_t n, bool bf16, F factor) {
  if (bf16) {
    auto* p = static_cast<uint16_t*>(data);
    for (size_t i = 0; i < n; ++i) p[i] = FloatToBf16(Bf16ToFloat(p[i]) * factor(i));
  } else {
    auto* p = static_cast<float*>(data);
    for (size_t i = 0; i < n; ++i) p[i] *= factor(i);
  }
}

// Dropout in place on whatever layout the buffer has: elementwise, so the
// layout does not matter as long as backward uses the same mask. Four
// decisions per 64-bit draw keep the RNG off the profile.
void DropoutForward(const memory& m, double p, uint64_t seed, std::vector<uint8_t>* mask) {
  const bool bf16 = m.get_desc().data_type() == dt::bf16;
  const size_t n = m.get_desc().get_size() / (bf16 ? 2 : 4);
  mask->resize(n);
  const auto threshold = static_cast<uint32_t>(p * 65536.0);
  uint64_t state = seed;
  for (size_t i = 0; i < n; i += 4) {
    uint64_t bits = SplitMix64(state);
    for (size_t j = i; j < std::min(n, i + 4); ++j, bits >>= 16) {
      (*mask)[j] = (bits & 0xffff) >= threshold;
    }
  }
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  Scale(m.get_data_handle(), n, bf16, [&](size_t i) { return (*mask)[i] ? scale : 0.0f; });
}

void DropoutBackward(const memory& grad, double p, const std::vector<uint8_t>& mask) {
  const bool bf16 = grad.get_desc().data_type() == dt::bf16;
  const size_t n = grad.get_desc().get_size() / (bf16 ? 2 : 4);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  Scale(grad.get_data_handle(), n, bf16, [&](size_t i) { return mask[i] ? scale : 0.0f; });
}

class OneDnnNetwork final : public Network {
 public:
  OneDnnNetwork(const NetworkShape& shape, int64_t batch, uint64_t seed, Precision precision);

  const float* Forward(const float* images, bool training, uint64_t dropout_seed) override;
  void Backward(const float* logits_grad) override;
  std::vector<Parameter>& parameters() override;
  std::vector<ParameterSpan> OptimizerSpans() override;
  std::vector<std::string> Kernels() const override { return kernels_; }
  int64_t batch_size() const override { return batch_; }

 private:
  enum ParamIndex { kConv1W, kConv1B, kConv2W, kConv2B, kFc1W, kFc1B, kFc2W, kFc2B };
  Parameter& P(ParamIndex i) { return params_[i]; }
  void Build();
  // The weight tensors and their gradients, in params_ order of the weights.
  std::array<Tensor*, 4> Weights() { return {&conv1_w_, &conv2_w_, &fc1_w_, &fc2_w_}; }
  std::array<Tensor*, 4> WeightGrads() { return {&conv1_dw_, &conv2_dw_, &fc1_dw_, &fc2_dw_}; }

  const NetworkShape shape_;
  const int64_t batch_;
  // Data type of activations and of the weights the primitives read.
  const dt act_;
  dnnl::engine eng_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{eng_};
  std::vector<Parameter> params_;
  std::vector<float> input_;   // [B,1,28,28], copied so the handle is stable
  std::vector<float> logits_;  // [B,10]
  std::vector<float> logits_grad_;
  std::vector<uint8_t> mask1_, mask2_;
  bool last_forward_trained_ = false;
  // In fp32 the master weights are the primitives' own (prim) buffers and
  // their gradients share those layouts, so a training step converts no
  // layout; the plain params_ copies are refreshed only when asked for.
  // In bf16 the master weights are params_ (fp32, plain), converted to the
  // primitives' bf16 weights before each Forward.
  const bool prim_master_;
  // Whose weights are current: params_ after parameters() was called (the
  // caller may hold on to them and change them at any time, so every
  // Forward reads them), the prim buffers once OptimizerSpans took over.
  bool plain_current_ = true;
  bool plain_stale_ = false;  // the prim weights or gradients are newer than params_
  std::vector<std::string> kernels_;

  // Forward.
  Tensor src_;
  Tensor conv1_w_, conv2_w_, fc1_w_, fc2_w_;
  memory conv1_b_, conv2_b_, fc1_b_, fc2_b_;
  memory conv1_dst_, conv2_dst_, pool_dst_, pool_ws_, fc1_dst_;
  Tensor logits_mem_;
  dnnl::primitive conv1_fwd_, conv2_fwd_, pool_fwd_, fc1_fwd_, fc2_fwd_;

  // Backward.
  Tensor logits_grad_mem_;
  memory fc1_dst_grad_, fc1_pre_grad_, pool_dst_grad_, conv2_dst_grad_, conv2_pre_grad_;
  memory conv1_dst_grad_, conv1_pre_grad_;
  // conv2's input when it wants another layout than conv1's output.
  bool conv2_src_differs_ = false;
  memory conv2_src_;
  Relayout conv2_bw_src_, conv2_bw_diff_dst_, conv2_bd_diff_dst_, conv2_bd_diff_src_;
  Relayout conv1_bw_src_, conv1_bw_diff_dst_;
  // Gradients in the layout the optimizer reads (prim), with plain copies
  // (user); the backward-weights primitives write the *_written_ views.
  Tensor conv1_dw_, conv2_dw_, fc1_dw_, fc2_dw_;
  Relayout conv1_dw_written_, conv2_dw_written_, fc1_dw_written_, fc2_dw_written_;
  Relayout conv2_w_bwd_;  // conv2 weights in the backward-data layout
  memory conv1_db_, conv2_db_, fc1_db_, fc2_db_;
  dnnl::primitive fc2_bwd_data_, fc2_bwd_weights_, fc1_relu_bwd_, fc1_bwd_data_, fc1_bwd_weights_;
  dnnl::primitive pool_bwd_, conv2_relu_bwd_, conv2_bwd_data_, conv2_bwd_weights_;
  dnnl::primitive conv1_relu_bwd_, conv1_bwd_weights_;
};

OneDnnNetwork::OneDnnNetwork(const NetworkShape& shape, int64_t batch, uint64_t seed,
                             Precision precision)
    : shape_(shape),
      batch_(batch),
      act_(precision == Precision::kBf16 ? dt::bf16 : dt::f32),
      prim_master_(act_ == dt::f32) {
  const int64_t c1 = shape.conv1_channels, c2 = shape.conv2_channels, f = shape.fc_units;
  const int64_t pooled = (kImageSide - 4) / 2;  // 12
  params_ = {
      {"conv1.weight", {c1, 1, 3, 3}, {}, {}},     {"conv1.bias", {c1}, {}, {}},
      {"conv2.weight", {c2, c1, 3, 3}, {}, {}},    {"conv2.bias", {c2}, {}, {}},
      {"fc1.weight", {f, c2, pooled, pooled}, {}, {}}, {"fc1.bias", {f}, {}, {}},
      {"fc2.weight", {kClasses, f}, {}, {}},       {"fc2.bias", {kClasses}, {}, {}},
  };
  // PyTorch's default for Conv2d and Linear: weights and biases uniform in
  // +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)).
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < params_.size(); i += 2) {
    Parameter& w = params_[i];
    int64_t fan_in = 1;
    for (size_t d = 1; d < w.dims.size(); ++d) fan_in *= w.dims[d];
    const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
    std::uniform_real_distribution<float> u(-bound, bound);
    for (Parameter* p : {&params_[i], &params_[i + 1]}) {
      int64_t n = 1;
      for (int64_t d : p->dims) n *= d;
      p->value.resize(n);
      p->grad.assign(n, 0.0f);
      for (float& v : p->value) v = u(rng);
    }
  }
  input_.assign(batch * kImageSide * kImageSide, 0.0f);
  logits_.assign(batch * kClasses, 0.0f);
  logits_grad_.assign(batch * kClasses, 0.0f);
  Build();
}

void OneDnnNetwork::Build() {
  const int64_t n = batch_, c1 = shape_.conv1_channels, c2 = shape_.conv2_channels;
  const int64_t f = shape_.fc_units;
  const memory::dims strides = {1, 1}, no_pad = {0, 0};
  const memory::dims src_tz = {n, 1, 28, 28}, conv1_dst_tz = {n, c1, 26, 26};
  const memory::dims conv2_dst_tz = {n, c2, 24, 24}, pool_dst_tz = {n, c2, 12, 12};
  // Activations and the weights primitives read are in act_; gradients of
  // weights and biases, and everything we own, stay fp32.
  auto any = [this](const memory::dims& d) { return memory::desc(d, act_, tag::any); };
  auto any_f32 = [](const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); };
  auto plain = [](const memory::dims& d, tag t) { return memory::desc(d, dt::f32, t); };
  auto note = [this](const char* primitive, const auto& pd) {
    kernels_.push_back(std::string(primitive) + ": " + pd.impl_info_str());
  };
  // Backward-weights primitives choose their gradient layout. Where that
  // differs from the weights', the same kernel is asked for the weights'
  // layout; if it cannot (another kernel would answer, for odd channel
  // counts a reference one 10-30 times slower), a reorder bridges the two.
  // `kind` is an empty primitive descriptor of the type to build.
  auto bwd_weights_pd = [this](auto kind, auto make_desc, const memory::desc& weights_md,
                               const memory::desc& any_md, const auto& hint) {
    using Pd = decltype(kind);
    Pd chosen(make_desc(any_md), eng_, hint);
    if (!prim_master_ || chosen.diff_weights_desc() == weights_md) return chosen;
    try {
      Pd same_layout(make_desc(weights_md), eng_, hint);
      if (same_layout.impl_info_str() == chosen.impl_info_str()) return same_layout;
    } catch (const dnnl::error&) {
    }
    return chosen;
  };
  // Binds weight `w`'s gradient: kept in the weights' own layout in fp32 (so
  // the optimizer works element-wise on the primitives' buffers), in the
  // backward primitive's choice in bf16 (reordered to plain each step);
  // `written` is what the backward-weights primitive `bw_pd` writes.
  auto keep_grad = [&](const char* primitive, const auto& bw_pd, const memory::desc& weights_md,
                       const memory::desc& plain_md, ParamIndex w, Tensor* grad,
                       Relayout* written) {
    note(primitive, bw_pd);
    const memory::desc& chosen = bw_pd.diff_weights_desc();
    *grad = Tensor(plain_md, prim_master_ ? weights_md : chosen, eng_, P(w).grad.data());
    *written = Relayout(grad->prim, chosen, eng_);
  };

  dnnl::post_ops relu_ops;
  relu_ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr relu_attr;
  relu_attr.set_post_ops(relu_ops);

  // conv1 + ReLU. Primitives choose their layouts (format any); tensors we
  // own in plain layouts are reordered only where the choice differs.
  auto conv1_d = dnnl::convolution_forward::desc(
      prop_kind::forward_training, algorithm::convolution_direct, any(src_tz),
      any({c1, 1, 3, 3}), plain({c1}, tag::x), any(conv1_dst_tz), strides, no_pad, no_pad);
  auto conv1_pd = dnnl::convolution_forward::primitive_desc(conv1_d, relu_attr, eng_);
  note("conv1 forward", conv1_pd);
  src_ = Tensor(plain(src_tz, tag::nchw), conv1_pd.src_desc(), eng_, input_.data());
  conv1_w_ = Tensor(plain({c1, 1, 3, 3}, tag::oihw), conv1_pd.weights_desc(), eng_,
                    P(kConv1W).value.data());
  conv1_b_ = memory(plain({c1}, tag::x), eng_, P(kConv1B).value.data());
  conv1_dst_ = memory(conv1_pd.dst_desc(), eng_);
  conv1_fwd_ = dnnl::convolution_forward(conv1_pd);

  // conv2 + ReLU. It chooses its input layout too: for channel counts that
  // are not a multiple of the vector width, conv1's choice would leave conv2
  // on oneDNN's reference kernels (about 100 times slower), so reorder.
  auto conv2_d = dnnl::convolution_forward::desc(
      prop_kind::forward_training, algorithm::convolution_direct, any(conv1_dst_tz),
      any({c2, c1, 3, 3}), plain({c2}, tag::x), any(conv2_dst_tz), strides, no_pad, no_pad);
  auto conv2_pd = dnnl::convolution_forward::primitive_desc(conv2_d, relu_attr, eng_);
  note("conv2 forward", conv2_pd);
  conv2_src_differs_ = conv2_pd.src_desc() != conv1_pd.dst_desc();
  conv2_src_ = conv2_src_differs_ ? memory(conv2_pd.src_desc(), eng_) : conv1_dst_;
  conv2_w_ = Tensor(plain({c2, c1, 3, 3}, tag::oihw), conv2_pd.weights_desc(), eng_,
                    P(kConv2W).value.data());
  conv2_b_ = memory(plain({c2}, tag::x), eng_, P(kConv2B).value.data());
  conv2_dst_ = memory(conv2_pd.dst_desc(), eng_);
  conv2_fwd_ = dnnl::convolution_forward(conv2_pd);

  // Max-pool 2x2; training keeps a workspace (argmax) for backward.
  auto pool_d = dnnl::pooling_forward::desc(prop_kind::forward_training, algorithm::pooling_max,
                                            conv2_pd.dst_desc(), any(pool_dst_tz), {2, 2}, {2, 2},
                                            no_pad, no_pad);
  auto pool_pd = dnnl::pooling_forward::primitive_desc(pool_d, eng_);
  note("max-pool forward", pool_pd);
  pool_dst_ = memory(pool_pd.dst_desc(), eng_);
  pool_ws_ = memory(pool_pd.workspace_desc(), eng_);
  pool_fwd_ = dnnl::pooling_forward(pool_pd);

  // fc1 + ReLU straight from the 4-D pooled map (weights f x c2 x 12 x 12).
  auto fc1_d = dnnl::inner_product_forward::desc(prop_kind::forward_training, pool_pd.dst_desc(),
                                                 any({f, c2, 12, 12}), plain({f}, tag::x),
                                                 any({n, f}));
  auto fc1_pd = dnnl::inner_product_forward::primitive_desc(fc1_d, relu_attr, eng_);
  note("fc1 forward", fc1_pd);
  fc1_w_ = Tensor(plain({f, c2, 12, 12}, tag::oihw), fc1_pd.weights_desc(), eng_,
                  P(kFc1W).value.data());
  fc1_b_ = memory(plain({f}, tag::x), eng_, P(kFc1B).value.data());
  fc1_dst_ = memory(fc1_pd.dst_desc(), eng_);
  fc1_fwd_ = dnnl::inner_product_forward(fc1_pd);

  // fc2 -> logits, in a plain layout the loss reads directly.
  auto fc2_d = dnnl::inner_product_forward::desc(prop_kind::forward_training, fc1_pd.dst_desc(),
                                                 any({kClasses, f}), plain({kClasses}, tag::x),
                                                 plain({n, kClasses}, tag::nc));
  auto fc2_pd = dnnl::inner_product_forward::primitive_desc(fc2_d, eng_);
  note("fc2 forward", fc2_pd);
  fc2_w_ = Tensor(plain({kClasses, f}, tag::oi), fc2_pd.weights_desc(), eng_,
                  P(kFc2W).value.data());
  fc2_b_ = memory(plain({kClasses}, tag::x), eng_, P(kFc2B).value.data());
  logits_mem_ = Tensor(plain({n, kClasses}, tag::nc), fc2_pd.dst_desc(), eng_, logits_.data());
  fc2_fwd_ = dnnl::inner_product_forward(fc2_pd);

  // ---- Backward, each primitive hinted by its forward counterpart.
  // The logits are fp32 for the loss; their gradient enters backward in act_.
  const memory::desc grad_md({n, kClasses}, act_, tag::nc);
  logits_grad_mem_ = Tensor(plain({n, kClasses}, tag::nc), grad_md, eng_, logits_grad_.data());
  auto fc2_bd_d = dnnl::inner_product_backward_data::desc(fc1_pd.dst_desc(), fc2_pd.weights_desc(),
                                                          grad_md);
  auto fc2_bd_pd = dnnl::inner_product_backward_data::primitive_desc(fc2_bd_d, eng_, fc2_pd);
  note("fc2 backward data", fc2_bd_pd);
  fc1_dst_grad_ = memory(fc1_pd.dst_desc(), eng_);
  fc2_bwd_data_ = dnnl::inner_product_backward_data(fc2_bd_pd);
  auto fc2_bw_pd = bwd_weights_pd(
      dnnl::inner_product_backward_weights::primitive_desc(),
      [&](const memory::desc& w) {
        return dnnl::inner_product_backward_weights::desc(fc1_pd.dst_desc(), w,
                                                          plain({kClasses}, tag::x), grad_md);
      },
      fc2_pd.weights_desc(), any_f32({kClasses, f}), fc2_pd);
  keep_grad("fc2 backward weights", fc2_bw_pd, fc2_pd.weights_desc(), plain({kClasses, f}, tag::oi),
            kFc2W, &fc2_dw_, &fc2_dw_written_);
  fc2_db_ = memory(plain({kClasses}, tag::x), eng_, P(kFc2B).grad.data());
  fc2_bwd_weights_ = dnnl::inner_product_backward_weights(fc2_bw_pd);

  // ReLU backward from the (post-dropout) output: where dropout zeroed a
  // unit its gradient is already zero, elsewhere the sign is unchanged.
  auto relu_bwd = [&](const memory::desc& md) {
    auto fwd_hint = dnnl::eltwise_forward::primitive_desc(
        dnnl::eltwise_forward::desc(prop_kind::forward_training,
                                    algorithm::eltwise_relu_use_dst_for_bwd, md, 0.0f, 0.0f),
        eng_);
    auto d = dnnl::eltwise_backward::desc(algorithm::eltwise_relu_use_dst_for_bwd, md, md, 0.0f,
                                          0.0f);
    return dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(d, eng_, fwd_hint));
  };
  fc1_pre_grad_ = memory(fc1_pd.dst_desc(), eng_);
  fc1_relu_bwd_ = relu_bwd(fc1_pd.dst_desc());

  auto fc1_bd_d = dnnl::inner_product_backward_data::desc(pool_pd.dst_desc(), fc1_pd.weights_desc(),
                                                          fc1_pd.dst_desc());
  auto fc1_bd_pd = dnnl::inner_product_backward_data::primitive_desc(fc1_bd_d, eng_, fc1_pd);
  note("fc1 backward data", fc1_bd_pd);
  pool_dst_grad_ = memory(pool_pd.dst_desc(), eng_);
  fc1_bwd_data_ = dnnl::inner_product_backward_data(fc1_bd_pd);
  auto fc1_bw_pd = bwd_weights_pd(
      dnnl::inner_product_backward_weights::primitive_desc(),
      [&](const memory::desc& w) {
        return dnnl::inner_product_backward_weights::desc(pool_pd.dst_desc(), w,
                                                          plain({f}, tag::x), fc1_pd.dst_desc());
      },
      fc1_pd.weights_desc(), any_f32({f, c2, 12, 12}), fc1_pd);
  keep_grad("fc1 backward weights", fc1_bw_pd, fc1_pd.weights_desc(),
            plain({f, c2, 12, 12}, tag::oihw), kFc1W, &fc1_dw_, &fc1_dw_written_);
  fc1_db_ = memory(plain({f}, tag::x), eng_, P(kFc1B).grad.data());
  fc1_bwd_weights_ = dnnl::inner_product_backward_weights(fc1_bw_pd);

  auto pool_bd = dnnl::pooling_backward::desc(algorithm::pooling_max, conv2_pd.dst_desc(),
                                              pool_pd.dst_desc(), {2, 2}, {2, 2}, no_pad, no_pad);
  auto pool_bpd = dnnl::pooling_backward::primitive_desc(pool_bd, eng_, pool_pd);
  note("max-pool backward", pool_bpd);
  conv2_dst_grad_ = memory(conv2_pd.dst_desc(), eng_);
  pool_bwd_ = dnnl::pooling_backward(pool_bpd);

  conv2_pre_grad_ = memory(conv2_pd.dst_desc(), eng_);
  conv2_relu_bwd_ = relu_bwd(conv2_pd.dst_desc());
  // conv2's backward kernels pick their own layouts for the same reason as
  // its forward: the forward's choice can leave them on reference code.
  auto conv2_bw_pd = bwd_weights_pd(
      dnnl::convolution_backward_weights::primitive_desc(),
      [&](const memory::desc& w) {
        return dnnl::convolution_backward_weights::desc(
            algorithm::convolution_direct, any(conv1_dst_tz), w, plain({c2}, tag::x),
            any(conv2_dst_tz), strides, no_pad, no_pad);
      },
      conv2_pd.weights_desc(), any_f32({c2, c1, 3, 3}), conv2_pd);
  conv2_bw_src_ = Relayout(conv2_src_, conv2_bw_pd.src_desc(), eng_);
  conv2_bw_diff_dst_ = Relayout(conv2_pre_grad_, conv2_bw_pd.diff_dst_desc(), eng_);
  keep_grad("conv2 backward weights", conv2_bw_pd, conv2_pd.weights_desc(),
            plain({c2, c1, 3, 3}, tag::oihw), kConv2W, &conv2_dw_, &conv2_dw_written_);
  conv2_db_ = memory(plain({c2}, tag::x), eng_, P(kConv2B).grad.data());
  conv2_bwd_weights_ = dnnl::convolution_backward_weights(conv2_bw_pd);
  // Backward-data kernels want the weights in their own layout (the forward
  // one would fall back to oneDNN's slow reference code), so they get their
  // own copy, reordered from the forward's.
  auto conv2_bd_d = dnnl::convolution_backward_data::desc(
      algorithm::convolution_direct, any(conv1_dst_tz), any({c2, c1, 3, 3}),
      any(conv2_dst_tz), strides, no_pad, no_pad);
  auto conv2_bd_pd = dnnl::convolution_backward_data::primitive_desc(conv2_bd_d, eng_, conv2_pd);
  note("conv2 backward data", conv2_bd_pd);
  conv2_w_bwd_ = Relayout(conv2_w_.prim, conv2_bd_pd.weights_desc(), eng_);
  conv1_dst_grad_ = memory(conv1_pd.dst_desc(), eng_);
  conv2_bd_diff_dst_ = Relayout(conv2_pre_grad_, conv2_bd_pd.diff_dst_desc(), eng_);
  conv2_bd_diff_src_ = Relayout(conv1_dst_grad_, conv2_bd_pd.diff_src_desc(), eng_);
  conv2_bwd_data_ = dnnl::convolution_backward_data(conv2_bd_pd);

  conv1_pre_grad_ = memory(conv1_pd.dst_desc(), eng_);
  conv1_relu_bwd_ = relu_bwd(conv1_pd.dst_desc());
  // On the forward's layouts where a JIT kernel takes them (no copies);
  // else on layouts of its own: with AVX2 only (no AVX-512), oneDNN 2.6
  // has no JIT kernel for the forward's plain one-channel input.
  auto conv1_bw = [&](const memory::desc& src, const memory::desc& diff_dst) {
    return bwd_weights_pd(
        dnnl::convolution_backward_weights::primitive_desc(),
        [&](const memory::desc& w) {
          return dnnl::convolution_backward_weights::desc(algorithm::convolution_direct, src, w,
                                                          plain({c1}, tag::x), diff_dst, strides,
                                                          no_pad, no_pad);
        },
        conv1_pd.weights_desc(), any_f32({c1, 1, 3, 3}), conv1_pd);
  };
  auto conv1_bw_pd = conv1_bw(conv1_pd.src_desc(), conv1_pd.dst_desc());
  if (std::string(conv1_bw_pd.impl_info_str()).find("ref") != std::string::npos) {
    conv1_bw_pd = conv1_bw(any(src_tz), any(conv1_dst_tz));
  }
  conv1_bw_src_ = Relayout(src_.prim, conv1_bw_pd.src_desc(), eng_);
  conv1_bw_diff_dst_ = Relayout(conv1_pre_grad_, conv1_bw_pd.diff_dst_desc(), eng_);
  keep_grad("conv1 backward weights", conv1_bw_pd, conv1_pd.weights_desc(),
            plain({c1, 1, 3, 3}, tag::oihw), kConv1W, &conv1_dw_, &conv1_dw_written_);
  conv1_db_ = memory(plain({c1}, tag::x), eng_, P(kConv1B).grad.data());
  conv1_bwd_weights_ = dnnl::convolution_backward_weights(conv1_bw_pd);
}

const float* OneDnnNetwork::Forward(const float* images, bool training, uint64_t dropout_seed) {
  std::copy(images, images + input_.size(), input_.begin());
  src_.ToPrim(stream_);
  if (plain_current_) {
    for (Tensor* w : Weights()) w->ToPrim(stream_);
  }
  conv1_fwd_.execute(stream_, {{DNNL_ARG_SRC, src_.prim},
                               {DNNL_ARG_WEIGHTS, conv1_w_.prim},
                               {DNNL_ARG_BIAS, conv1_b_},
                               {DNNL_ARG_DST, conv1_dst_}});
  if (conv2_src_differs_) dnnl::reorder(conv1_dst_, conv2_src_).execute(stream_, conv1_dst_, conv2_src_);
  conv2_fwd_.execute(stream_, {{DNNL_ARG_SRC, conv2_src_},
                               {DNNL_ARG_WEIGHTS, conv2_w_.prim},
                               {DNNL_ARG_BIAS, conv2_b_},
                               {DNNL_ARG_DST, conv2_dst_}});
  pool_fwd_.execute(stream_, {{DNNL_ARG_SRC, conv2_dst_},
                              {DNNL_ARG_DST, pool_dst_},
                              {DNNL_ARG_WORKSPACE, pool_ws_}});
  stream_.wait();
  if (training && shape_.dropout1 > 0) {
    DropoutForward(pool_dst_, shape_.dropout1, dropout_seed, &mask1_);
  }
  fc1_fwd_.execute(stream_, {{DNNL_ARG_SRC, pool_dst_},
                             {DNNL_ARG_WEIGHTS, fc1_w_.prim},
                             {DNNL_ARG_BIAS, fc1_b_},
                             {DNNL_ARG_DST, fc1_dst_}});
  stream_.wait();
  if (training && shape_.dropout2 > 0) {
    DropoutForward(fc1_dst_, shape_.dropout2, dropout_seed ^ 0x5bd1e995, &mask2_);
  }
  fc2_fwd_.execute(stream_, {{DNNL_ARG_SRC, fc1_dst_},
                             {DNNL_ARG_WEIGHTS, fc2_w_.prim},
                             {DNNL_ARG_BIAS, fc2_b_},
                             {DNNL_ARG_DST, logits_mem_.prim}});
  logits_mem_.ToUser(stream_);
  stream_.wait();
  last_forward_trained_ = training;
  return logits_.data();
}

void OneDnnNetwork::Backward(const float* logits_grad) {
  std::copy(logits_grad, logits_grad + logits_grad_.size(), logits_grad_.begin());
  logits_grad_mem_.ToPrim(stream_);
  fc2_bwd_weights_.execute(stream_, {{DNNL_ARG_SRC, fc1_dst_},
                                     {DNNL_ARG_DIFF_DST, logits_grad_mem_.prim},
                                     {DNNL_ARG_DIFF_WEIGHTS, fc2_dw_written_.view},
                                     {DNNL_ARG_DIFF_BIAS, fc2_db_}});
  fc2_bwd_data_.execute(stream_, {{DNNL_ARG_DIFF_DST, logits_grad_mem_.prim},
                                  {DNNL_ARG_WEIGHTS, fc2_w_.prim},
                                  {DNNL_ARG_DIFF_SRC, fc1_dst_grad_}});
  stream_.wait();
  if (last_forward_trained_ && shape_.dropout2 > 0) {
    DropoutBackward(fc1_dst_grad_, shape_.dropout2, mask2_);
  }
  fc1_relu_bwd_.execute(stream_, {{DNNL_ARG_DST, fc1_dst_},
                                  {DNNL_ARG_DIFF_DST, fc1_dst_grad_},
                                  {DNNL_ARG_DIFF_SRC, fc1_pre_grad_}});
  fc1_bwd_weights_.execute(stream_, {{DNNL_ARG_SRC, pool_dst_},
                                     {DNNL_ARG_DIFF_DST, fc1_pre_grad_},
                                     {DNNL_ARG_DIFF_WEIGHTS, fc1_dw_written_.view},
                                     {DNNL_ARG_DIFF_BIAS, fc1_db_}});
  fc1_bwd_data_.execute(stream_, {{DNNL_ARG_DIFF_DST, fc1_pre_grad_},
                                  {DNNL_ARG_WEIGHTS, fc1_w_.prim},
                                  {DNNL_ARG_DIFF_SRC, pool_dst_grad_}});
  stream_.wait();
  if (last_forward_trained_ && shape_.dropout1 > 0) {
    DropoutBackward(pool_dst_grad_, shape_.dropout1, mask1_);
  }
  pool_bwd_.execute(stream_, {{DNNL_ARG_DIFF_DST, pool_dst_grad_},
                              {DNNL_ARG_DIFF_SRC, conv2_dst_grad_},
                              {DNNL_ARG_WORKSPACE, pool_ws_}});
  conv2_relu_bwd_.execute(stream_, {{DNNL_ARG_DST, conv2_dst_},
                                    {DNNL_ARG_DIFF_DST, conv2_dst_grad_},
                                    {DNNL_ARG_DIFF_SRC, conv2_pre_grad_}});
  conv2_bw_src_.Pull(stream_);
  conv2_bw_diff_dst_.Pull(stream_);
  conv2_bwd_weights_.execute(stream_, {{DNNL_ARG_SRC, conv2_bw_src_.view},
                                       {DNNL_ARG_DIFF_DST, conv2_bw_diff_dst_.view},
                                       {DNNL_ARG_DIFF_WEIGHTS, conv2_dw_written_.view},
                                       {DNNL_ARG_DIFF_BIAS, conv2_db_}});
  conv2_w_bwd_.Pull(stream_);
  conv2_bd_diff_dst_.Pull(stream_);
  conv2_bwd_data_.execute(stream_, {{DNNL_ARG_DIFF_DST, conv2_bd_diff_dst_.view},
                                    {DNNL_ARG_WEIGHTS, conv2_w_bwd_.view},
                                    {DNNL_ARG_DIFF_SRC, conv2_bd_diff_src_.view}});
  conv2_bd_diff_src_.Push(stream_);
  conv1_relu_bwd_.execute(stream_, {{DNNL_ARG_DST, conv1_dst_},
                                    {DNNL_ARG_DIFF_DST, conv1_dst_grad_},
                                    {DNNL_ARG_DIFF_SRC, conv1_pre_grad_}});
  conv1_bw_src_.Pull(stream_);
  conv1_bw_diff_dst_.Pull(stream_);
  conv1_bwd_weights_.execute(stream_, {{DNNL_ARG_SRC, conv1_bw_src_.view},
                                       {DNNL_ARG_DIFF_DST, conv1_bw_diff_dst_.view},
                                       {DNNL_ARG_DIFF_WEIGHTS, conv1_dw_written_.view},
                                       {DNNL_ARG_DIFF_BIAS, conv1_db_}});
  for (Relayout* g : {&conv1_dw_written_, &conv2_dw_written_, &fc1_dw_written_, &fc2_dw_written_}) {
    g->Push(stream_);
  }
  if (prim_master_) {
    plain_stale_ = true;
  } else {
    for (Tensor* g : WeightGrads()) g->ToUser(stream_);
  }
  stream_.wait();
}

std::vector<Parameter>& OneDnnNetwork::parameters() {
  if (plain_stale_) {
    for (Tensor* w : Weights()) w->ToUser(stream_);
    for (Tensor* g : WeightGrads()) g->ToUser(stream_);
    stream_.wait();
    plain_stale_ = false;
  }
  plain_current_ = true;
  return params_;
}

std::vector<ParameterSpan> OneDnnNetwork::OptimizerSpans() {
  auto plain_span = [](Parameter& p) {
    return ParameterSpan{p.value.data(), p.grad.data(), p.value.size()};
  };
  std::vector<ParameterSpan> spans;
  if (!prim_master_) {
    for (Parameter& p : params_) spans.push_back(plain_span(p));
    return spans;
  }
  if (plain_current_) {
    for (Tensor* w : Weights()) w->ToPrim(stream_);
    stream_.wait();
    plain_current_ = false;
  }
  const std::array<Tensor*, 4> weights = Weights(), grads = WeightGrads();
  for (size_t k = 0; k < weights.size(); ++k) {
    const memory& w = weights[k]->prim;
    spans.push_back({static_cast<float*>(w.get_data_handle()),
                     static_cast<const float*>(grads[k]->prim.get_data_handle()),
                     w.get_desc().get_size() / sizeof(float)});
    spans.push_back(plain_span(params_[2 * k + 1]));  // the bias, always plain
  }
  plain_stale_ = true;
  return spans;
}

}  // namespace

bool CpuHasNativeBf16() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;
}

absl::StatusOr<std::unique_ptr<Network>> MakeNetwork(const NetworkShape& shape, int64_t batch,
                                                     uint64_t seed, Precision precision) {
  if (precision == Precision::kBf16 && !CpuHasNativeBf16()) {
    return absl::FailedPreconditionError(
        "this CPU has no native bf16 (AVX512-BF16); use fp32 precision");
  }
  if (batch < 1 || shape.conv1_channels < 1 || shape.conv2_channels < 1 || shape.fc_units < 1) {
    return absl::InvalidArgumentError("batch size, channel counts and fc units must be >= 1");
  }
  if (!(shape.dropout1 >= 0 && shape.dropout1 < 1 && shape.dropout2 >= 0 && shape.dropout2 < 1)) {
    return absl::InvalidArgumentError("dropout rates must lie in [0, 1)");
  }
  try {
    return std::unique_ptr<Network>(std::make_unique<OneDnnNetwork>(shape, batch, seed, precision));
  } catch (const dnnl::error& e) {
    return absl::InternalError(std::string("oneDNN could not build the network: ") + e.what());
  }
}

}  // namespace parzen::mnist
