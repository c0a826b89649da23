// FakeStorage: a Storage that keeps every mutation in memory, in order, and
// calls each durable as soon as it is submitted (or fails them all once
// told to). For unit tests of the core: no SQLite, no thread.
#ifndef PARZEN_TESTS_TESTING_FAKE_STORAGE_H_
#define PARZEN_TESTS_TESTING_FAKE_STORAGE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/storage.h"

namespace parzen::testing {

// Thread-safe.
class FakeStorage final : public Storage {
 public:
  absl::StatusOr<LoadedDatabase> LoadAll() override { return LoadedDatabase{}; }
  void SetFailureHandler(std::function<void(const absl::Status&)>) override {}
  Ticket Submit(Mutation m) override {
    absl::MutexLock lock(&mu_);
    log_.push_back(std::move(m));
    return log_.size();
  }
  Ticket LastSubmitted() const override {
    absl::MutexLock lock(&mu_);
    return log_.size();
  }
  absl::Status WaitDurable(Ticket) override {
    absl::MutexLock lock(&mu_);
    return failure_;
  }
  void OnDurable(Ticket ticket, std::function<void(absl::Status)> done) override {
    done(WaitDurable(ticket));
  }
  void Backup(const std::string&, std::function<void(absl::Status)> done) override {
    done(absl::UnimplementedError("no backups of a fake"));
  }
  void StopBackups() override {}

  // Every later WaitDurable answers `failure`.
  void Fail(absl::Status failure) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(failure);
  }
  std::vector<Mutation> log() const {
    absl::MutexLock lock(&mu_);
    return log_;
  }
  // How many of the mutations are of type T.
  template <typename T>
  size_t Count() const {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (const Mutation& m : log_) n += std::holds_alternative<T>(m);
    return n;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Mutation> log_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_FAKE_STORAGE_H_
