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
// loops run at their issue rate. Each kernel is compiled for exactly the
// instructions it needs (the fp32 one runs on any AVX-512 CPU) and issues
// `rounds` x kAccumulators of them. noipa: a kernel found free of side
// effects would otherwise be called once and its result reused.
constexpr int kAccumulators = 12;
constexpr int64_t kRoundsPerCall = 1 << 20;

// What the accumulators hold, so the work cannot be dropped as unused.
__attribute__((target("avx512f"))) float SumOfLanes(const __m512 (&acc)[kAccumulators]) {
  alignas(64) float lanes[16];
  float sum = 0;
  for (const auto& a : acc) {
    _mm512_store_ps(lanes, a);
    for (float v : lanes) sum += v;
  }
  return sum;
}

__attribute__((target("avx512f"), noipa)) float Fp32Fmas(int64_t rounds) {
  __m512 acc[kAccumulators];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512 x = _mm512_set1_ps(1e-6f);
  for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 12
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_fmadd_ps(x, x, acc[i]);
  }
  return SumOfLanes(acc);
}

__attribute__((target("avx512f,avx512bw,avx512bf16"), noipa)) float Bf16DotProducts(int64_t rounds) {
  __m512 acc[kAccumulators];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80);  // bf16 1.0
  for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 12
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], x, x);
  }
  return SumOfLanes(acc);
}

// Instructions per second of `kernel` over about `seconds`.
double InstructionRate(float (*kernel)(int64_t), double seconds) {
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  int64_t rounds = 0;
  volatile float sink = 0;  // keeps the loops from being optimised away
  while (elapsed < seconds) {
    sink = sink + kernel(kRoundsPerCall);
    rounds += kRoundsPerCall;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return static_cast<double>(rounds) * kAccumulators / elapsed;
}

}  // namespace

double MeasureCoreFmaGflops(bool bf16, double seconds) {
  if (!__builtin_cpu_supports("avx512f")) return 0;
  if (bf16) {
    if (!__builtin_cpu_supports("avx512bf16")) return 0;
    // 16 lanes, 2 products each, 2 FLOP per multiply-add.
    return 64 * InstructionRate(Bf16DotProducts, seconds) / 1e9;
  }
  return 32 * InstructionRate(Fp32Fmas, seconds) / 1e9;  // 16 lanes x 2 FLOP
}

Precision AutoPrecision() {
  if (!CpuHasNativeBf16()) return Precision::kFp32;
  const double fp32 = MeasureCoreFmaGflops(false, 0.02);
  const double bf16 = MeasureCoreFmaGflops(true, 0.02);
  return bf16 >= 1.5 * fp32 ? Precision::kBf16 : Precision::kFp32;
}

}  // namespace parzen::mnist
