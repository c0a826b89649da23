#include "worker/mnist/cpu_peak.h"

#include <immintrin.h>

#include <chrono>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace parzen::mnist {

double MeasureFp32MatmulGflops(double seconds) {
  constexpr int64_t n = 1024;
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    using tag = dnnl::memory::format_tag;
    dnnl::memory::desc md({n, n}, dnnl::memory::data_type::f32, tag::ab);
    std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
    dnnl::memory am(md, eng, a.data()), bm(md, eng, b.data()), cm(md, eng, c.data());
    dnnl::matmul mm(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), eng));
    auto run = [&] {
      mm.execute(s, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
      s.wait();
    };
    run();
    const auto start = std::chrono::steady_clock::now();
    int64_t iterations = 0;
    double elapsed = 0;
    while (elapsed < seconds) {
      run();
      ++iterations;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return 2.0 * n * n * n * static_cast<double>(iterations) / elapsed / 1e9;
  } catch (const dnnl::error&) {
    return 0;
  }
}

double MeasureConv2Ms(bool bf16, int iterations) {
  using tag = dnnl::memory::format_tag;
  using dt = dnnl::memory::data_type;
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    const dt t = bf16 ? dt::bf16 : dt::f32;
    const dnnl::memory::desc src({64, 32, 26, 26}, t, tag::any), wei({64, 32, 3, 3}, t, tag::any),
        dst({64, 64, 24, 24}, t, tag::any), bias({64}, dt::f32, tag::x);
    auto pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                        dnnl::algorithm::convolution_direct, src, wei, bias, dst,
                                        {1, 1}, {0, 0}, {0, 0}),
        eng);
    dnnl::memory sm(pd.src_desc(), eng), wm(pd.weights_desc(), eng), bm(bias, eng),
        dm(pd.dst_desc(), eng);
    dnnl::convolution_forward conv(pd);
    auto run = [&] {
      conv.execute(s, {{DNNL_ARG_SRC, sm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm},
                       {DNNL_ARG_DST, dm}});
      s.wait();
    };
    for (int i = 0; i < 3; ++i) run();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) run();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
               .count() /
           iterations;
  } catch (const dnnl::error&) {
    return 0;
  }
}

namespace {

// Twelve independent accumulators cover the instructions' latency, so the
// loop runs at their issue rate. Returns the multiply-adds per second.
template <bool kBf16>
__attribute__((target("avx512f,avx512bf16"))) double MultiplyAddsPerSecond(double seconds) {
  constexpr int kAccumulators = 12;
  constexpr int64_t kRounds = 1 << 20;
  __m512 acc[kAccumulators];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512 x = _mm512_set1_ps(1e-6f);
  const __m512bh xb = (__m512bh)_mm512_set1_epi16(0x3f80);  // bf16 1.0
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  int64_t rounds = 0;
  while (elapsed < seconds) {
    for (int64_t r = 0; r < kRounds; ++r) {
#pragma GCC unroll 12
      for (int i = 0; i < kAccumulators; ++i) {
        if constexpr (kBf16) {
          acc[i] = _mm512_dpbf16_ps(acc[i], xb, xb);
        } else {
          acc[i] = _mm512_fmadd_ps(x, x, acc[i]);
        }
      }
    }
    rounds += kRounds;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  float sum = 0;
  for (const auto& a : acc) {
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, a);
    for (float v : lanes) sum += v;
  }
  volatile float sink = sum;  // keeps the loop from being optimised away
  (void)sink;
  const double per_instruction = kBf16 ? 32 : 16;  // multiply-adds per zmm instruction
  return static_cast<double>(rounds) * kAccumulators * per_instruction / elapsed;
}

}  // namespace

double MeasureCoreFmaGflops(bool bf16, double seconds) {
  if (!__builtin_cpu_supports("avx512f")) return 0;
  if (bf16) {
    if (!__builtin_cpu_supports("avx512bf16")) return 0;
    return 2 * MultiplyAddsPerSecond<true>(seconds) / 1e9;
  }
  return 2 * MultiplyAddsPerSecond<false>(seconds) / 1e9;
}

Precision AutoPrecision() {
  if (!CpuHasNativeBf16()) return Precision::kFp32;
  const double fp32 = MeasureCoreFmaGflops(false, 0.02);
  const double bf16 = MeasureCoreFmaGflops(true, 0.02);
  return bf16 >= 1.5 * fp32 ? Precision::kBf16 : Precision::kFp32;
}

}  // namespace parzen::mnist
