#include "server/core/executor.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/synchronization/notification.h"
#include "tests/testing/status_matchers.h"

namespace parzen {
namespace {

TEST(ExecutorTest, RunsEverythingPostedBeforeItGoesAndRefusesBeyondItsQueue) {
  std::atomic<int> ran{0};
  absl::Notification started, release;
  {
    Executor executor(1, 2);
    ASSERT_OK(executor.Post([&] {
      started.Notify();
      release.WaitForNotification();
      ++ran;
    }));
    started.WaitForNotification();
    // The one thread is busy: two may wait, the third is refused.
    absl::Status posted;
    int accepted = 0;
    for (int i = 0; i < 4 && posted.ok(); ++i) {
      posted = executor.Post([&] { ++ran; });
      accepted += posted.ok();
    }
    EXPECT_EQ(accepted, 2);
    EXPECT_EQ(posted.code(), absl::StatusCode::kUnavailable);
    release.Notify();
    // The destructor runs what is queued.
  }
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace parzen
