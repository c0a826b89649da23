// StudyFixture: one Study kernel on a FakeStorage and a FakeClock, made as
// the manager makes it, for unit tests of the use cases (no server, no
// SQLite).
#ifndef PARZEN_TESTS_TESTING_STUDY_FIXTURE_H_
#define PARZEN_TESTS_TESTING_STUDY_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "parzen/v1/algorithms.pb.h"
#include "server/core/algorithms.h"
#include "server/core/study.h"
#include "tests/testing/fake_storage.h"

namespace parzen::testing {

class StudyFixture {
 public:
  // `tweak` may change the config before the study is made (its sampler and
  // pruner are the defaults, seed 1, unless it changes them).
  explicit StudyFixture(const std::function<void(StudyConfig&)>& tweak = {},
                        Algorithms algorithms = {})
      : algorithms_(std::move(algorithms)) {
    StudyConfig config;
    config.name = "s";
    config.sampler = *algorithms_.samplers.Resolve(v1::SamplerConfig(), 1);
    config.pruner = *algorithms_.pruners.Resolve(v1::PrunerConfig(), 1);
    if (tweak) tweak(config);
    StudyRecord record{1, config.name, config.directions, EncodeStudySettings(config), {},
                       clock_.NowMicros()};
    auto sampler = algorithms_.samplers.Make(config.sampler);
    auto pruner = algorithms_.pruners.Make(config.pruner);
    study_ = std::make_unique<Study>(std::move(record), std::move(config), *std::move(sampler),
                                     *std::move(pruner), &storage_, &clock_,
                                     std::vector<FrozenTrial>{});
  }

  Study& study() { return *study_; }
  FakeStorage& storage() { return storage_; }
  FakeClock& clock() { return clock_; }

 private:
  Algorithms algorithms_;
  FakeStorage storage_;
  FakeClock clock_;
  std::unique_ptr<Study> study_;
};

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_STUDY_FIXTURE_H_
