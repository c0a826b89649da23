#include "server/service/watch_reactor.h"

#include <thread>

#include <spdlog/spdlog.h>

#include "common/proto_convert.h"
#include "server/service/reply.h"
#include "common/client_text.h"

namespace parzen {

WatchReactor::WatchReactor(StudyManager* manager, std::string study, std::string peer,
                           std::shared_ptr<WatchQueue> queue, const std::atomic<bool>* stopping,
                           std::function<absl::Status()> admitted, std::function<void()> on_exit)
    : manager_(manager),
      study_(std::move(study)),
      peer_(std::move(peer)),
      queue_(std::move(queue)),
      stopping_(stopping),
      admitted_(std::move(admitted)) {
  std::thread([this, on_exit = std::move(on_exit)] {
    Run();
    on_exit();
  }).detach();
}

void WatchReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  write_pending_ = false;
  write_ok_ = ok;
}

void WatchReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

bool WatchReactor::Cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void WatchReactor::Run() {
  absl::Status status;
  // The watch is registered before this reactor exists, so initial
  // metadata tells the client that every later change will be streamed.
  if (!SendAndWait([this] { StartSendInitialMetadata(); })) {
    spdlog::info("watch of study '{}' by {} ended: the client went away", EscapeForLog(study_),
                 EscapeForLog(peer_));
    Finish(grpc::Status::CANCELLED);
    return;
  }
  while (!Cancelled() && !stopping_->load()) {
    status = admitted_();
    if (!status.ok()) break;
    std::optional<TrialEvent> event = queue_->Pop(std::chrono::milliseconds(200));
    if (!event) {
      if (queue_->closed()) break;
      continue;
    }
    // Show only what is durable, in commit order.
    status = manager_->WaitDurable(event->ticket);
    if (!status.ok()) break;
    response_.Clear();
    ToProto(event->trial, study_, response_.mutable_trial());
    response_.set_snapshot(event->snapshot);
    bool own_buffer = false;
    response_bytes_.Clear();  // the last write is done with it
    if (!grpc::SerializationTraits<v1::WatchStudyResponse>::Serialize(response_, &response_bytes_,
                                                                     &own_buffer)
             .ok()) {
      status = absl::InternalError("cannot serialize a watch event");
      break;
    }
    if (!SendAndWait([this] { StartWrite(&response_bytes_); })) break;
  }
  if (status.ok() && queue_->overflowed()) {
    status = absl::ResourceExhaustedError("watcher fell more than " +
                                          std::to_string(queue_->capacity()) +
                                          " events behind; watch again");
  }
  spdlog::info("watch of study '{}' by {} ended: {}", EscapeForLog(study_), EscapeForLog(peer_),
               EscapeForLog(EndReason(status), 1024));
  Finish(Reply("WatchStudy", status));
}

std::string WatchReactor::EndReason(const absl::Status& status) const {
  if (!status.ok()) return std::string(status.message());
  if (stopping_->load()) return "the server is stopping";
  if (queue_->closed()) return "the study was deleted";
  // Cancelled by the client, or its connection found dead by keepalive.
  return "the client went away";
}

}  // namespace parzen
