#include "server/core/history.h"

namespace parzen {

std::vector<double> History::CompletedValuesAt(int64_t step) const {
  std::vector<double> out;
  if (!completed_by_step_) return out;
  auto it = completed_by_step_->find(step);
  if (it == completed_by_step_->end()) return out;
  out.reserve(it->second.size());
  for (size_t i = 0; i < it->second.size(); ++i) out.push_back(it->second[i]);
  return out;
}

}  // namespace parzen

