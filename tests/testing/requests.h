// Small builders for parzen.v1 requests, so tests read like the study they
// drive.
#ifndef PARZEN_TESTS_TESTING_REQUESTS_H_
#define PARZEN_TESTS_TESTING_REQUESTS_H_

#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "parzen/v1/study_service.grpc.pb.h"

namespace parzen::testing {

inline v1::ParameterSpec FloatSpec(const std::string& name, double low, double high,
                                   bool log = false, std::optional<double> step = std::nullopt) {
  v1::ParameterSpec p;
  p.set_name(name);
  auto* f = p.mutable_distribution()->mutable_float_distribution();
  f->set_low(low);
  f->set_high(high);
  f->set_log(log);
  if (step) f->set_step(*step);
  return p;
}

inline v1::ParameterSpec IntSpec(const std::string& name, int64_t low, int64_t high,
                                 bool log = false, std::optional<int64_t> step = std::nullopt) {
  v1::ParameterSpec p;
  p.set_name(name);
  auto* i = p.mutable_distribution()->mutable_int_distribution();
  i->set_low(low);
  i->set_high(high);
  i->set_log(log);
  if (step) i->set_step(*step);
  return p;
}

inline v1::Value StringValue(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}

inline v1::ParameterSpec CategoricalSpec(const std::string& name,
                                         std::initializer_list<std::string> choices) {
  v1::ParameterSpec p;
  p.set_name(name);
  auto* c = p.mutable_distribution()->mutable_categorical_distribution();
  for (const std::string& choice : choices) *c->add_choices() = StringValue(choice);
  return p;
}

inline grpc::Status CreateStudy(v1::StudyService::Stub& stub, v1::CreateStudyRequest req,
                                v1::CreateStudyResponse* resp = nullptr) {
  grpc::ClientContext ctx;
  v1::CreateStudyResponse ignored;
  return stub.CreateStudy(&ctx, req, resp ? resp : &ignored);
}

inline grpc::Status Ask(v1::StudyService::Stub& stub, const std::string& study,
                        std::initializer_list<v1::ParameterSpec> space, v1::AskResponse* resp) {
  grpc::ClientContext ctx;
  v1::AskRequest req;
  req.set_study(study);
  for (const auto& p : space) *req.add_search_space() = p;
  return stub.Ask(&ctx, req, resp);
}

inline grpc::Status Report(v1::StudyService::Stub& stub, int64_t trial_id, int64_t step,
                           double value, v1::ReportIntermediateResponse* resp) {
  grpc::ClientContext ctx;
  v1::ReportIntermediateRequest req;
  req.set_trial_id(trial_id);
  req.set_step(step);
  req.set_value(value);
  return stub.ReportIntermediate(&ctx, req, resp);
}

inline grpc::Status Tell(v1::StudyService::Stub& stub, int64_t trial_id, v1::TrialState state,
                         std::initializer_list<double> values, v1::TellResponse* resp = nullptr) {
  grpc::ClientContext ctx;
  v1::TellRequest req;
  req.set_trial_id(trial_id);
  req.set_state(state);
  for (double v : values) req.add_values(v);
  v1::TellResponse ignored;
  return stub.Tell(&ctx, req, resp ? resp : &ignored);
}

inline grpc::Status GetStudy(v1::StudyService::Stub& stub, const std::string& name,
                             v1::GetStudyResponse* resp) {
  grpc::ClientContext ctx;
  v1::GetStudyRequest req;
  req.set_name(name);
  return stub.GetStudy(&ctx, req, resp);
}

// The first page of a study's trials (up to 100).
inline grpc::Status ListTrials(v1::StudyService::Stub& stub, const std::string& study,
                               v1::ListTrialsResponse* resp) {
  grpc::ClientContext ctx;
  v1::ListTrialsRequest req;
  req.set_study(study);
  return stub.ListTrials(&ctx, req, resp);
}

inline grpc::Status GetTrial(v1::StudyService::Stub& stub, int64_t trial_id, v1::Trial* out) {
  grpc::ClientContext ctx;
  v1::GetTrialRequest req;
  req.set_trial_id(trial_id);
  v1::GetTrialResponse resp;
  grpc::Status s = stub.GetTrial(&ctx, req, &resp);
  *out = resp.trial();
  return s;
}

// Every trial of a study, following page tokens.
inline grpc::Status ListAllTrials(v1::StudyService::Stub& stub, const std::string& study,
                                  std::vector<v1::Trial>* out, int page_size = 500) {
  std::string token;
  do {
    grpc::ClientContext ctx;
    v1::ListTrialsRequest req;
    req.set_study(study);
    req.set_page_size(page_size);
    req.set_page_token(token);
    v1::ListTrialsResponse resp;
    grpc::Status s = stub.ListTrials(&ctx, req, &resp);
    if (!s.ok()) return s;
    out->insert(out->end(), resp.trials().begin(), resp.trials().end());
    token = resp.next_page_token();
  } while (!token.empty());
  return grpc::Status::OK;
}

// grpc.health.v1.Health/Check for the whole server (service ""), by raw
// bytes: the health protos are not generated here. `reply` gets the answer;
// HealthCheckResponse{status: SERVING} is the two bytes 08 01.
inline grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, std::string* reply) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(s); });
  const grpc::Status status = done.get_future().get();
  reply->clear();
  std::vector<grpc::Slice> slices;
  if (status.ok() && response.Dump(&slices).ok()) {
    for (const auto& slice : slices) {
      reply->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
  }
  return status;
}

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_REQUESTS_H_
