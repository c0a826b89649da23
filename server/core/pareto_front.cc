#include "server/core/pareto_front.h"

namespace parzen {

bool Dominates(const std::vector<Direction>& directions, const std::vector<double>& a,
               const std::vector<double>& b) {
  if (a == b) return false;
  for (size_t i = 0; i < directions.size(); ++i) {
    if (IsBetter(directions[i], b[i], a[i])) return false;
  }
  return true;
}

void ParetoFront::Add(int64_t number, const std::vector<double>& values) {
  if (values.size() != directions_.size()) return;
  for (const auto& [member, member_values] : members_) {
    if (Dominates(directions_, member_values, values)) return;
  }
  std::erase_if(members_, [&](const auto& member) {
    return Dominates(directions_, values, member.second);
  });
  members_.emplace(number, values);
}

std::vector<int64_t> ParetoFront::numbers() const {
  std::vector<int64_t> out;
  out.reserve(members_.size());
  for (const auto& [number, values] : members_) out.push_back(number);
  return out;
}

}  // namespace parzen
