#include "cli/report/importance.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace parzen::cli {
namespace {

// Epsilon squared of y against the bins `bin` (one per observation): eta
// squared less the share k bins explain by chance alone, (k - 1) times the
// within-bin mean square, so a noise parameter with many bins (a
// categorical of 100 choices over 50 trials) scores about 0, not about 1.
double CorrelationRatio(const std::vector<double>& y, const std::vector<size_t>& bin) {
  const double n = static_cast<double>(y.size());
  const double mean = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double total = 0;
  for (double v : y) total += (v - mean) * (v - mean);
  if (!(total > 0)) return 0;
  std::map<size_t, std::pair<double, double>> sums;  // bin -> (sum, count)
  for (size_t i = 0; i < y.size(); ++i) {
    sums[bin[i]].first += y[i];
    sums[bin[i]].second += 1;
  }
  double between = 0;
  for (const auto& [b, sc] : sums) {
    const double bin_mean = sc.first / sc.second;
    between += sc.second * (bin_mean - mean) * (bin_mean - mean);
  }
  const double k = static_cast<double>(sums.size());
  if (n <= k) return 0;  // as many bins as trials: nothing to tell from chance
  const double within_mean_square = (total - between) / (n - k);
  return std::max(0.0, (between - (k - 1) * within_mean_square) / total);
}

}  // namespace

std::vector<Importance> ParameterImportances(const std::vector<FrozenTrial>& trials) {
  std::set<std::string> names;
  for (const FrozenTrial& t : trials) {
    if (t.state != TrialState::kComplete || t.values.empty() || !std::isfinite(t.values[0])) {
      continue;
    }
    for (const TrialParam& p : t.params) names.insert(p.name);
  }
  std::vector<Importance> out;
  for (const std::string& name : names) {
    std::vector<double> y, x;
    bool categorical = false;
    for (const FrozenTrial& t : trials) {
      if (t.state != TrialState::kComplete || t.values.empty() || !std::isfinite(t.values[0])) {
        continue;
      }
      if (const TrialParam* p = t.FindParam(name)) {
        y.push_back(t.values[0]);
        x.push_back(p->internal_value);  // a categorical's index, a number's value
        categorical = std::holds_alternative<CategoricalDistribution>(p->distribution);
      }
    }
    if (y.size() < 2) continue;
    std::vector<size_t> bin(y.size());
    if (categorical) {
      for (size_t i = 0; i < x.size(); ++i) bin[i] = static_cast<size_t>(x[i]);
    } else {
      // Equal-count bins by rank, about √n of them, at most 10; equal
      // values share a bin.
      const size_t bins = std::clamp<size_t>(static_cast<size_t>(std::sqrt(y.size())), 2, 10);
      std::vector<size_t> order(x.size());
      std::iota(order.begin(), order.end(), size_t{0});
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
      size_t current = 0;
      for (size_t r = 0; r < order.size(); ++r) {
        const size_t wanted = r * bins / order.size();
        if (r > 0 && x[order[r]] != x[order[r - 1]]) current = wanted;
        bin[order[r]] = current;
      }
    }
    out.push_back({name, CorrelationRatio(y, bin)});
  }
  double sum = 0;
  for (const Importance& i : out) sum += i.importance;
  if (!(sum > 0)) return {};
  for (Importance& i : out) i.importance /= sum;
  std::sort(out.begin(), out.end(), [](const Importance& a, const Importance& b) {
    return a.importance != b.importance ? a.importance > b.importance : a.name < b.name;
  });
  return out;
}

}  // namespace parzen::cli
