#include "client/heartbeat.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/testing/wait.h"

namespace parzen::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Stands in for the RPC: counts beats per trial and answers `answer`.
// Declare it before the Heartbeats it serves, so the heartbeat thread is
// joined before the recorder goes away.
class FakeServer {
 public:
  explicit FakeServer(grpc::Status answer = grpc::Status::OK) : answer_(std::move(answer)) {}

  // Answers `answer` to every trial but kClock, whose beats are always
  // accepted: a lease on it measures time on the heartbeat thread itself.
  Heartbeats::SendFn Send() {
    return [this](TrialId id, milliseconds) {
      std::lock_guard lock(mutex_);
      ++beats_[id];
      if (first_beat_.find(id) == first_beat_.end()) first_beat_[id] = steady_clock::now();
      return id == kClock ? grpc::Status::OK : answer_;
    };
  }
  static constexpr TrialId kClock = 1'000'000;
  int Beats(TrialId id) {
    std::lock_guard lock(mutex_);
    return beats_[id];
  }
  steady_clock::time_point FirstBeat(TrialId id) {
    std::lock_guard lock(mutex_);
    return first_beat_.at(id);
  }

 private:
  const grpc::Status answer_;
  std::mutex mutex_;
  std::map<TrialId, int> beats_;                            // guarded by mutex_
  std::map<TrialId, steady_clock::time_point> first_beat_;  // guarded by mutex_
};

constexpr milliseconds kInterval(10);

// Waits until the heartbeat thread has beaten `clock` (a lease on
// FakeServer::kClock) five more times: several intervals have passed for
// every lease on that thread, however loaded the machine, so a beat that
// was due has been sent.
void WaitFiveClockBeats(FakeServer& server) {
  const int from = server.Beats(FakeServer::kClock);
  ASSERT_TRUE(::parzen::testing::WaitUntil(
      [&] { return server.Beats(FakeServer::kClock) >= from + 5; }));
}

TEST(LeaseTest, StartsHeldAndRemembersWhyItWasLost) {
  Lease lease(3, milliseconds(20));
  EXPECT_EQ(lease.trial_id(), 3);
  EXPECT_EQ(lease.interval(), milliseconds(20));
  EXPECT_FALSE(lease.lost());
  EXPECT_FALSE(lease.released());
  lease.MarkLost("trial 0 was reaped");
  EXPECT_TRUE(lease.lost());
  EXPECT_EQ(lease.lost_reason(), "trial 0 was reaped");
  lease.Release();
  EXPECT_TRUE(lease.released());
}

TEST(HeartbeatsTest, FirstBeatWaitsOneInterval) {
  FakeServer server;
  Heartbeats heartbeats(server.Send());
  const auto started = steady_clock::now();
  auto lease = heartbeats.Start(1, milliseconds(30));
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return server.Beats(1) >= 1; }));
  // Ask counts as the first beat, so the thread must not send at once.
  EXPECT_GE(server.FirstBeat(1) - started, milliseconds(30));
}

TEST(HeartbeatsTest, BeatsEveryLeaseWithItsOwnTrialId) {
  FakeServer server;
  Heartbeats heartbeats(server.Send());
  auto a = heartbeats.Start(11, kInterval);
  auto b = heartbeats.Start(12, kInterval);
  EXPECT_TRUE(::parzen::testing::WaitUntil([&] { return server.Beats(11) >= 3 && server.Beats(12) >= 3; }));
  EXPECT_EQ(server.Beats(13), 0);
}

TEST(HeartbeatsTest, ReleasedLeaseStopsWhileOthersContinue) {
  FakeServer server;
  Heartbeats heartbeats(server.Send());
  auto told = heartbeats.Start(1, kInterval);
  auto running = heartbeats.Start(2, kInterval);
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return server.Beats(1) >= 1; }));
  told->Release();
  const int told_beats = server.Beats(1);
  const int running_beats = server.Beats(2);
  // The other lease's beats measure the time passing, however loaded the
  // machine is.
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return server.Beats(2) >= running_beats + 5; }));
  // One beat may have been in flight when Release ran; none may start after.
  EXPECT_LE(server.Beats(1), told_beats + 1);
}

TEST(HeartbeatsTest, DroppedLeaseStops) {
  FakeServer server;
  Heartbeats heartbeats(server.Send());
  auto lease = heartbeats.Start(5, kInterval);
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return server.Beats(5) >= 1; }));
  // A Trial destroyed without Tell drops its lease: the server must be
  // left to reap it.
  auto clock = heartbeats.Start(FakeServer::kClock, kInterval);
  lease.reset();
  const int beats = server.Beats(5);
  WaitFiveClockBeats(server);
  // One beat may have been in flight when the lease went; none may start after.
  EXPECT_LE(server.Beats(5), beats + 1);
}

class HeartbeatsRefusedTest : public ::testing::TestWithParam<grpc::StatusCode> {};

TEST_P(HeartbeatsRefusedTest, RefusalMarksTheLeaseLostAndStopsBeating) {
  FakeServer server(grpc::Status(GetParam(), "trial 4 (id 9) is FAIL: heartbeat lost"));
  Heartbeats heartbeats(server.Send());
  auto lease = heartbeats.Start(9, kInterval);
  auto clock = heartbeats.Start(FakeServer::kClock, kInterval);
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return lease->lost(); }));
  EXPECT_EQ(lease->lost_reason(), "trial 4 (id 9) is FAIL: heartbeat lost");
  WaitFiveClockBeats(server);
  // Nothing is left to keep alive after the first refusal.
  EXPECT_EQ(server.Beats(9), 1);
}

INSTANTIATE_TEST_SUITE_P(FinishedGoneOrNotOurs, HeartbeatsRefusedTest,
                         ::testing::Values(grpc::StatusCode::FAILED_PRECONDITION,
                                           grpc::StatusCode::NOT_FOUND,
                                           grpc::StatusCode::UNAUTHENTICATED));

class HeartbeatsTransientTest : public ::testing::TestWithParam<grpc::StatusCode> {};

TEST_P(HeartbeatsTransientTest, TransientFailureKeepsTheLeaseAndKeepsBeating) {
  FakeServer server(grpc::Status(GetParam(), "server restarting"));
  Heartbeats heartbeats(server.Send());
  auto lease = heartbeats.Start(2, kInterval);
  EXPECT_TRUE(::parzen::testing::WaitUntil([&] { return server.Beats(2) >= 3; }));
  EXPECT_FALSE(lease->lost());
  EXPECT_EQ(lease->lost_reason(), "");
}

INSTANTIATE_TEST_SUITE_P(ServerOrNetwork, HeartbeatsTransientTest,
                         ::testing::Values(grpc::StatusCode::UNAVAILABLE,
                                           grpc::StatusCode::DEADLINE_EXCEEDED,
                                           grpc::StatusCode::INTERNAL));

TEST(HeartbeatsTest, DestructorStopsTheThreadPromptly) {
  FakeServer server;
  const auto started = steady_clock::now();
  std::shared_ptr<Lease> lease;
  {
    Heartbeats heartbeats(server.Send());
    lease = heartbeats.Start(1, std::chrono::hours(1));
  }
  // The thread waits for an hour-long interval; the destructor must wake it
  // instead of waiting it out.
  EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(server.Beats(1), 0);
}

// Tell races a beat: the server refuses the beat because the trial just
// finished. That trial was told, not lost.
TEST(HeartbeatsTest, ARefusalForAReleasedLeaseDoesNotMarkItLost) {
  std::mutex mutex;
  std::shared_ptr<Lease> lease;  // guarded by mutex
  std::atomic<int> beats{0};
  std::atomic<int> clock_beats{0};
  constexpr TrialId kClock = 2;
  Heartbeats heartbeats([&](TrialId id, milliseconds) {
    if (id == kClock) {
      ++clock_beats;
      return grpc::Status::OK;
    }
    {
      std::lock_guard lock(mutex);
      lease->Release();  // the Tell lands while this beat is in flight
    }
    ++beats;
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "trial 0 is already COMPLETE");
  });
  {
    std::lock_guard lock(mutex);
    lease = heartbeats.Start(1, kInterval);
  }
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return beats.load() >= 1; }));
  // Another lease's beats on the same thread show time passing there.
  auto clock = heartbeats.Start(kClock, kInterval);
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return clock_beats.load() >= 5; }));
  EXPECT_FALSE(lease->lost());
  EXPECT_EQ(beats.load(), 1);
}

TEST(HeartbeatsTest, ARefusalWhileTellingDoesNotMarkTheTrialLost) {
  FakeServer server(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "already COMPLETE"));
  Heartbeats heartbeats(server.Send());
  auto lease = heartbeats.Start(1, kInterval);
  lease->SetTelling(true);
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return server.Beats(1) >= 3; }));
  EXPECT_FALSE(lease->lost()) << "the Tell got there first; the trial is not lost";
  // The Tell failed: refusals count again.
  lease->SetTelling(false);
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return lease->lost(); }));
}

}  // namespace
}  // namespace parzen::client
