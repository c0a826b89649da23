#include "server/samplers/tpe/observations.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <map>
#include <numeric>

namespace parzen::tpe {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Non-dominated sorting: the front each point (minimising) lies on.
std::vector<int> NondominationRanks(const std::vector<const std::vector<double>*>& points) {
  const size_t n = points.size();
  std::vector<int> rank(n, -1);
  auto dominates = [&](size_t a, size_t b) {
    bool better = false;
    for (size_t j = 0; j < points[a]->size(); ++j) {
      if ((*points[a])[j] > (*points[b])[j]) return false;
      better = better || (*points[a])[j] < (*points[b])[j];
    }
    return better;
  };
  size_t ranked = 0;
  for (int r = 0; ranked < n; ++r) {
    std::vector<size_t> front;
    for (size_t i = 0; i < n; ++i) {
      if (rank[i] != -1) continue;
      bool dominated = false;
      for (size_t j = 0; j < n && !dominated; ++j) {
        dominated = j != i && rank[j] == -1 && dominates(j, i);
      }
      if (!dominated) front.push_back(i);
    }
    for (size_t i : front) rank[i] = r;
    ranked += front.size();
  }
  return rank;
}

// Optuna's _SearchSpaceGroup.add_distributions over bit sets: every group
// splits into what the trial holds and what it does not; what the trial
// holds beyond every group becomes a group of its own.
void AddToGroups(std::vector<uint64_t>& groups, uint64_t held) {
  // Most trials hold what the ones before held: nothing splits.
  uint64_t all = 0;
  bool splits = false;
  for (uint64_t g : groups) {
    all |= g;
    splits = splits || ((g & held) != 0 && (g & held) != g);
  }
  if (!splits && (held & ~all) == 0) return;
  std::vector<uint64_t> next;
  for (uint64_t g : groups) {
    if (g & held) next.push_back(g & held);
    if (g & ~held) next.push_back(g & ~held);
    held &= ~g;
  }
  if (held) next.push_back(held);
  groups = std::move(next);
}

void Split(Observations& obs) {
  const size_t n_below = std::min(DefaultGamma(obs.n_finished), obs.rows.size());
  std::vector<size_t> order(obs.rows.size());
  std::iota(order.begin(), order.end(), 0);
  // Only the best few need ordering; ties go to the older trial.
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(n_below), order.end(),
                    [&](size_t a, size_t b) {
                      const TrialRecord& x = *obs.rows[a];
                      const TrialRecord& y = *obs.rows[b];
                      if (x.key != y.key) return x.key < y.key;
                      if (x.score != y.score) return x.score < y.score;
                      return a < b;
                    });
  obs.below.assign(order.begin(), order.begin() + static_cast<ptrdiff_t>(n_below));
  std::sort(obs.below.begin(), obs.below.end());
  std::vector<bool> is_below(obs.rows.size(), false);
  for (size_t i : obs.below) is_below[i] = true;
  for (size_t i = 0; i < obs.rows.size(); ++i) {
    if (!is_below[i]) obs.above.push_back(i);
  }
}

}  // namespace

size_t DefaultGamma(size_t n) {
  return std::min<size_t>(static_cast<size_t>(std::ceil(0.1 * static_cast<double>(n))), 25);
}

std::shared_ptr<const TrialRecord> ObservationCache::Record(
    const FrozenTrial& t, const std::vector<Direction>& directions) {
  auto r = std::make_shared<TrialRecord>();
  const bool multi = directions.size() > 1;
  auto sign = [&](size_t j) { return directions[j] == Direction::kMinimize ? 1.0 : -1.0; };
  if (t.state == TrialState::kComplete) {
    r->key = -kInf;
    if (multi) {
      for (size_t j = 0; j < t.values.size(); ++j) r->objectives.push_back(sign(j) * t.values[j]);
    } else {
      r->score = sign(0) * t.values[0];
    }
  } else if (t.state == TrialState::kPruned) {
    if (auto step = t.last_step()) {
      const double v = t.intermediate_values.at(*step);
      r->key = -static_cast<double>(*step);
      r->score = std::isnan(v) ? kInf : sign(0) * v;
    } else {
      r->key = 1.0;
    }
  } else {
    r->key = r->score = kInf;  // RUNNING: the constant liar's worst
  }
  for (const TrialParam& p : t.params) {
    auto [it, added] = ids_.try_emplace(p.name, static_cast<int>(distributions_.size()));
    if (added) distributions_.push_back(p.distribution);
    const auto id = static_cast<size_t>(it->second);
    if (r->values.size() <= id) r->values.resize(id + 1, std::numeric_limits<double>::quiet_NaN());
    r->values[id] = p.internal_value;
    if (id < kMaxJointParams) {
      r->held |= uint64_t{1} << id;
      if (!(p.distribution == distributions_[id])) r->differs |= uint64_t{1} << id;
    }
  }
  return r;
}

void ObservationCache::AddToOrders(int64_t number, const TrialRecord& record) {
  if (by_value_.size() < record.values.size()) by_value_.resize(record.values.size());
  for (size_t id = 0; id < record.values.size(); ++id) {
    const double v = record.values[id];
    if (std::isnan(v)) continue;
    std::vector<int64_t>& order = by_value_[id];
    // Taken here: the comparison below runs under this function's lock,
    // which the analysis cannot see through the lambda.
    const std::shared_ptr<const TrialRecord>* finished = finished_.data();
    auto at = std::upper_bound(order.begin(), order.end(), number, [&](int64_t a, int64_t b) {
      const double x = finished[static_cast<size_t>(a)]->values[id];
      const double y = finished[static_cast<size_t>(b)]->values[id];
      return x != y ? x < y : a < b;
    });
    order.insert(at, number);
  }
}

void ObservationCache::Order(Observations& obs, const std::vector<int64_t>& numbers,
                             const std::vector<size_t>& running) const {
  constexpr uint32_t kNoRow = ~uint32_t{0};
  std::vector<uint32_t> row_of(numbers.empty() ? 0 : static_cast<size_t>(numbers.back()) + 1,
                               kNoRow);
  for (size_t row = 0; row < numbers.size(); ++row) {
    row_of[static_cast<size_t>(numbers[row])] = static_cast<uint32_t>(row);
  }
  obs.by_value.resize(by_value_.size());
  for (size_t id = 0; id < by_value_.size(); ++id) {
    std::vector<Observations::Ranked>& order = obs.by_value[id];
    order.reserve(by_value_[id].size());
    for (int64_t number : by_value_[id]) {
      const auto n = static_cast<size_t>(number);
      // Finished after this history's snapshot was taken (absent from it,
      // or RUNNING in it): not observed as finished here.
      if (n >= row_of.size() || row_of[n] == kNoRow || obs.rows[row_of[n]] != finished_[n]) {
        continue;
      }
      order.push_back({row_of[n], finished_[n]->values[id]});
    }
    std::vector<Observations::Ranked> lies;
    for (size_t row : running) {
      const double v = obs.rows[row]->Value(id);
      if (!std::isnan(v)) lies.push_back({static_cast<uint32_t>(row), v});
    }
    if (lies.empty()) continue;
    auto less = [](const Observations::Ranked& a, const Observations::Ranked& b) {
      return a.value != b.value ? a.value < b.value : a.row < b.row;
    };
    std::sort(lies.begin(), lies.end(), less);
    std::vector<Observations::Ranked> merged(order.size() + lies.size());
    std::merge(order.begin(), order.end(), lies.begin(), lies.end(), merged.begin(), less);
    order = std::move(merged);
  }
}

void ObservationCache::Rescan(const StudyHistory& study, Scan& scan) {
  const std::vector<Direction>& directions = study.directions();
  const bool multi = directions.size() > 1;
  if (finished_.size() < static_cast<size_t>(study.num_trials())) {
    finished_.resize(static_cast<size_t>(study.num_trials()));
  }
  std::vector<int64_t> to_visit = std::move(scan.open);
  for (int64_t n = scan.done ? scan.num_trials : 0; n < study.num_trials(); ++n) {
    to_visit.push_back(n);
  }
  scan.open.clear();
  std::vector<int64_t> newly_finished;
  for (int64_t n : to_visit) {
    const FrozenTrial& t = study.trial(n);
    const bool complete = t.state == TrialState::kComplete && t.values.size() == directions.size();
    const bool pruned = t.state == TrialState::kPruned && !multi;
    if (complete || pruned) {
      std::shared_ptr<const TrialRecord>& record = finished_[static_cast<size_t>(n)];
      if (!record) {
        record = Record(t, directions);
        if (by_value_wanted_) AddToOrders(n, *record);
      }
      // Optuna's groups and intersection do not depend on the order in
      // which trials are added to them.
      AddToGroups(scan.groups, record->held);
      const bool first = scan.finished.empty() && newly_finished.empty();
      scan.intersection = first ? record->held : scan.intersection & record->held;
      scan.differs |= record->differs;
      newly_finished.push_back(n);
    } else if (!IsFinished(t.state)) {
      scan.open.push_back(n);
    }
  }
  const size_t before = scan.finished.size();
  scan.finished.insert(scan.finished.end(), newly_finished.begin(), newly_finished.end());
  std::inplace_merge(scan.finished.begin(),
                     scan.finished.begin() + static_cast<std::ptrdiff_t>(before),
                     scan.finished.end());
  scan.done = true;
  scan.version = study.version();
  scan.num_trials = study.num_trials();
}

std::shared_ptr<const Observations> ObservationCache::Make(const StudyHistory& study) {
  // A history older than the newest seen (a slower concurrent Ask's) is
  // scanned on its own; the newest one continues from the last.
  Scan older;
  Scan* scan = &newest_;
  if (newest_.done && study.version() < newest_.version) {
    scan = &older;
  }
  Rescan(study, *scan);

  auto obs = std::make_shared<Observations>();
  const std::vector<Direction>& directions = study.directions();
  const bool multi = directions.size() > 1;
  std::vector<int64_t> numbers;  // by row
  std::vector<size_t> running;   // rows
  numbers.reserve(scan->finished.size());
  obs->rows.reserve(scan->finished.size());
  // Taken here: the lambda runs under this function's lock, which the
  // analysis cannot see through it.
  const std::shared_ptr<const TrialRecord>* records = finished_.data();
  auto finished = scan->finished.begin();
  auto add_finished_before = [&](int64_t limit) {
    for (; finished != scan->finished.end() && *finished < limit; ++finished) {
      numbers.push_back(*finished);
      obs->rows.push_back(records[static_cast<size_t>(*finished)]);
    }
  };
  if (constant_liar_ && !multi) {
    for (int64_t n : scan->open) {
      const FrozenTrial& t = study.trial(n);
      if (t.state != TrialState::kRunning) continue;
      add_finished_before(n);
      running.push_back(obs->rows.size());
      numbers.push_back(n);
      obs->rows.push_back(Record(t, directions));  // it will change: not kept
    }
  }
  add_finished_before(std::numeric_limits<int64_t>::max());
  obs->n_finished = scan->finished.size();
  obs->groups = scan->groups;
  obs->intersection = scan->intersection & ~scan->differs;
  if (by_value_wanted_) Order(*obs, numbers, running);
  if (multi) {
    // By front, the earlier trial first within one (Optuna breaks those
    // ties by hypervolume contribution).
    std::vector<const std::vector<double>*> points;
    for (const auto& r : obs->rows) points.push_back(&r->objectives);
    const std::vector<int> ranks = NondominationRanks(points);
    for (size_t i = 0; i < obs->rows.size(); ++i) {
      auto ranked = std::make_shared<TrialRecord>(*obs->rows[i]);
      ranked->score = ranks[i];
      obs->rows[i] = std::move(ranked);
    }
  }
  Split(*obs);
  return obs;
}

std::shared_ptr<const Observations> ObservationCache::Get(const StudyHistory& study) {
  absl::MutexLock lock(&mu_);
  for (const Entry& e : recent_) {
    if (e.version == study.version() && e.num_trials == study.num_trials()) return e.observations;
  }
  std::shared_ptr<const Observations> made = Make(study);
  recent_.push_back({study.version(), study.num_trials(), made});
  if (recent_.size() > 4) recent_.pop_front();
  return made;
}

int ObservationCache::IdOf(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

Distribution ObservationCache::DistributionOf(int id) const {
  absl::MutexLock lock(&mu_);
  return distributions_[static_cast<size_t>(id)];
}

std::vector<SearchSpace> RelativeSearchSpaces(const Observations& obs,
                                              const ObservationCache& ids,
                                              const SearchSpace& space, bool group) {
  // The Ask's parameters that may go in a joint sample, by id.
  std::map<int, const SearchSpaceEntry*> eligible;
  for (const SearchSpaceEntry& e : space) {
    const int id = ids.IdOf(e.name);
    if (id < 0 || id >= kMaxJointParams || IsSingle(e.distribution) ||
        !(ids.DistributionOf(id) == e.distribution)) {
      continue;
    }
    eligible[id] = &e;
  }
  std::vector<uint64_t> parts;
  if (group) {
    parts = obs.groups;
  } else if (obs.n_finished > 0) {
    parts = {obs.intersection};
  }
  std::vector<SearchSpace> out;
  for (uint64_t part : parts) {
    std::map<std::string, const SearchSpaceEntry*> by_name;
    for (const auto& [id, entry] : eligible) {
      if (part & (uint64_t{1} << id)) by_name[entry->name] = entry;
    }
    SearchSpace sub;
    for (const auto& [name, entry] : by_name) sub.push_back(*entry);
    if (!sub.empty()) out.push_back(std::move(sub));
  }
  return out;
}

}  // namespace parzen::tpe
