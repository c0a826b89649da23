// The oneDNN network against a naive double-precision implementation of
// the same layers: forward (logits) and backward (every parameter's
// gradient, so every layer's backward is exercised), on tiny shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tests/testing/status_matchers.h"
#include "worker/mnist/network.h"
#include "worker/mnist/trainer.h"

namespace parzen::mnist {
namespace {

struct Grads {
  std::vector<double> logits;
  std::vector<std::vector<double>> params;  // same order as Network::parameters()
};

// Plain loops, in the order PyTorch's example computes them.
Grads NaiveForwardBackward(const NetworkShape& s, int64_t B, const std::vector<Parameter>& P,
                           const std::vector<float>& x, const std::vector<uint8_t>& labels) {
  const int64_t C1 = s.conv1_channels, C2 = s.conv2_channels, F = s.fc_units;
  auto w = [&](int k, int64_t i) { return double{P[k].value[i]}; };
  std::vector<double> a1(B * C1 * 26 * 26), a2(B * C2 * 24 * 24), p(B * C2 * 144), h(B * F);
  std::vector<int64_t> argmax(B * C2 * 144);
  Grads g;
  g.logits.assign(B * 10, 0);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t o = 0; o < C1; ++o)
      for (int64_t y = 0; y < 26; ++y)
        for (int64_t xx = 0; xx < 26; ++xx) {
          double v = w(1, o);
          for (int64_t ky = 0; ky < 3; ++ky)
            for (int64_t kx = 0; kx < 3; ++kx)
              v += w(0, o * 9 + ky * 3 + kx) * x[b * 784 + (y + ky) * 28 + xx + kx];
          a1[((b * C1 + o) * 26 + y) * 26 + xx] = std::max(v, 0.0);
        }
    for (int64_t o = 0; o < C2; ++o)
      for (int64_t y = 0; y < 24; ++y)
        for (int64_t xx = 0; xx < 24; ++xx) {
          double v = w(3, o);
          for (int64_t i = 0; i < C1; ++i)
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx)
                v += w(2, ((o * C1 + i) * 3 + ky) * 3 + kx) *
                     a1[((b * C1 + i) * 26 + y + ky) * 26 + xx + kx];
          a2[((b * C2 + o) * 24 + y) * 24 + xx] = std::max(v, 0.0);
        }
    for (int64_t c = 0; c < C2; ++c)
      for (int64_t y = 0; y < 12; ++y)
        for (int64_t xx = 0; xx < 12; ++xx) {
          int64_t best = ((b * C2 + c) * 24 + 2 * y) * 24 + 2 * xx;
          for (int64_t dy = 0; dy < 2; ++dy)
            for (int64_t dx = 0; dx < 2; ++dx) {
              const int64_t at = ((b * C2 + c) * 24 + 2 * y + dy) * 24 + 2 * xx + dx;
              if (a2[at] > a2[best]) best = at;
            }
          p[(b * C2 + c) * 144 + y * 12 + xx] = a2[best];
          argmax[(b * C2 + c) * 144 + y * 12 + xx] = best;
        }
    for (int64_t f = 0; f < F; ++f) {
      double v = w(5, f);
      for (int64_t j = 0; j < C2 * 144; ++j) v += w(4, f * C2 * 144 + j) * p[b * C2 * 144 + j];
      h[b * F + f] = std::max(v, 0.0);
    }
    for (int64_t k = 0; k < 10; ++k) {
      double v = w(7, k);
      for (int64_t f = 0; f < F; ++f) v += w(6, k * F + f) * h[b * F + f];
      g.logits[b * 10 + k] = v;
    }
  }
  // Backward of the mean cross-entropy.
  for (const Parameter& q : P) g.params.emplace_back(q.value.size(), 0.0);
  std::vector<double> dh(B * F), dp(B * C2 * 144), da2(B * C2 * 576, 0), da1(B * C1 * 676, 0);
  for (int64_t b = 0; b < B; ++b) {
    const double* z = &g.logits[b * 10];
    const double m = *std::max_element(z, z + 10);
    double sum = 0;
    for (int k = 0; k < 10; ++k) sum += std::exp(z[k] - m);
    for (int64_t k = 0; k < 10; ++k) {
      const double dz = (std::exp(z[k] - m) / sum - (k == labels[b])) / B;
      g.params[7][k] += dz;
      for (int64_t f = 0; f < F; ++f) {
        g.params[6][k * F + f] += dz * h[b * F + f];
        dh[b * F + f] += dz * w(6, k * F + f);
      }
    }
    for (int64_t f = 0; f < F; ++f) {
      if (h[b * F + f] <= 0) continue;
      g.params[5][f] += dh[b * F + f];
      for (int64_t j = 0; j < C2 * 144; ++j) {
        g.params[4][f * C2 * 144 + j] += dh[b * F + f] * p[b * C2 * 144 + j];
        dp[b * C2 * 144 + j] += dh[b * F + f] * w(4, f * C2 * 144 + j);
      }
    }
    for (int64_t j = 0; j < C2 * 144; ++j) da2[argmax[b * C2 * 144 + j]] += dp[b * C2 * 144 + j];
    for (int64_t o = 0; o < C2; ++o)
      for (int64_t y = 0; y < 24; ++y)
        for (int64_t xx = 0; xx < 24; ++xx) {
          const int64_t at = ((b * C2 + o) * 24 + y) * 24 + xx;
          if (a2[at] <= 0) continue;
          const double d = da2[at];
          g.params[3][o] += d;
          for (int64_t i = 0; i < C1; ++i)
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx) {
                const int64_t src = ((b * C1 + i) * 26 + y + ky) * 26 + xx + kx;
                const int64_t wi = ((o * C1 + i) * 3 + ky) * 3 + kx;
                g.params[2][wi] += d * a1[src];
                da1[src] += d * w(2, wi);
              }
        }
    for (int64_t o = 0; o < C1; ++o)
      for (int64_t y = 0; y < 26; ++y)
        for (int64_t xx = 0; xx < 26; ++xx) {
          const int64_t at = ((b * C1 + o) * 26 + y) * 26 + xx;
          if (a1[at] <= 0) continue;
          g.params[1][o] += da1[at];
          for (int64_t ky = 0; ky < 3; ++ky)
            for (int64_t kx = 0; kx < 3; ++kx)
              g.params[0][o * 9 + ky * 3 + kx] += da1[at] * x[b * 784 + (y + ky) * 28 + xx + kx];
        }
  }
  return g;
}

class ReferenceTest : public ::testing::TestWithParam<NetworkShape> {};

INSTANTIATE_TEST_SUITE_P(Shapes, ReferenceTest,
                         ::testing::Values(NetworkShape{2, 3, 5, 0.0, 0.0},
                                           NetworkShape{16, 32, 8, 0.0, 0.0},
                                           NetworkShape{8, 24, 8, 0.0, 0.0}));

TEST_P(ReferenceTest, ForwardAndEveryLayersBackwardMatchNaiveLoops) {
  const NetworkShape shape = GetParam();
  const int64_t batch = 2;
  ASSERT_OK_AND_ASSIGN(auto net, MakeNetwork(shape, batch, 17));
  std::mt19937 rng(23);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(batch * 784);
  for (float& v : x) v = normal(rng);
  const std::vector<uint8_t> labels = {4, 9};

  const Grads ref = NaiveForwardBackward(shape, batch, net->parameters(), x, labels);
  const float* logits = net->Forward(x.data(), /*training=*/true, 0);
  for (int64_t i = 0; i < batch * 10; ++i) {
    EXPECT_NEAR(logits[i], ref.logits[i], 1e-4 * (1 + std::abs(ref.logits[i]))) << "logit " << i;
  }
  std::vector<float> grad(batch * 10);
  SoftmaxCrossEntropy(logits, labels.data(), batch, batch, batch, grad.data(), nullptr);
  net->Backward(grad.data());
  for (size_t k = 0; k < net->parameters().size(); ++k) {
    const Parameter& p = net->parameters()[k];
    double scale = 0;
    for (double v : ref.params[k]) scale = std::max(scale, std::abs(v));
    int bad = 0;
    for (size_t i = 0; i < p.grad.size(); ++i) {
      if (std::abs(p.grad[i] - ref.params[k][i]) > 1e-4 * scale + 1e-7 && ++bad <= 3) {
        ADD_FAILURE() << p.name << "[" << i << "]: oneDNN " << p.grad[i] << ", naive "
                      << ref.params[k][i];
      }
    }
    EXPECT_EQ(bad, 0) << p.name;
    EXPECT_GT(scale, 0) << p.name << " has an all-zero gradient: the check would be vacuous";
  }
}

}  // namespace
}  // namespace parzen::mnist
