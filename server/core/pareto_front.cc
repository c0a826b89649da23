#include "server/core/pareto_front.h"

#include <algorithm>

namespace parzen {

void ParetoFront::Add(int64_t number, const std::vector<double>& values) {
  if (values.size() != directions_.size()) return;
  // A twin on the front: whatever dominated this trial would dominate the
  // twin, and whatever it dominates the twin already removed.
  if (auto twin = members_.find(values); twin != members_.end()) {
    twin->second.push_back(number);
    return;
  }
  for (const auto& [member_values, numbers] : members_) {
    if (Dominates(directions_, member_values, values)) return;
  }
  std::erase_if(members_, [&](const auto& member) {
    return Dominates(directions_, values, member.first);
  });
  members_.emplace(values, std::vector<int64_t>{number});
}

std::vector<int64_t> ParetoFront::numbers() const {
  std::vector<int64_t> out;
  for (const auto& [values, numbers] : members_) out.insert(out.end(), numbers.begin(), numbers.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace parzen
