#include "worker/mnist/cpu_peak.h"

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

}  // namespace parzen::mnist
