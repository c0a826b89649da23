// A sampler registered from this file alone (no edit to the service, the
// storage, the CLI or the worker) is offered by a server running in this
// process: selectable by name over the API and from the CLI's spec string.
// The same sampler, made to block, shows that sampling holds up only the
// Ask it samples for: the study's other calls and other Asks go on.
#include <gtest/gtest.h>

#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/notification.h"
#include "parzen/v1/algorithms.pb.h"
#include "server/plugins/plugin_registry.h"
#include "tests/testing/child_process.h"
#include "tests/testing/in_process_server.h"
#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace parzen::testing {
namespace {

// Lets a test hold an Ask inside the sampler, and know that it is there.
struct Gate {
  absl::Notification entered;
  absl::Notification release;
};

// Every value the lowest its distribution holds (so its trials are easy to
// tell from any other sampler's), and a system attribute on each trial; an
// Ask from worker "held" waits at the gate until the test releases it.
class GatedSampler final : public Sampler {
 public:
  explicit GatedSampler(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::string_view Name() const override { return "gated"; }
  absl::StatusOr<RelativeSample> SampleRelative(const StudyHistory&, const FrozenTrial& trial,
                                                const SearchSpace&) const override {
    if (trial.worker_id == "held") {
      gate_->entered.Notify();
      gate_->release.WaitForNotification();
    }
    RelativeSample sample;
    sample.system_attrs["gate"] = R"({"passed": true})";
    return sample;
  }
  absl::StatusOr<double> SampleIndependent(const StudyHistory&, const FrozenTrial&,
                                           const std::string&,
                                           const Distribution& d) const override {
    if (const auto* f = std::get_if<FloatDistribution>(&d)) return f->low;
    if (const auto* i = std::get_if<IntDistribution>(&d)) return static_cast<double>(i->low);
    return 0.0;
  }

 private:
  std::shared_ptr<Gate> gate_;
};

Algorithms WithGatedSampler(std::shared_ptr<Gate> gate) {
  Algorithms algorithms;
  EXPECT_OK(algorithms.samplers.Add(MakePlugin<Sampler, v1::RandomSamplerConfig>(
      "gated", [](v1::RandomSamplerConfig&, uint64_t) { return absl::OkStatus(); },
      [gate](const v1::RandomSamplerConfig&) { return std::make_unique<GatedSampler>(gate); })));
  return algorithms;
}

class PluginSamplerTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart(); }
  void Restart() {
    server_.reset();
    auto server = InProcessServer::Start(dir_.File("plugin.db"), WithGatedSampler(gate_));
    ASSERT_OK(server.status());
    server_ = *std::move(server);
    stub_ = server_->NewStub();
  }
  int Parzen(const std::vector<std::string>& args, std::string* output) {
    std::vector<std::string> argv = {PARZEN_CLI_BINARY, "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess cli(argv, dir_.File("cli.out." + std::to_string(++runs_)));
    const std::optional<int> code = cli.WaitFor(std::chrono::seconds(30));
    *output = cli.Log();
    return code.value_or(-2);
  }
  v1::Study GetStudy(const std::string& name) {
    v1::GetStudyResponse resp;
    EXPECT_TRUE(testing::GetStudy(*stub_, name, &resp).ok());
    return resp.study();
  }

  TempDir dir_;
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<v1::StudyService::Stub> stub_;
  int runs_ = 0;
};

TEST_F(PluginSamplerTest, SelectableByNameOverTheApiAndFromTheCliSpec) {
  v1::CreateStudyRequest create;
  create.set_name("api");
  create.mutable_sampler()->mutable_named()->set_name("gated");
  (*create.mutable_sampler()->mutable_named()->mutable_args())["seed"] = "3";
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  v1::AskResponse ask;
  ASSERT_TRUE(Ask(*stub_, "api", {FloatSpec("x", 0.25, 1), IntSpec("n", 3, 9)}, &ask).ok());
  EXPECT_EQ(ask.trial().params(0).internal_value(), 0.25);
  EXPECT_EQ(ask.trial().params(1).internal_value(), 3.0);
  // What the sampler recorded comes back, apart from the user's attributes,
  // from every read.
  auto passed = [](const v1::Trial& t) {
    auto it = t.system_attrs().find("gate");
    return it != t.system_attrs().end() &&
           it->second.struct_value().fields().at("passed").bool_value() && t.user_attrs().empty();
  };
  EXPECT_TRUE(passed(ask.trial())) << ask.trial().DebugString();
  {
    grpc::ClientContext ctx;
    v1::GetTrialRequest req;
    req.set_trial_id(ask.trial().trial_id());
    v1::GetTrialResponse resp;
    ASSERT_TRUE(stub_->GetTrial(&ctx, req, &resp).ok());
    EXPECT_TRUE(passed(resp.trial()));
  }
  {
    grpc::ClientContext ctx;
    v1::WatchStudyRequest req;
    req.set_study("api");
    auto reader = stub_->WatchStudy(&ctx, req);
    v1::WatchStudyResponse first;
    ASSERT_TRUE(reader->Read(&first));
    EXPECT_TRUE(passed(first.trial()));
    ctx.TryCancel();
    reader->Finish();
  }

  std::string output;
  ASSERT_EQ(Parzen({"create", "cli", "--sampler", "gated:seed=5"}, &output), 0) << output;
  for (const auto& [name, seed] : {std::pair{"api", "3"}, {"cli", "5"}}) {
    const v1::Study study = GetStudy(name);
    ASSERT_TRUE(study.sampler().has_named()) << study.DebugString();
    EXPECT_EQ(study.sampler().named().name(), "gated");
    EXPECT_EQ(study.sampler().named().args().at("seed"), seed);
  }
  // Stored, so a restart builds the same sampler.
  Restart();
  EXPECT_EQ(GetStudy("cli").sampler().named().name(), "gated");
  ASSERT_TRUE(Ask(*stub_, "cli", {FloatSpec("x", 0.5, 1)}, &ask).ok());
  EXPECT_EQ(ask.trial().params(0).internal_value(), 0.5);

  // A name the server does not offer is its error, naming what it offers.
  EXPECT_EQ(Parzen({"create", "typo", "--sampler", "gatd"}, &output), 1);
  const size_t offers = output.find("this server offers: ");
  ASSERT_NE(offers, std::string::npos) << output;
  EXPECT_NE(output.find("gated, ", offers), std::string::npos) << output;
  EXPECT_NE(output.find("random", offers), std::string::npos) << output;
}

TEST_F(PluginSamplerTest, ASamplingAskHoldsUpOnlyItself) {
  v1::CreateStudyRequest create;
  create.set_name("held");
  create.mutable_sampler()->mutable_named()->set_name("gated");
  ASSERT_TRUE(CreateStudy(*stub_, create).ok());
  v1::AskResponse first;
  ASSERT_TRUE(Ask(*stub_, "held", {FloatSpec("x", 0, 1)}, &first).ok());

  grpc::Status held_status;
  v1::AskResponse held;
  std::thread held_ask([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::AskRequest req;
    req.set_study("held");
    req.set_worker_id("held");
    *req.add_search_space() = FloatSpec("x", 0, 1);
    held_status = stub_->Ask(&ctx, req, &held);
  });
  // Should an assertion end the test early, the held Ask is let go.
  absl::Cleanup let_go = [&] {
    if (!gate_->release.HasBeenNotified()) gate_->release.Notify();
    if (held_ask.joinable()) held_ask.join();
  };
  ASSERT_TRUE(gate_->entered.WaitForNotificationWithTimeout(absl::Seconds(30)));

  // Each call gets 10 s: one stuck behind the held Ask would fail, not hang.
  auto deadline = [](grpc::ClientContext& ctx) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  };
  const int64_t id = first.trial().trial_id();
  {
    grpc::ClientContext ctx;
    deadline(ctx);
    v1::ReportIntermediateRequest req;
    req.set_trial_id(id);
    req.set_value(0.5);
    v1::ReportIntermediateResponse resp;
    ASSERT_TRUE(stub_->ReportIntermediate(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    deadline(ctx);
    v1::TellRequest req;
    req.set_trial_id(id);
    req.set_state(v1::COMPLETE);
    req.add_values(0.5);
    v1::TellResponse resp;
    ASSERT_TRUE(stub_->Tell(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    deadline(ctx);
    v1::GetTrialRequest req;
    req.set_trial_id(id);
    v1::GetTrialResponse resp;
    ASSERT_TRUE(stub_->GetTrial(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.trial().state(), v1::COMPLETE);
  }
  v1::AskResponse second;
  {
    grpc::ClientContext ctx;
    deadline(ctx);
    v1::AskRequest req;
    req.set_study("held");
    req.set_worker_id("other");
    *req.add_search_space() = FloatSpec("x", 0, 1);
    ASSERT_TRUE(stub_->Ask(&ctx, req, &second).ok());
  }
  EXPECT_EQ(second.trial().number(), 1);
  EXPECT_FALSE(gate_->release.HasBeenNotified());  // the held Ask is still in the sampler

  gate_->release.Notify();
  held_ask.join();
  ASSERT_TRUE(held_status.ok()) << held_status.error_message();
  EXPECT_EQ(held.trial().number(), 2);  // the next number: none skipped, none taken twice
  EXPECT_EQ(held.trial().worker_id(), "held");
  v1::ListTrialsResponse listed;
  ASSERT_TRUE(ListTrials(*stub_, "held", &listed).ok());
  ASSERT_EQ(listed.trials_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(listed.trials(i).number(), i);
}

}  // namespace
}  // namespace parzen::testing
