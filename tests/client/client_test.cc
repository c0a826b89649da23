#include "client/client.h"
#include "client/heartbeat.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "tests/testing/wait.h"

#include "common/proto_convert.h"
#include "parzen/v1/study_service_mock.grpc.pb.h"
#include "tests/testing/status_matchers.h"
#include "client/study.h"
#include "client/trial.h"

namespace parzen::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Return;
using ::testing::StrictMock;

using MockStub = StrictMock<v1::MockStudyServiceStub>;

// Shorter than the 10 s default so a deadline taken from the default would
// show, long enough that a loaded machine cannot exhaust it inside a test.
constexpr milliseconds kCallTimeout(2'000);
constexpr TrialId kTrialId = 7;
constexpr char kWorkerId[] = "worker-a:42";

grpc::Status Unavailable() { return {grpc::StatusCode::UNAVAILABLE, "connection refused"}; }
grpc::Status DeadlineExceeded() { return {grpc::StatusCode::DEADLINE_EXCEEDED, "deadline"}; }

v1::Study StudyProto(double heartbeat_grace_seconds) {
  v1::Study study;
  study.set_name("mnist");
  study.set_study_id(1);
  study.add_directions(v1::MAXIMIZE);
  study.set_max_trials(20);
  study.set_heartbeat_grace_seconds(heartbeat_grace_seconds);
  return study;
}

v1::Trial RunningTrial() {
  v1::Trial trial;
  trial.set_trial_id(kTrialId);
  trial.set_number(0);
  trial.set_study("mnist");
  trial.set_state(v1::RUNNING);
  trial.set_worker_id(kWorkerId);
  return trial;
}

v1::Trial FinishedTrial(v1::TrialState state, const std::vector<double>& values) {
  v1::Trial trial = RunningTrial();
  trial.set_state(state);
  for (double v : values) trial.add_values(v);
  return trial;
}

void AddParam(const std::string& name, const Distribution& distribution, double internal,
              v1::Trial* trial) {
  ToProto(TrialParam{name, distribution, internal}, trial->add_params());
}

// An action answering `trial` to Ask.
auto AnswerAsk(v1::Trial trial) {
  return Invoke([trial](grpc::ClientContext*, const v1::AskRequest&, v1::AskResponse* response) {
    *response->mutable_trial() = trial;
    return grpc::Status::OK;
  });
}

// An action answering Tell with the stored `trial`.
auto AnswerTell(v1::Trial trial, std::string message = "") {
  return Invoke(
      [trial, message](grpc::ClientContext*, const v1::TellRequest&, v1::TellResponse* response) {
        *response->mutable_trial() = trial;
        response->set_message(message);
        return grpc::Status::OK;
      });
}

// The deadline lies call_timeout after some moment between `before` and
// `after` (the span of the client call), allowing for the clock conversion
// gRPC does on the way in and out.
void ExpectDeadlineAfterCallTimeout(system_clock::time_point deadline,
                                    system_clock::time_point before,
                                    system_clock::time_point after) {
  EXPECT_GE(deadline, before + kCallTimeout - milliseconds(1));
  EXPECT_LE(deadline, after + kCallTimeout + milliseconds(1));
}

// Each test talks to a strict mock: an RPC the test did not expect (an
// extra retry, a heartbeat, a call that should have been answered from the
// cache) fails it.
class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    options_.worker_id = kWorkerId;
    options_.call_timeout = kCallTimeout;
    options_.retry.max_attempts = 5;
    options_.retry.initial_backoff = milliseconds(1);
    options_.retry.max_backoff = milliseconds(5);
  }

  void SetUp() override { client_ = std::make_unique<Client>(stub_, options_); }

  // heartbeat_grace_seconds 0 and no heartbeat_interval: no heartbeat
  // thread, so only the calls a test makes reach the mock.
  Study MakeStudy(double heartbeat_grace_seconds = 0) {
    return Study(client_.get(), StudyProto(heartbeat_grace_seconds));
  }

  // Asks `study` for a trial the mock answers with `trial`.
  absl::StatusOr<Trial> AskFor(Study& study, const v1::Trial& trial,
                               const SearchSpace& search_space = {}) {
    EXPECT_CALL(*stub_, Ask(_, _, _)).WillOnce(AnswerAsk(trial));
    return study.Ask(search_space);
  }

  ClientOptions options_;
  std::shared_ptr<MockStub> stub_ = std::make_shared<MockStub>();
  std::unique_ptr<Client> client_;
};

// ---- Retries.

TEST_F(ClientTest, TellRetriesUnavailableUntilTheServerAnswers) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(Unavailable()))
      .WillOnce(AnswerTell(FinishedTrial(v1::COMPLETE, {0.93})));
  ASSERT_OK_AND_ASSIGN(TellResult result, study.Tell(trial, 0.93));
  EXPECT_EQ(result.state, TrialState::kComplete);
}

TEST_F(ClientTest, IdempotentCallsRetryDeadlineExceeded) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));

  EXPECT_CALL(*stub_, ReportIntermediate(_, _, _))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::ReportIntermediateRequest&,
                          v1::ReportIntermediateResponse* response) {
        response->set_should_prune(true);
        return grpc::Status::OK;
      }));
  ASSERT_OK(trial.Report(0.5, 1));
  EXPECT_TRUE(trial.ShouldPrune());

  EXPECT_CALL(*stub_, Suggest(_, _, _))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::SuggestRequest& request,
                          v1::SuggestResponse* response) {
        response->mutable_parameter()->set_name(request.name());
        *response->mutable_parameter()->mutable_distribution() = request.distribution();
        response->mutable_parameter()->set_internal_value(0.25);
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(double dropout, trial.SuggestFloat("dropout", 0.0, 0.5));
  EXPECT_EQ(dropout, 0.25);

  EXPECT_CALL(*stub_, SetTrialUserAttr(_, _, _))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(Return(grpc::Status::OK));
  ASSERT_OK(trial.SetUserAttr("test_accuracy", 0.97));

  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(Return(grpc::Status::OK));
  ASSERT_OK(study.Counts());

  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(AnswerTell(FinishedTrial(v1::COMPLETE, {0.9})));
  ASSERT_OK(study.Tell(trial, 0.9));
}

TEST_F(ClientTest, AskRetriesUnavailable) {
  Study study = MakeStudy();
  EXPECT_CALL(*stub_, Ask(_, _, _))
      .WillOnce(Return(Unavailable()))
      .WillOnce(AnswerAsk(RunningTrial()));
  ASSERT_OK_AND_ASSIGN(Trial trial, study.Ask());
  EXPECT_EQ(trial.id(), kTrialId);
}

TEST_F(ClientTest, AskRetriesADeadlineWithTheSameRequestId) {
  Study study = MakeStudy();
  // The server may have started a trial before the deadline hit; the
  // repeat carries the same request id so the server hands that trial out
  // again instead of starting a second one.
  std::vector<std::string> ids;
  auto record = [&ids](grpc::ClientContext*, const v1::AskRequest& request, v1::AskResponse*) {
    ids.push_back(request.request_id());
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded");
  };
  EXPECT_CALL(*stub_, Ask(_, _, _))
      .WillOnce(Invoke(record))
      .WillOnce(Invoke(record))
      .WillOnce(Invoke([&ids](grpc::ClientContext*, const v1::AskRequest& request,
                              v1::AskResponse* response) {
        ids.push_back(request.request_id());
        *response->mutable_trial() = RunningTrial();
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(Trial trial, study.Ask());
  EXPECT_EQ(trial.id(), kTrialId);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].size(), 32u);
  EXPECT_EQ(ids[1], ids[0]);
  EXPECT_EQ(ids[2], ids[0]);
}

TEST_F(ClientTest, EachAskHasItsOwnRequestId) {
  Study study = MakeStudy();
  std::vector<std::string> ids;
  EXPECT_CALL(*stub_, Ask(_, _, _))
      .Times(2)
      .WillRepeatedly(Invoke([&ids](grpc::ClientContext*, const v1::AskRequest& request,
                                    v1::AskResponse* response) {
        ids.push_back(request.request_id());
        *response->mutable_trial() = RunningTrial();
        return grpc::Status::OK;
      }));
  ASSERT_OK(study.Ask().status());
  ASSERT_OK(study.Ask().status());
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_FALSE(ids[0].empty());
  EXPECT_NE(ids[0], ids[1]);
}

TEST_F(ClientTest, EnqueueIsNeverRetried) {
  Study study = MakeStudy();
  // A lost reply would turn a repeat into a second queued trial.
  EXPECT_CALL(*stub_, EnqueueTrial(_, _, _)).WillOnce(Return(Unavailable()));
  EXPECT_EQ(study.Enqueue({{"lr", 0.01}}).status().code(), absl::StatusCode::kUnavailable);

  EXPECT_CALL(*stub_, EnqueueTrial(_, _, _)).WillOnce(Return(DeadlineExceeded()));
  EXPECT_EQ(study.Enqueue({{"lr", 0.01}}).status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(ClientTest, EnqueueSendsParamsAndReturnsTheTrialNumber) {
  Study study = MakeStudy();
  EXPECT_CALL(*stub_, EnqueueTrial(_, _, _))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::EnqueueTrialRequest& request,
                          v1::EnqueueTrialResponse* response) {
        EXPECT_EQ(request.study(), "mnist");
        EXPECT_EQ(request.params().at("lr").double_value(), 0.01);
        EXPECT_EQ(request.params().at("optimizer").string_value(), "adam");
        response->mutable_trial()->set_number(3);
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(int64_t number,
                       study.Enqueue({{"lr", 0.01}, {"optimizer", std::string("adam")}}));
  EXPECT_EQ(number, 3);
}

TEST_F(ClientTest, CreateStudyRetriesDeadlineExceededOnlyWithLoadIfExists) {
  v1::CreateStudyRequest request;
  request.set_name("mnist");
  // Without load_if_exists a repeat of a create that happened says
  // ALREADY_EXISTS, so only UNAVAILABLE is retried.
  EXPECT_CALL(*stub_, CreateStudy(_, _, _)).WillOnce(Return(DeadlineExceeded()));
  EXPECT_EQ(client_->CreateStudy(request).status().code(), absl::StatusCode::kDeadlineExceeded);

  request.set_load_if_exists(true);
  EXPECT_CALL(*stub_, CreateStudy(_, _, _))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::CreateStudyRequest&,
                          v1::CreateStudyResponse* response) {
        *response->mutable_study() = StudyProto(30);
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(Study study, client_->CreateStudy(request));
  EXPECT_EQ(study.heartbeat_grace_seconds(), 30);
}

TEST_F(ClientTest, DeleteStudyRetriesUnavailableButNotDeadlineExceeded) {
  EXPECT_CALL(*stub_, DeleteStudy(_, _, _))
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(grpc::Status::OK));
  ASSERT_OK(client_->DeleteStudy("mnist"));

  EXPECT_CALL(*stub_, DeleteStudy(_, _, _)).WillOnce(Return(DeadlineExceeded()));
  EXPECT_EQ(client_->DeleteStudy("mnist").code(), absl::StatusCode::kDeadlineExceeded);
}

class NonRetryableCodeTest : public ClientTest,
                             public ::testing::WithParamInterface<grpc::StatusCode> {};

TEST_P(NonRetryableCodeTest, ReturnedAtOnceWithTheServersCodeAndMessage) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(Return(grpc::Status(GetParam(), "trial 0 is already COMPLETE")));
  absl::StatusOr<TellResult> result = study.Tell(trial, 1.0);
  EXPECT_EQ(result.status().code(), static_cast<absl::StatusCode>(GetParam()));
  EXPECT_EQ(result.status().message(), "trial 0 is already COMPLETE");

  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .WillOnce(Return(grpc::Status(GetParam(), "study \"mnist\" not found")));
  absl::StatusOr<Study> loaded = client_->LoadStudy("mnist");
  EXPECT_EQ(loaded.status().code(), static_cast<absl::StatusCode>(GetParam()));
  EXPECT_EQ(loaded.status().message(), "study \"mnist\" not found");
}

INSTANTIATE_TEST_SUITE_P(ServerVerdicts, NonRetryableCodeTest,
                         ::testing::Values(grpc::StatusCode::INVALID_ARGUMENT,
                                           grpc::StatusCode::FAILED_PRECONDITION,
                                           grpc::StatusCode::NOT_FOUND,
                                           grpc::StatusCode::ALREADY_EXISTS,
                                           grpc::StatusCode::INTERNAL));

TEST_F(ClientTest, RetriesStopAfterMaxAttempts) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Tell(_, _, _)).Times(5).WillRepeatedly(Return(Unavailable()));
  absl::StatusOr<TellResult> result = study.Tell(trial, 1.0);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("no answer from the server after 5 attempts"));
  EXPECT_THAT(result.status().message(), HasSubstr("connection refused"));
  EXPECT_THAT(result.status().message(), HasSubstr("Tell"));
}

TEST_F(ClientTest, AskGivesUpAfterMaxAttemptsOfUnavailable) {
  Study study = MakeStudy();
  EXPECT_CALL(*stub_, Ask(_, _, _)).Times(5).WillRepeatedly(Return(Unavailable()));
  absl::StatusOr<Trial> trial = study.Ask();
  EXPECT_EQ(trial.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(trial.status().message(), HasSubstr("after 5 attempts"));
}

class SingleAttemptClientTest : public ClientTest {
 protected:
  SingleAttemptClientTest() { options_.retry.max_attempts = 0; }
};

TEST_F(SingleAttemptClientTest, MaxAttemptsBelowOneStillMakesOneAttempt) {
  EXPECT_CALL(*stub_, GetStudy(_, _, _)).WillOnce(Return(Unavailable()));
  absl::StatusOr<Study> study = client_->LoadStudy("mnist");
  EXPECT_EQ(study.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(study.status().message(), HasSubstr("after 1 attempts"));
}

class SlowBackoffClientTest : public ClientTest {
 protected:
  SlowBackoffClientTest() {
    options_.retry.initial_backoff = milliseconds(20);
    options_.retry.max_backoff = milliseconds(1'000);
    options_.retry.multiplier = 2.0;
  }
};

TEST_F(SlowBackoffClientTest, RetriesPauseBetweenAttempts) {
  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(grpc::Status::OK));
  const auto started = steady_clock::now();
  ASSERT_OK(client_->LoadStudy("mnist"));
  // At least half of 20 ms, then half of 40 ms: a lower bound sleep_for
  // guarantees, so this cannot flake on a slow machine.
  EXPECT_GE(steady_clock::now() - started, milliseconds(30));
}

// ---- Deadlines.

TEST_F(ClientTest, EveryCallCarriesADeadlineOfCallTimeout) {
  system_clock::time_point deadline;
  auto record = [&deadline](grpc::ClientContext* context) { deadline = context->deadline(); };

  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .WillOnce(Invoke([&](grpc::ClientContext* context, const v1::GetStudyRequest&,
                           v1::GetStudyResponse* response) {
        record(context);
        *response->mutable_study() = StudyProto(0);
        return grpc::Status::OK;
      }));
  auto before = system_clock::now();
  ASSERT_OK_AND_ASSIGN(Study study, client_->LoadStudy("mnist"));
  ExpectDeadlineAfterCallTimeout(deadline, before, system_clock::now());

  EXPECT_CALL(*stub_, Ask(_, _, _))
      .WillOnce(Invoke(
          [&](grpc::ClientContext* context, const v1::AskRequest&, v1::AskResponse* response) {
            record(context);
            *response->mutable_trial() = RunningTrial();
            return grpc::Status::OK;
          }));
  before = system_clock::now();
  ASSERT_OK_AND_ASSIGN(Trial trial, study.Ask());
  ExpectDeadlineAfterCallTimeout(deadline, before, system_clock::now());

  EXPECT_CALL(*stub_, Suggest(_, _, _))
      .WillOnce(Invoke([&](grpc::ClientContext* context, const v1::SuggestRequest& request,
                           v1::SuggestResponse* response) {
        record(context);
        ToProto(TrialParam{request.name(), IntDistribution{1, 4}, 2},
                response->mutable_parameter());
        return grpc::Status::OK;
      }));
  before = system_clock::now();
  ASSERT_OK(trial.SuggestInt("layers", 1, 4));
  ExpectDeadlineAfterCallTimeout(deadline, before, system_clock::now());

  EXPECT_CALL(*stub_, ReportIntermediate(_, _, _))
      .WillOnce(Invoke([&](grpc::ClientContext* context, const v1::ReportIntermediateRequest&,
                           v1::ReportIntermediateResponse*) {
        record(context);
        return grpc::Status::OK;
      }));
  before = system_clock::now();
  ASSERT_OK(trial.Report(0.4, 0));
  ExpectDeadlineAfterCallTimeout(deadline, before, system_clock::now());

  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(Invoke(
          [&](grpc::ClientContext* context, const v1::TellRequest&, v1::TellResponse* response) {
            record(context);
            *response->mutable_trial() = FinishedTrial(v1::COMPLETE, {0.4});
            return grpc::Status::OK;
          }));
  before = system_clock::now();
  ASSERT_OK(study.Tell(trial, 0.4));
  ExpectDeadlineAfterCallTimeout(deadline, before, system_clock::now());
}

TEST_F(ClientTest, EachRetryGetsAFreshDeadline) {
  std::vector<system_clock::time_point> deadlines;
  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .Times(3)
      .WillRepeatedly(Invoke(
          [&](grpc::ClientContext* context, const v1::GetStudyRequest&, v1::GetStudyResponse*) {
            deadlines.push_back(context->deadline());
            return deadlines.size() < 3 ? Unavailable() : grpc::Status::OK;
          }));
  const auto before = system_clock::now();
  ASSERT_OK(client_->LoadStudy("mnist"));
  const auto after = system_clock::now();
  ASSERT_EQ(deadlines.size(), 3u);
  for (const auto& deadline : deadlines) ExpectDeadlineAfterCallTimeout(deadline, before, after);
  // One context per attempt: a retry does not inherit the spent one.
  EXPECT_LT(deadlines[0], deadlines[2]);
}

// ---- Tell.

TEST_F(ClientTest, TellRepeatedAfterALostReplyReturnsTheStoredOutcome) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  std::vector<v1::TellRequest> sent;
  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(
          Invoke([&](grpc::ClientContext*, const v1::TellRequest& request, v1::TellResponse*) {
            // The server stored the outcome, but the reply never arrived.
            sent.push_back(request);
            return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded");
          }))
      .WillOnce(Invoke(
          [&](grpc::ClientContext*, const v1::TellRequest& request, v1::TellResponse* response) {
            sent.push_back(request);
            *response->mutable_trial() = FinishedTrial(v1::COMPLETE, {0.91, 12.5});
            response->set_message("repeat");
            return grpc::Status::OK;
          }));
  ASSERT_OK_AND_ASSIGN(TellResult result, study.Tell(trial, std::vector<double>{0.91, 12.5}));
  EXPECT_EQ(result.state, TrialState::kComplete);
  EXPECT_EQ(result.message, "repeat");
  EXPECT_EQ(trial.snapshot().state, TrialState::kComplete);
  EXPECT_EQ(trial.snapshot().values, (std::vector<double>{0.91, 12.5}));

  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].trial_id(), kTrialId);
  EXPECT_EQ(sent[0].state(), v1::COMPLETE);
  ASSERT_EQ(sent[0].values_size(), 2);
  EXPECT_EQ(sent[0].values(0), 0.91);
  EXPECT_EQ(sent[0].values(1), 12.5);
  // The server accepts only an identical repeat.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(sent[0], sent[1]))
      << sent[0].DebugString() << " vs " << sent[1].DebugString();
}

TEST_F(ClientTest, TellReportsTheStateTheServerStored) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  // COMPLETE with NaN is stored as FAIL.
  v1::Trial stored = FinishedTrial(v1::FAIL, {});
  stored.set_fail_reason("NaN");
  EXPECT_CALL(*stub_, Tell(_, _, _)).WillOnce(AnswerTell(stored, "value is NaN: stored as FAIL"));
  ASSERT_OK_AND_ASSIGN(TellResult result, study.Tell(trial, std::nan("")));
  EXPECT_EQ(result.state, TrialState::kFail);
  EXPECT_EQ(result.message, "value is NaN: stored as FAIL");
  EXPECT_EQ(trial.snapshot().fail_reason, "NaN");
}

TEST_F(ClientTest, TellPrunedAndTellFailSendTheirStates) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial pruned, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(Invoke(
          [](grpc::ClientContext*, const v1::TellRequest& request, v1::TellResponse* response) {
            EXPECT_EQ(request.state(), v1::PRUNED);
            EXPECT_EQ(request.values_size(), 0);
            *response->mutable_trial() = FinishedTrial(v1::PRUNED, {0.3});
            return grpc::Status::OK;
          }));
  ASSERT_OK_AND_ASSIGN(TellResult result, study.TellPruned(pruned));
  EXPECT_EQ(result.state, TrialState::kPruned);

  ASSERT_OK_AND_ASSIGN(Trial failed, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(Invoke(
          [](grpc::ClientContext*, const v1::TellRequest& request, v1::TellResponse* response) {
            EXPECT_EQ(request.state(), v1::FAIL);
            EXPECT_EQ(request.fail_reason(), "out of memory");
            *response->mutable_trial() = FinishedTrial(v1::FAIL, {});
            return grpc::Status::OK;
          }));
  ASSERT_OK_AND_ASSIGN(result, study.TellFail(failed, "out of memory"));
  EXPECT_EQ(result.state, TrialState::kFail);
}

TEST_F(ClientTest, ATrialToldOnceRefusesReportsLocally) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Tell(_, _, _)).WillOnce(AnswerTell(FinishedTrial(v1::COMPLETE, {1.0})));
  ASSERT_OK(study.Tell(trial, 1.0));
  EXPECT_CALL(*stub_, ReportIntermediate(_, _, _)).Times(0);
  EXPECT_EQ(trial.Report(0.5, 3).code(), absl::StatusCode::kFailedPrecondition);
}

// ---- Ask and Suggest.

TEST_F(ClientTest, AskSendsStudyWorkerAndSearchSpace) {
  Study study = MakeStudy();
  const SearchSpace space = {{"lr", FloatDistribution{1e-4, 1e-1, true, std::nullopt}},
                             {"units", IntDistribution{16, 256, false, 16}}};
  EXPECT_CALL(*stub_, Ask(_, _, _))
      .WillOnce(Invoke(
          [](grpc::ClientContext*, const v1::AskRequest& request, v1::AskResponse* response) {
            EXPECT_EQ(request.study(), "mnist");
            EXPECT_EQ(request.worker_id(), kWorkerId);
            EXPECT_EQ(request.search_space_size(), 2);
            EXPECT_EQ(request.search_space(0).name(), "lr");
            EXPECT_TRUE(request.search_space(0).distribution().float_distribution().log());
            EXPECT_EQ(request.search_space(1).name(), "units");
            EXPECT_EQ(request.search_space(1).distribution().int_distribution().step(), 16);
            *response->mutable_trial() = RunningTrial();
            return grpc::Status::OK;
          }));
  ASSERT_OK_AND_ASSIGN(Trial trial, study.Ask(space));
  EXPECT_EQ(trial.id(), kTrialId);
  EXPECT_EQ(trial.number(), 0);
}

TEST_F(ClientTest, SuggestOfAParameterFromAsksSearchSpaceNeedsNoRpc) {
  Study study = MakeStudy();
  const FloatDistribution lr{1e-4, 1e-1, true, std::nullopt};
  const CategoricalDistribution optimizer{{std::string("adam"), std::string("sgd")}};
  v1::Trial asked = RunningTrial();
  AddParam("lr", lr, 0.01, &asked);
  AddParam("optimizer", optimizer, 1, &asked);
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, asked, {{"lr", lr}, {"optimizer", optimizer}}));

  // The strict mock fails the test if either reaches the server.
  EXPECT_CALL(*stub_, Suggest(_, _, _)).Times(0);
  ASSERT_OK_AND_ASSIGN(double value,
                       trial.SuggestFloat("lr", 1e-4, 1e-1, {.log = true}));
  EXPECT_EQ(value, 0.01);
  ASSERT_OK_AND_ASSIGN(
      ParamValue choice,
      trial.SuggestCategorical("optimizer", {std::string("adam"), std::string("sgd")}));
  EXPECT_EQ(choice, ParamValue(std::string("sgd")));
  EXPECT_EQ(trial.params().at("lr"), ParamValue(0.01));
}

TEST_F(ClientTest, SuggestOfANewParameterAsksTheServerOnceThenCaches) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Suggest(_, _, _))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::SuggestRequest& request,
                          v1::SuggestResponse* response) {
        EXPECT_EQ(request.trial_id(), kTrialId);
        EXPECT_EQ(request.name(), "units");
        EXPECT_EQ(request.distribution().int_distribution().low(), 16);
        EXPECT_EQ(request.distribution().int_distribution().high(), 256);
        ToProto(TrialParam{"units", IntDistribution{16, 256, false, 1}, 64},
                response->mutable_parameter());
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(int64_t units, trial.SuggestInt("units", 16, 256));
  EXPECT_EQ(units, 64);
  // Times(1) above: the second call must come from the cache.
  ASSERT_OK_AND_ASSIGN(units, trial.SuggestInt("units", 16, 256));
  EXPECT_EQ(units, 64);
  EXPECT_EQ(trial.params().at("units"), ParamValue(int64_t{64}));
}

TEST_F(ClientTest, SuggestSendsTheNormalisedDistributionSoTheCacheMatches) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Suggest(_, _, _))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::SuggestRequest& request,
                          v1::SuggestResponse* response) {
        // [16, 100] step 16 is stored as [16, 96].
        EXPECT_EQ(request.distribution().int_distribution().high(), 96);
        response->mutable_parameter()->set_name(request.name());
        *response->mutable_parameter()->mutable_distribution() = request.distribution();
        response->mutable_parameter()->set_internal_value(48);
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(int64_t batch,
                       trial.SuggestInt("batch", 16, 100, {.log = false, .step = 16}));
  EXPECT_EQ(batch, 48);
  ASSERT_OK_AND_ASSIGN(batch, trial.SuggestInt("batch", 16, 100, {.log = false, .step = 16}));
  EXPECT_EQ(batch, 48);
}

TEST_F(ClientTest, SuggestWithAnotherDistributionForAKnownNameAsksTheServer) {
  Study study = MakeStudy();
  v1::Trial asked = RunningTrial();
  AddParam("lr", FloatDistribution{1e-4, 1e-1, true, std::nullopt}, 0.01, &asked);
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, asked));
  // Only the server knows whether the new range is compatible.
  EXPECT_CALL(*stub_, Suggest(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "lr: log differs from the stored distribution")));
  absl::StatusOr<double> lr = trial.SuggestFloat("lr", 1e-4, 1e-1);
  EXPECT_EQ(lr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(lr.status().message(), HasSubstr("log differs"));
}

// A reply this client cannot read (as from a newer server) must not leave
// a RUNNING trial behind that nobody works on.
TEST_F(ClientTest, AnUnreadableAskReplyFailsTheTrialItStarted) {
  Study study = MakeStudy();
  v1::Trial unreadable = RunningTrial();
  unreadable.add_params()->set_name("from_the_future");  // no distribution this client knows
  v1::TellRequest told;
  EXPECT_CALL(*stub_, Ask(_, _, _)).WillOnce(AnswerAsk(unreadable));
  EXPECT_CALL(*stub_, Tell(_, _, _))
      .WillOnce(Invoke([&](grpc::ClientContext*, const v1::TellRequest& request,
                           v1::TellResponse*) {
        told = request;
        return grpc::Status::OK;
      }));
  const absl::Status asked = study.Ask().status();
  EXPECT_EQ(asked.code(), absl::StatusCode::kInternal) << asked;
  EXPECT_NE(asked.message().find("could not be read"), std::string::npos) << asked;
  EXPECT_NE(asked.message().find("the trial was told FAIL"), std::string::npos) << asked;
  EXPECT_EQ(told.trial_id(), kTrialId);
  EXPECT_EQ(told.state(), v1::FAIL);
  EXPECT_NE(told.fail_reason().find("could not be read"), std::string::npos) << told.fail_reason();
}

TEST_F(ClientTest, InvalidDistributionFailsWithoutARoundTrip) {
  Study study = MakeStudy();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_CALL(*stub_, Suggest(_, _, _)).Times(0);
  const absl::Status backwards = trial.SuggestFloat("lr", 1.0, 0.1).status();
  EXPECT_EQ(backwards.code(), absl::StatusCode::kInvalidArgument);
  // Define-by-run code suggests many parameters: the message says which.
  EXPECT_EQ(backwards.message().substr(0, 16), "parameter 'lr': ") << backwards;
}

// ---- Budget, study reads.

TEST_F(ClientTest, AskOutOfRangeMeansTheBudgetIsReached) {
  Study study = MakeStudy();
  EXPECT_CALL(*stub_, Ask(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                                    "study \"mnist\" has reached max_trials 20")));
  absl::StatusOr<Trial> trial = study.Ask();
  EXPECT_TRUE(IsBudgetReached(trial.status()));
  EXPECT_EQ(trial.status().message(), "study \"mnist\" has reached max_trials 20");
}

TEST(IsBudgetReachedTest, OnlyOutOfRange) {
  EXPECT_TRUE(IsBudgetReached(absl::OutOfRangeError("budget")));
  EXPECT_FALSE(IsBudgetReached(absl::OkStatus()));
  EXPECT_FALSE(IsBudgetReached(absl::UnavailableError("no answer")));
  EXPECT_FALSE(IsBudgetReached(absl::FailedPreconditionError("finished")));
}

TEST_F(ClientTest, LoadStudyReadsTheStudysSettings) {
  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::GetStudyRequest& request,
                          v1::GetStudyResponse* response) {
        EXPECT_EQ(request.name(), "mnist");
        *response->mutable_study() = StudyProto(45);
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(Study study, client_->LoadStudy("mnist"));
  EXPECT_EQ(study.name(), "mnist");
  EXPECT_EQ(study.directions(), std::vector<Direction>{Direction::kMaximize});
  EXPECT_EQ(study.heartbeat_grace_seconds(), 45);
  EXPECT_EQ(study.max_trials(), 20);
}

TEST_F(ClientTest, CountsAndBestTrialComeFromTheSummary) {
  Study study = MakeStudy();
  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .Times(2)
      .WillRepeatedly(Invoke(
          [](grpc::ClientContext*, const v1::GetStudyRequest& request,
             v1::GetStudyResponse* response) {
            // Neither needs the Pareto front, which can be large.
            EXPECT_TRUE(request.omit_best_trials());
            v1::StudySummary* s = response->mutable_summary();
            s->set_n_trials(6);
            s->set_n_running(1);
            s->set_n_waiting(1);
            s->set_n_complete(2);
            s->set_n_pruned(1);
            s->set_n_fail(1);
            *s->mutable_best_trial() = FinishedTrial(v1::COMPLETE, {0.98});
            return grpc::Status::OK;
          }));
  ASSERT_OK_AND_ASSIGN(StudyCounts counts, study.Counts());
  EXPECT_EQ(counts.trials, 6);
  EXPECT_EQ(counts.running, 1);
  EXPECT_EQ(counts.waiting, 1);
  EXPECT_EQ(counts.complete, 2);
  EXPECT_EQ(counts.pruned, 1);
  EXPECT_EQ(counts.fail, 1);
  ASSERT_OK_AND_ASSIGN(std::optional<FrozenTrial> best, study.BestTrial());
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->values, std::vector<double>{0.98});

  EXPECT_CALL(*stub_, GetStudy(_, _, _))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::GetStudyRequest& request,
                          v1::GetStudyResponse* response) {
        EXPECT_FALSE(request.omit_best_trials());
        *response->mutable_summary()->add_best_trials() = FinishedTrial(v1::COMPLETE, {0.98});
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(std::vector<FrozenTrial> front, study.BestTrials());
  EXPECT_EQ(front.size(), 1u);
}

TEST_F(ClientTest, NoSingleBestTrialOfSeveralObjectives) {
  v1::Study proto = StudyProto(0);
  proto.add_directions(v1::MINIMIZE);
  Study study(client_.get(), proto);
  // Answered without a call (the strict mock allows none).
  const absl::Status best = study.BestTrial().status();
  EXPECT_EQ(best.code(), absl::StatusCode::kFailedPrecondition) << best;
  EXPECT_NE(best.message().find("has 2 objectives"), std::string::npos) << best;
  EXPECT_NE(best.message().find("BestTrials()"), std::string::npos) << best;
}

TEST_F(ClientTest, TrialsFollowsPageTokens) {
  Study study = MakeStudy();
  EXPECT_CALL(*stub_, ListTrials(_, _, _))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::ListTrialsRequest& request,
                          v1::ListTrialsResponse* response) {
        EXPECT_EQ(request.page_token(), "");
        *response->add_trials() = FinishedTrial(v1::COMPLETE, {0.5});
        response->set_next_page_token("page2");
        return grpc::Status::OK;
      }))
      .WillOnce(Invoke([](grpc::ClientContext*, const v1::ListTrialsRequest& request,
                          v1::ListTrialsResponse* response) {
        EXPECT_EQ(request.page_token(), "page2");
        v1::Trial second = FinishedTrial(v1::PRUNED, {0.2});
        second.set_number(1);
        *response->add_trials() = second;
        return grpc::Status::OK;
      }));
  ASSERT_OK_AND_ASSIGN(std::vector<FrozenTrial> trials, study.Trials());
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].number, 0);
  EXPECT_EQ(trials[1].number, 1);
  EXPECT_EQ(trials[1].state, TrialState::kPruned);
}

TEST_F(ClientTest, StudyUserAttrsAreSentTypedOrAsJsonAndRetried) {
  Study study = MakeStudy();
  std::vector<v1::SetStudyUserAttrRequest> sent;
  auto record = [&](grpc::ClientContext*, const v1::SetStudyUserAttrRequest& request,
                    v1::SetStudyUserAttrResponse*) {
    sent.push_back(request);
    return grpc::Status::OK;
  };
  EXPECT_CALL(*stub_, SetStudyUserAttr(_, _, _))
      .WillOnce(Return(DeadlineExceeded()))
      .WillOnce(Invoke(record))
      .WillOnce(Invoke(record));
  ASSERT_OK(study.SetUserAttr("budget", int64_t{100}));
  ASSERT_OK(study.SetUserAttrJson("tags", R"(["cnn", 2])"));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].study(), "mnist");
  EXPECT_EQ(sent[0].key(), "budget");
  EXPECT_EQ(sent[0].value().number_value(), 100);
  EXPECT_EQ(sent[1].key(), "tags");
  ASSERT_EQ(sent[1].value().list_value().values_size(), 2);
  EXPECT_EQ(sent[1].value().list_value().values(0).string_value(), "cnn");
  // Text that is not JSON never reaches the server (the mock allows no
  // further call).
  const absl::Status not_json = study.SetUserAttrJson("tags", "[cnn");
  EXPECT_EQ(not_json.code(), absl::StatusCode::kInvalidArgument) << not_json;
  EXPECT_EQ(not_json.message(), "user attribute 'tags' is not JSON: [cnn");
}

// ---- Heartbeats.

// Records every Heartbeat the mock receives, from the heartbeat thread.
class HeartbeatLog {
 public:
  // Answers every heartbeat with `answer` and records it.
  auto Answer(grpc::Status answer) {
    return Invoke([this, answer](grpc::ClientContext* context, const v1::HeartbeatRequest& request,
                                 v1::HeartbeatResponse*) {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      deadline_in_.push_back(context->deadline() - system_clock::now());
      return answer;
    });
  }
  int count() {
    std::lock_guard lock(mutex_);
    return static_cast<int>(requests_.size());
  }
  std::vector<v1::HeartbeatRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<system_clock::duration> deadlines_in() {
    std::lock_guard lock(mutex_);
    return deadline_in_;
  }

 private:
  std::mutex mutex_;
  std::vector<v1::HeartbeatRequest> requests_;       // guarded by mutex_
  std::vector<system_clock::duration> deadline_in_;  // guarded by mutex_
};

constexpr milliseconds kHeartbeatInterval(20);

// All expectations are set before Ask: gMock does not allow setting them
// while the heartbeat thread may be calling the mock.
class ClientHeartbeatTest : public ClientTest {
 protected:
  ClientHeartbeatTest() { options_.heartbeat_interval = kHeartbeatInterval; }

  // Call once the trial's lease has ended (told, dropped or lost): watches
  // several intervals and allows only the one beat that may have been in
  // flight when it ended.
  void ExpectNoMoreHeartbeats() {
    const int ended_at = beats_.count();
    std::this_thread::sleep_for(6 * kHeartbeatInterval);
    EXPECT_LE(beats_.count(), ended_at + 1);
  }

  // The base's client_ would outlive beats_, which its heartbeat thread
  // writes to: stop the thread first.
  void TearDown() override { client_.reset(); }

  HeartbeatLog beats_;
};

TEST_F(ClientHeartbeatTest, HeartbeatsCarryTrialIdWorkerIdAndADeadline) {
  EXPECT_CALL(*stub_, Heartbeat(_, _, _)).WillRepeatedly(beats_.Answer(grpc::Status::OK));
  EXPECT_CALL(*stub_, Tell(_, _, _)).WillOnce(AnswerTell(FinishedTrial(v1::COMPLETE, {1})));
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/60);
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return beats_.count() >= 2; }));
  for (const v1::HeartbeatRequest& request : beats_.requests()) {
    EXPECT_EQ(request.trial_id(), kTrialId);
    EXPECT_EQ(request.worker_id(), kWorkerId);
  }
  for (const system_clock::duration& left : beats_.deadlines_in()) {
    EXPECT_GT(left, system_clock::duration::zero());
    EXPECT_LE(left, kCallTimeout + milliseconds(1));
  }
  EXPECT_FALSE(trial.lost());
  ASSERT_OK(study.Tell(trial, 1));
}

class HeartbeatRefusedTest : public ClientHeartbeatTest,
                             public ::testing::WithParamInterface<grpc::StatusCode> {};

TEST_P(HeartbeatRefusedTest, RefusedHeartbeatMarksTheTrialLost) {
  const std::string reason = "trial 0 (id 7) is FAIL: heartbeat lost";
  EXPECT_CALL(*stub_, Heartbeat(_, _, _))
      .WillRepeatedly(beats_.Answer(grpc::Status(GetParam(), reason)));
  // A lost trial is not the worker's to write to any more.
  EXPECT_CALL(*stub_, ReportIntermediate(_, _, _)).Times(0);
  EXPECT_CALL(*stub_, SetTrialUserAttr(_, _, _)).Times(0);
  EXPECT_CALL(*stub_, Suggest(_, _, _)).Times(0);
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/60);
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));

  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return trial.lost(); }));
  EXPECT_EQ(trial.lost_reason(), reason);
  EXPECT_TRUE(trial.ShouldPrune());
  const absl::Status report = trial.Report(0.5, 1);
  EXPECT_EQ(report.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.message(), HasSubstr(reason));
  EXPECT_EQ(trial.SetUserAttr("epoch", int64_t{1}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(trial.SuggestInt("units", 16, 256).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The server said no: asking again is pointless.
  ExpectNoMoreHeartbeats();
  EXPECT_EQ(beats_.count(), 1);
}

INSTANTIATE_TEST_SUITE_P(FinishedOrGone, HeartbeatRefusedTest,
                         ::testing::Values(grpc::StatusCode::FAILED_PRECONDITION,
                                           grpc::StatusCode::NOT_FOUND));

TEST_F(ClientHeartbeatTest, TransientHeartbeatFailuresKeepTheTrial) {
  EXPECT_CALL(*stub_, Heartbeat(_, _, _)).WillRepeatedly(beats_.Answer(Unavailable()));
  EXPECT_CALL(*stub_, ReportIntermediate(_, _, _)).WillOnce(Return(grpc::Status::OK));
  EXPECT_CALL(*stub_, Tell(_, _, _)).WillOnce(AnswerTell(FinishedTrial(v1::COMPLETE, {1})));
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/60);
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  EXPECT_TRUE(::parzen::testing::WaitUntil([&] { return beats_.count() >= 3; }));
  EXPECT_FALSE(trial.lost());
  EXPECT_FALSE(trial.ShouldPrune());
  ASSERT_OK(trial.Report(0.5, 1));
  ASSERT_OK(study.Tell(trial, 1));
}

TEST_F(ClientHeartbeatTest, HeartbeatsStopAfterTell) {
  EXPECT_CALL(*stub_, Heartbeat(_, _, _)).WillRepeatedly(beats_.Answer(grpc::Status::OK));
  EXPECT_CALL(*stub_, Tell(_, _, _)).WillOnce(AnswerTell(FinishedTrial(v1::COMPLETE, {1})));
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/60);
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return beats_.count() >= 1; }));
  ASSERT_OK(study.Tell(trial, 1));
  ExpectNoMoreHeartbeats();
}

TEST_F(ClientHeartbeatTest, HeartbeatsStopWhenTheTrialIsDropped) {
  EXPECT_CALL(*stub_, Heartbeat(_, _, _)).WillRepeatedly(beats_.Answer(grpc::Status::OK));
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/60);
  {
    ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
    ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return beats_.count() >= 1; }));
  }
  // An abandoned trial must be left for the server to reap.
  ExpectNoMoreHeartbeats();
}

TEST_F(ClientHeartbeatTest, EachRunningTrialGetsItsOwnHeartbeats) {
  EXPECT_CALL(*stub_, Heartbeat(_, _, _)).WillRepeatedly(beats_.Answer(grpc::Status::OK));
  v1::Trial second = RunningTrial();
  second.set_trial_id(8);
  second.set_number(1);
  EXPECT_CALL(*stub_, Ask(_, _, _)).WillOnce(AnswerAsk(RunningTrial())).WillOnce(AnswerAsk(second));
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/60);
  ASSERT_OK_AND_ASSIGN(Trial a, study.Ask());
  ASSERT_OK_AND_ASSIGN(Trial b, study.Ask());
  auto beats_for = [&](TrialId id) {
    int n = 0;
    for (const v1::HeartbeatRequest& r : beats_.requests()) n += r.trial_id() == id;
    return n;
  };
  EXPECT_TRUE(::parzen::testing::WaitUntil([&] { return beats_for(kTrialId) >= 2 && beats_for(8) >= 2; }));
}

class DefaultHeartbeatIntervalTest : public ClientHeartbeatTest {
 protected:
  DefaultHeartbeatIntervalTest() { options_.heartbeat_interval = milliseconds(0); }
};

TEST_F(DefaultHeartbeatIntervalTest, IntervalFollowsTheGracePeriod) {
  EXPECT_CALL(*stub_, Heartbeat(_, _, _)).WillRepeatedly(beats_.Answer(grpc::Status::OK));
  // A clock that runs as the machine lets threads run: a lease beating
  // every 25 ms on a thread of its own.
  std::atomic<int> ticks{0};
  Heartbeats clock([&](TrialId, milliseconds) {
    ++ticks;
    return grpc::Status::OK;
  });
  auto tick = clock.Start(1, milliseconds(25));
  // A quarter of 0.4 s.
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/0.4);
  const auto asked = steady_clock::now();
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  ASSERT_TRUE(::parzen::testing::WaitUntil([&] { return beats_.count() >= 2; }));
  // Two intervals of 100 ms: a lower bound the heartbeat thread's timed
  // wait guarantees.
  EXPECT_GE(steady_clock::now() - asked, milliseconds(200));
  // And an upper one: two beats take about 8 ticks; an interval 5 times
  // too long (one the server would reap the trial over) would take 40.
  EXPECT_LE(ticks.load(), 24);
}

TEST_F(DefaultHeartbeatIntervalTest, NoGracePeriodNoHeartbeats) {
  EXPECT_CALL(*stub_, Heartbeat(_, _, _)).Times(0);
  EXPECT_CALL(*stub_, ReportIntermediate(_, _, _)).WillOnce(Return(grpc::Status::OK));
  Study study = MakeStudy(/*heartbeat_grace_seconds=*/0);
  ASSERT_OK_AND_ASSIGN(Trial trial, AskFor(study, RunningTrial()));
  // The server never reaps this study's trials; nothing to keep alive.
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_FALSE(trial.lost());
  ASSERT_OK(trial.Report(0.1, 0));
}

}  // namespace
}  // namespace parzen::client
