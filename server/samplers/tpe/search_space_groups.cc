#include "server/samplers/tpe/search_space_groups.h"

#include <map>
#include <set>
#include <string>

namespace parzen::tpe {
namespace {

using Distributions = std::map<std::string, const Distribution*>;

Distributions Of(const FrozenTrial& t) {
  Distributions out;
  for (const TrialParam& p : t.params) out[p.name] = &p.distribution;
  return out;
}

// Optuna's _SearchSpaceGroup.add_distributions: every group splits into
// the part `trial` holds and the part it does not; what the trial holds
// beyond every group becomes a group of its own.
void AddTrial(std::vector<Distributions>& groups, Distributions trial) {
  std::vector<Distributions> next;
  for (const Distributions& g : groups) {
    Distributions held, missing;
    for (const auto& [name, d] : g) (trial.contains(name) ? held : missing)[name] = d;
    for (const auto& [name, d] : g) trial.erase(name);
    if (!held.empty()) next.push_back(std::move(held));
    if (!missing.empty()) next.push_back(std::move(missing));
  }
  if (!trial.empty()) next.push_back(std::move(trial));
  groups = std::move(next);
}

}  // namespace

std::vector<SearchSpace> RelativeSearchSpaces(const StudyHistory& study, const SearchSpace& space,
                                              bool group) {
  std::vector<Distributions> parts;
  bool first = true;
  for (int64_t n = 0; n < study.num_trials(); ++n) {
    const FrozenTrial& t = study.trial(n);
    if (t.state != TrialState::kComplete && t.state != TrialState::kPruned) continue;
    if (group) {
      AddTrial(parts, Of(t));
      continue;
    }
    if (first) {
      parts.push_back(Of(t));
      first = false;
      continue;
    }
    Distributions& intersection = parts.front();
    for (auto it = intersection.begin(); it != intersection.end();) {
      const TrialParam* p = t.FindParam(it->first);
      it = p != nullptr && p->distribution == *it->second ? std::next(it) : intersection.erase(it);
    }
  }
  std::vector<SearchSpace> out;
  for (const Distributions& part : parts) {
    SearchSpace sub;  // std::map order: by name
    for (const auto& [name, d] : part) {
      for (const SearchSpaceEntry& e : space) {
        if (e.name == name && e.distribution == *d && !IsSingle(e.distribution)) {
          sub.push_back(e);
        }
      }
    }
    if (!sub.empty()) out.push_back(std::move(sub));
  }
  return out;
}

}  // namespace parzen::tpe
