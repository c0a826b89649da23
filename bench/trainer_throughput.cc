// trainer_throughput: training and evaluation images/s of the MNIST
// network, Parzen's oneDNN trainer next to PyTorch 1.13 (Debian's
// python3-torch) on the same machine in the same run.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "worker/mnist/cpu_peak.h"
#include "worker/mnist/network.h"
#include "worker/mnist/optimizer.h"
#include "worker/mnist/trainer.h"

namespace {

using namespace parzen::mnist;
using Clock = std::chrono::steady_clock;

// Forward + backward FLOPs of one training image of the default network
// (shared/notes/onednn-and-the-cpu.md).
constexpr double kTrainFlopsPerImage = 71.6e6;

struct Rates {
  double train = 0;
  double eval = 0;
};

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

Rates MeasureParzen(int batch, double seconds, Precision precision) {
  auto net = MakeNetwork(NetworkShape{}, batch, 1, precision);
  if (!net.ok()) {
    std::fprintf(stderr, "trainer_throughput: %s\n", std::string(net.status().message()).c_str());
    std::exit(1);
  }
  OptimizerConfig oc;
  oc.lr = 0.05;
  oc.momentum = 0.9;
  Optimizer opt(oc);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> images(static_cast<size_t>(batch) * kImagePixels);
  for (float& v : images) v = normal(rng);
  std::vector<uint8_t> labels(batch);
  for (auto& l : labels) l = static_cast<uint8_t>(rng() % 10);
  std::vector<float> grad(static_cast<size_t>(batch) * 10);
  auto step = [&](uint64_t seed) {
    const float* logits = (*net)->Forward(images.data(), true, seed);
    SoftmaxCrossEntropy(logits, labels.data(), batch, batch, batch, grad.data(), nullptr);
    (*net)->Backward(grad.data());
    opt.Step((*net)->parameters(), 0.05);
  };
  Rates r;
  for (int i = 0; i < 3; ++i) step(i);
  auto start = Clock::now();
  int64_t steps = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    step(static_cast<uint64_t>(steps));
    ++steps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  r.train = static_cast<double>(steps * batch) / elapsed;
  for (int i = 0; i < 3; ++i) (*net)->Forward(images.data(), false, 0);
  start = Clock::now();
  steps = 0;
  elapsed = 0;
  while (elapsed < seconds / 2) {
    (*net)->Forward(images.data(), false, 0);
    ++steps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  r.eval = static_cast<double>(steps * batch) / elapsed;
  return r;
}

double Field(const std::string& line, const std::string& key) {
  const size_t pos = line.find(key + "=");
  return pos == std::string::npos ? std::nan("") : std::strtod(line.c_str() + pos + key.size() + 1, nullptr);
}

std::string Word(const std::string& line, const std::string& key) {
  const size_t pos = line.find(key + "=");
  if (pos == std::string::npos) return "";
  const size_t begin = pos + key.size() + 1;
  return line.substr(begin, line.find(' ', begin) - begin);
}

}  // namespace

int main(int argc, char** argv) {
  std::string batches = "64,128,256", threads = "1,2";
  double seconds = 5;
  bool run_torch = true;
  std::string python = "/usr/bin/python3", script = PARZEN_TORCH_SCRIPT;
  CLI::App app{"trainer_throughput: Parzen's MNIST trainer against PyTorch"};
  app.add_option("--batches", batches)->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  app.add_option("--seconds", seconds, "per measurement")->capture_default_str();
  app.add_flag("!--no-torch", run_torch, "skip PyTorch");
  app.add_option("--python", python)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const std::vector<int> batch_list = ParseList(batches), thread_list = ParseList(threads);

  std::map<std::pair<int, int>, Rates> parzen;  // (threads, batch)
  std::map<std::pair<int, int>, Rates> parzen_bf16;
  const bool bf16 = CpuHasNativeBf16();
  std::map<int, double> peak;
  const double core_fp32 = MeasureCoreFmaGflops(false, 1.0);
  const double core_bf16 = MeasureCoreFmaGflops(true, 1.0);
  if (core_fp32 > 0) {
    std::printf("one core's instruction ceiling: fp32 FMA %.0f GFLOP/s, bf16 dot product %.0f "
                "GFLOP/s (bf16/fp32 = %.2f)\n",
                core_fp32, core_bf16, core_bf16 / core_fp32);
  } else {
    std::printf("one core's instruction ceiling: not measured (the probe needs AVX-512, which "
                "this CPU lacks)\n");
  }
  for (int t : thread_list) {
    omp_set_num_threads(t);
    peak[t] = MeasureFp32MatmulGflops(2.0);
    if (bf16) {
      // conv2 alone, the network's dominant layer: how fast bf16 can be here.
      const double f32_ms = MeasureConv2Ms(false, 50), bf16_ms = MeasureConv2Ms(true, 50);
      std::printf("conv2 forward alone, %d thread(s): fp32 %.2f ms (%.0f GFLOP/s), bf16 %.2f ms "
                  "(%.0f GFLOP/s)\n",
                  t, f32_ms, 1.359e9 / f32_ms / 1e6, bf16_ms, 1.359e9 / bf16_ms / 1e6);
    }
    for (int b : batch_list) {
      parzen[{t, b}] = MeasureParzen(b, seconds, Precision::kFp32);
      parzen_bf16[{t, b}] =
          bf16 ? MeasureParzen(b, seconds, Precision::kBf16) : Rates{NAN, NAN};
    }
  }

  // (variant, threads, batch) -> rates
  std::map<std::tuple<std::string, int, int>, Rates> torch;
  if (run_torch) {
    const std::string cmd = "'" + python + "' '" + script + "' --batches " + batches +
                            " --threads " + threads + " --seconds " + std::to_string(seconds);
    FILE* pipe = popen(cmd.c_str(), "r");
    char buf[512];
    while (pipe && std::fgets(buf, sizeof buf, pipe)) {
      const std::string line(buf);
      if (line.rfind("torch ", 0) != 0) continue;
      torch[{Word(line, "variant"), static_cast<int>(Field(line, "threads")),
             static_cast<int>(Field(line, "batch"))}] = {Field(line, "train_img_s"),
                                                         Field(line, "eval_img_s")};
    }
    if (!pipe || pclose(pipe) != 0) std::fprintf(stderr, "trainer_throughput: %s failed\n", cmd.c_str());
  }

  std::printf("\n threads  batch | parzen fp32 train  eval  GFLOP/s (%% of fp32 matmul peak) | "
              "bf16 train  eval | torch linear train  eval | torch fc-as-conv train  eval | "
              "ratio fp32  bf16\n");
  for (int t : thread_list) {
    for (int b : batch_list) {
      const Rates p = parzen[{t, b}];
      const Rates tl = torch.count({"linear", t, b}) ? torch[{"linear", t, b}] : Rates{NAN, NAN};
      const Rates tc =
          torch.count({"fc_as_conv", t, b}) ? torch[{"fc_as_conv", t, b}] : Rates{NAN, NAN};
      const double best = std::fmax(tl.train, tc.train);
      const double gflops = p.train * kTrainFlopsPerImage / 1e9;
      const Rates pb = parzen_bf16[{t, b}];
      std::printf(
          " %7d %6d | %17.0f %5.0f %8.1f (%4.1f%% of %.0f) | %10.0f %5.0f | %18.0f %5.0f | "
          "%22.0f %5.0f | %10.2f %5.2f\n",
          t, b, p.train, p.eval, gflops, 100 * gflops / peak[t], peak[t], pb.train, pb.eval,
          tl.train, tl.eval, tc.train, tc.eval, p.train / best, pb.train / best);
    }
  }
  const int t = thread_list.back(), b = batch_list.front();
  const double a = parzen[{t, b}].train;
  const double tb = std::fmax(torch.count({"linear", t, b}) ? torch[{"linear", t, b}].train : NAN,
                              torch.count({"fc_as_conv", t, b}) ? torch[{"fc_as_conv", t, b}].train : NAN);
  const double ab = parzen_bf16[{t, b}].train;
  std::printf("trainer_throughput batch=%d threads=%d parzen_fp32_img_s=%.0f parzen_bf16_img_s=%.0f "
              "torch_best_img_s=%.0f ratio_fp32=%.2f ratio_bf16=%.2f\n",
              b, t, a, ab, tb, a / tb, ab / tb);
  return 0;
}
