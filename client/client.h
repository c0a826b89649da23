// The C++ client library, modelled on Optuna's API:
//
//   auto client = parzen::client::Client::Connect({.address = "host:50051"});
//   auto study = client->CreateStudy({.name = "mnist", .load_if_exists = true});
//   auto trial = study->Ask();
//   double lr = *trial->SuggestFloat("lr", 1e-4, 1e-1, {.log = true});
//   ... PARZEN_RETURN_IF_ERROR(trial->Report(loss, epoch));
//   if (trial->ShouldPrune()) return study->TellPruned(*trial);
//   study->Tell(*trial, accuracy);
//
// Every call has a deadline; UNAVAILABLE and DEADLINE_EXCEEDED are retried
// with exponential back-off and jitter where a repeat is safe (retry.h). A
// background thread keeps running trials' heartbeats. Errors come back as
// absl::Status with the server's code and message; OUT_OF_RANGE from Ask
// means the study's budget is reached (IsBudgetReached).
#ifndef PARZEN_CLIENT_CLIENT_H_
#define PARZEN_CLIENT_CLIENT_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include <grpcpp/client_context.h>
#include <spdlog/spdlog.h>

#include "common/status.h"
#include "parzen/v1/study_service.grpc.pb.h"
#include "client/heartbeat.h"
#include "client/retry.h"
#include "client/study.h"
#include "client/tls.h"

namespace parzen::client {

struct ClientOptions {
  std::string address = "127.0.0.1:50051";
  // Recorded on every trial this client runs; empty: "<hostname>:<pid>".
  std::string worker_id{};
  // Deadline of each attempt of each call.
  std::chrono::milliseconds call_timeout{10'000};
  RetryPolicy retry{};
  // 0: a quarter of the study's heartbeat grace period.
  std::chrono::milliseconds heartbeat_interval{0};
  // While a call is open, the connection is pinged every `keepalive_time`;
  // a ping unanswered for `keepalive_timeout` fails the call with
  // UNAVAILABLE. This is what ends a long call (a quiet WatchStudy) over a
  // silently broken link. The server accepts pings every 5 s at most.
  std::chrono::milliseconds keepalive_time{20'000};
  std::chrono::milliseconds keepalive_timeout{10'000};
  // Sent with every call when the server requires one (its --token-file);
  // ReadAccessTokenFile reads the same file.
  std::string access_token{};
  // Over TLS when set (ReadTlsFiles reads the files a command line names);
  // plaintext otherwise.
  std::optional<TlsOptions> tls{};
};

// True for Ask's "study budget reached" answer: the study is done, not broken.
bool IsBudgetReached(const absl::Status& status);

// "<hostname>:<pid>": the worker id a Client uses when none is given.
std::string DefaultWorkerId();

// Thread-safe. Must outlive the Studies and Trials it hands out.
class Client {
 public:
  // The channel connects lazily: a server that is not up yet is waited for
  // by the first call's retries.
  static std::unique_ptr<Client> Connect(ClientOptions options);
  // Over any stub, e.g. a mock in tests.
  Client(std::shared_ptr<v1::StudyService::StubInterface> stub, ClientOptions options);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Creates the study; with `options.load_if_exists`, returns the existing
  // one of that name instead of ALREADY_EXISTS.
  absl::StatusOr<Study> CreateStudy(const StudyOptions& options);
  absl::StatusOr<Study> CreateStudy(const v1::CreateStudyRequest& request);
  absl::StatusOr<Study> LoadStudy(const std::string& name);
  absl::Status DeleteStudy(const std::string& name);
  // Every study on the server, by name.
  absl::StatusOr<std::vector<StudyListing>> ListStudies();

  // BackupDatabase: a copy of the server's database named `name` in its
  // --backup-dir. Never retried: a repeat after a lost reply would find the
  // name taken, and a failed copy would fail again.
  struct Backup {
    std::string path;  // on the server's machine
    int64_t bytes = 0;
  };
  absl::StatusOr<Backup> BackupDatabase(const std::string& name);

  const ClientOptions& options() const { return options_; }
  const std::string& worker_id() const { return options_.worker_id; }

  // One RPC with a deadline per attempt, retried as `idempotency` allows.
  // The edge for Study and Trial; usable for any StudyService method.
  template <typename Request, typename Response>
  absl::Status Call(std::string_view method, Idempotency idempotency,
                    grpc::Status (v1::StudyService::StubInterface::*rpc)(grpc::ClientContext*,
                                                                          const Request&,
                                                                          Response*),
                    const Request& request, Response* response, const CallLimits& limits = {});

  std::shared_ptr<Lease> StartHeartbeats(TrialId trial_id, double grace_seconds);

  // The raw WatchStudy stream, for Study::Watch. Returns once the server
  // has registered the watch (or the call failed; Finish then tells).
  std::unique_ptr<grpc::ClientReaderInterface<v1::WatchStudyResponse>> OpenWatch(
      grpc::ClientContext* context, const v1::WatchStudyRequest& request);

  // A fresh random token (32 hex digits) that lets the server recognise a
  // retried Ask.
  std::string NewRequestId();

  // Adds what every call carries (the access token, if any) to `context`.
  void PrepareContext(grpc::ClientContext* context) const;

 private:
  std::chrono::milliseconds NextBackoff(int retry);
  grpc::Status SendHeartbeat(TrialId trial_id, std::chrono::milliseconds interval);

  const std::shared_ptr<v1::StudyService::StubInterface> stub_;
  ClientOptions options_;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;  // guarded by rng_mutex_; jitter only
  // Last member: its thread calls the stub and must stop before the rest goes.
  Heartbeats heartbeats_;
};

template <typename Request, typename Response>
absl::Status Client::Call(std::string_view method, Idempotency idempotency,
                          grpc::Status (v1::StudyService::StubInterface::*rpc)(
                              grpc::ClientContext*, const Request&, Response*),
                          const Request& request, Response* response,
                          const CallLimits& limits) {
  const int max_attempts = limits.max_attempts > 0 ? limits.max_attempts
                                                   : options_.retry.max_attempts;
  const auto timeout = limits.timeout.count() > 0 ? limits.timeout : options_.call_timeout;
  grpc::Status status;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    PrepareContext(&context);
    status = ((*stub_).*rpc)(&context, request, response);
    if (status.ok()) return absl::OkStatus();
    if (IsUntrustedServerCertificate(status.error_message())) {
      return absl::UnavailableError(std::string(method) + ": " + status.error_message() +
                                    TlsHint(status.error_message(), options_.tls));
    }
    if (!IsRetryable(status.error_code(), idempotency) || attempt >= max_attempts) break;
    const auto pause = NextBackoff(attempt);
    // The first retry is worth a line: a worker gone quiet for a minute
    // should say it is waiting for the server.
    if (attempt == 1) {
      spdlog::warn("{} to {} failed ({}); retrying up to {} times", method, options_.address,
                   status.error_message(), max_attempts - 1);
    } else {
      spdlog::debug("{} failed ({}), retry {} in {} ms", method, status.error_message(), attempt,
                    pause.count());
    }
    std::this_thread::sleep_for(pause);
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (IsRetryable(status.error_code(), idempotency)) {
    return absl::Status(code, std::string(method) + ": no answer from the server after " +
                                  std::to_string(max_attempts) +
                                  " attempts: " + status.error_message() +
                                  TlsHint(status.error_message(), options_.tls));
  }
  // The server's own errors say what is wrong; a transport error alone
  // ("Deadline Exceeded") needs the call it ended.
  if (code == absl::StatusCode::kDeadlineExceeded || code == absl::StatusCode::kUnavailable) {
    return absl::Status(code, std::string(method) + ": " + status.error_message());
  }
  return absl::Status(code, status.error_message());
}

}  // namespace parzen::client

#endif  // PARZEN_CLIENT_CLIENT_H_
