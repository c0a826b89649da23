#include "client/client.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "common/access_token.h"
#include "common/proto_convert.h"

namespace parzen::client {
std::string DefaultWorkerId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "worker") + ":" + std::to_string(getpid());
}

bool IsBudgetReached(const absl::Status& status) {
  return status.code() == absl::StatusCode::kOutOfRange;
}

std::unique_ptr<Client> Client::Connect(ClientOptions options) {
  grpc::ChannelArguments args;
  // Pings while a call is in flight, so a dead server or a cut link fails a
  // long call before its deadline. gRPC stops after two pings without data
  // by default, which left a quiet watch blind to a link lost later; 0
  // keeps pinging for as long as the call lasts.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options.keepalive_timeout.count()));
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // The server's limits let one trial exceed gRPC's default 4 MiB (1024
  // user attributes of up to 64 KiB): reading it must not fail here.
  args.SetMaxReceiveMessageSize(128 << 20);
  auto credentials = ChannelCredentials(options.tls, &args);
  auto channel = grpc::CreateCustomChannel(options.address, credentials, args);
  return std::make_unique<Client>(v1::StudyService::NewStub(channel), std::move(options));
}

Client::Client(std::shared_ptr<v1::StudyService::StubInterface> stub, ClientOptions options)
    : stub_(std::move(stub)),
      options_(std::move(options)),
      rng_(std::random_device{}()),
      heartbeats_([this](TrialId id, std::chrono::milliseconds interval) {
        return SendHeartbeat(id, interval);
      }) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
  options_.retry.max_attempts = std::max(1, options_.retry.max_attempts);
}

std::chrono::milliseconds Client::NextBackoff(int retry) {
  std::lock_guard lock(rng_mutex_);
  return Backoff(options_.retry, retry, rng_);
}

std::unique_ptr<grpc::ClientReaderInterface<v1::WatchStudyResponse>> Client::OpenWatch(
    grpc::ClientContext* context, const v1::WatchStudyRequest& request) {
  PrepareContext(context);
  auto reader = stub_->WatchStudy(context, request);
  reader->WaitForInitialMetadata();
  return reader;
}

void Client::PrepareContext(grpc::ClientContext* context) const {
  if (!options_.access_token.empty()) {
    context->AddMetadata(kAuthorizationKey, kBearerPrefix + options_.access_token);
  }
}

std::string Client::NewRequestId() {
  // Straight from the OS: a generator seeded with 32 bits would give two
  // processes with the same seed the same ids.
  std::random_device entropy;
  char id[33];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(id + 8 * i, 9, "%08x", static_cast<unsigned>(entropy()));
  }
  return id;
}

absl::StatusOr<Study> Client::CreateStudy(const StudyOptions& options) {
  return CreateStudy(options.ToRequest());
}

absl::StatusOr<Study> Client::CreateStudy(const v1::CreateStudyRequest& request) {
  // A lost reply to a plain create would turn its retry into ALREADY_EXISTS;
  // with load_if_exists the retry simply loads what the first call made.
  const Idempotency idempotency =
      request.load_if_exists() ? Idempotency::kIdempotent : Idempotency::kUnavailableOnly;
  v1::CreateStudyResponse response;
  PARZEN_RETURN_IF_ERROR(Call("CreateStudy", idempotency,
                              &v1::StudyService::StubInterface::CreateStudy, request, &response));
  return Study(this, response.study(), response.created());
}

absl::StatusOr<Study> Client::LoadStudy(const std::string& name) {
  v1::GetStudyRequest request;
  request.set_name(name);
  request.set_omit_best_trials(true);
  v1::GetStudyResponse response;
  PARZEN_RETURN_IF_ERROR(Call("GetStudy", Idempotency::kIdempotent,
                              &v1::StudyService::StubInterface::GetStudy, request, &response));
  return Study(this, response.study());
}

absl::Status Client::DeleteStudy(const std::string& name) {
  v1::DeleteStudyRequest request;
  request.set_name(name);
  v1::DeleteStudyResponse response;
  // Not retried on a deadline: the repeat of a delete that happened would
  // say NOT_FOUND.
  return Call("DeleteStudy", Idempotency::kUnavailableOnly,
              &v1::StudyService::StubInterface::DeleteStudy, request, &response);
}

absl::StatusOr<std::vector<StudyListing>> Client::ListStudies() {
  v1::ListStudiesRequest request;
  request.set_page_size(1000);
  std::vector<StudyListing> studies;
  do {
    v1::ListStudiesResponse response;
    PARZEN_RETURN_IF_ERROR(Call("ListStudies", Idempotency::kIdempotent,
                                &v1::StudyService::StubInterface::ListStudies, request,
                                &response));
    for (const v1::GetStudyResponse& s : response.studies()) {
      StudyListing listing;
      listing.name = s.study().name();
      for (int d : s.study().directions()) {
        listing.directions.push_back(
            FromProto(static_cast<v1::Direction>(d)).value_or(Direction::kMinimize));
      }
      const v1::StudySummary& sum = s.summary();
      listing.counts = {sum.n_trials(),  sum.n_running(), sum.n_waiting(),
                        sum.n_complete(), sum.n_pruned(),  sum.n_fail()};
      if (sum.has_best_trial() && sum.best_trial().values_size() > 0) {
        listing.best_value = sum.best_trial().values(0);
      }
      studies.push_back(std::move(listing));
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return studies;
}

absl::StatusOr<Client::Backup> Client::BackupDatabase(const std::string& name) {
  v1::BackupDatabaseRequest request;
  request.set_name(name);
  v1::BackupDatabaseResponse response;
  // A large database takes a while to copy.
  CallLimits limits;
  limits.timeout = std::chrono::minutes(10);
  PARZEN_RETURN_IF_ERROR(Call("BackupDatabase", Idempotency::kNever,
                              &v1::StudyService::StubInterface::BackupDatabase, request,
                              &response, limits));
  return Backup{response.path(), response.bytes()};
}

std::shared_ptr<Lease> Client::StartHeartbeats(TrialId trial_id, double grace_seconds) {
  std::chrono::milliseconds interval = options_.heartbeat_interval;
  if (interval.count() <= 0) {
    // No grace period: the server never reaps, so there is nothing to keep
    // alive; a refused report or tell still tells the caller.
    if (grace_seconds <= 0) return std::make_shared<Lease>(trial_id, interval);
    interval = std::chrono::milliseconds(static_cast<int64_t>(grace_seconds * 1000 / 4));
    interval = std::max(interval, std::chrono::milliseconds(50));
  }
  return heartbeats_.Start(trial_id, interval);
}

grpc::Status Client::SendHeartbeat(TrialId trial_id, std::chrono::milliseconds interval) {
  v1::HeartbeatRequest request;
  request.set_trial_id(trial_id);
  request.set_worker_id(options_.worker_id);
  v1::HeartbeatResponse response;
  grpc::ClientContext context;
  // One attempt, no longer than the interval: the next beat is the retry,
  // and a beat stuck for long would hold up the others past the grace.
  context.set_deadline(std::chrono::system_clock::now() +
                       std::min(options_.call_timeout, interval));
  PrepareContext(&context);
  return stub_->Heartbeat(&context, request, &response);
}

}  // namespace parzen::client
