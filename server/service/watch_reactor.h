// The WatchStudy streams: one reactor per stream, with a thread of its own,
// and a stream that ends at once with an error.
#ifndef PARZEN_SERVER_SERVICE_WATCH_REACTOR_H_
#define PARZEN_SERVER_SERVICE_WATCH_REACTOR_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "parzen/v1/study_service.grpc.pb.h"
#include "server/core/study_manager.h"
#include "server/core/watch_queue.h"

namespace parzen {

// One WatchStudy stream, written as serialized bytes (the service is raw). Waiting for events may take hours, so it happens
// on a thread of the stream's own, never on a gRPC thread. The thread is
// the only caller of StartWrite and Finish; it touches the reactor no more
// after Finish, so OnDone may delete it. `on_exit` runs on that thread as
// it ends. `admitted` says whether the caller's token still lets it watch
// (a SIGHUP may have revoked it); it is asked on that thread between
// events and at least every 200 ms, and an error ends the stream with it.
class WatchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  WatchReactor(StudyManager* manager, std::string study, std::string peer,
               std::shared_ptr<WatchQueue> queue, const std::atomic<bool>* stopping,
               std::function<absl::Status()> admitted, std::function<void()> on_exit);

  void OnSendInitialMetadataDone(bool ok) override { OnWriteDone(ok); }
  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDone() override { delete this; }

 private:
  // Sends `op` (an initial-metadata send or a write) and waits until it is
  // done; false when the stream broke. gRPC always calls the matching Done
  // callback, with ok=false after a cancel.
  template <typename StartOp>
  bool SendAndWait(StartOp start) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    write_pending_ = true;
    start();
    mu_.Await(absl::Condition(
        +[](bool* pending) { return !*pending; }, &write_pending_));
    return write_ok_;
  }
  void Run();
  bool Cancelled() const ABSL_LOCKS_EXCLUDED(mu_);
  std::string EndReason(const absl::Status& status) const;

  StudyManager* const manager_;
  const std::string study_;
  const std::string peer_;
  const std::shared_ptr<WatchQueue> queue_;
  const std::atomic<bool>* const stopping_;
  const std::function<absl::Status()> admitted_;
  v1::WatchStudyResponse response_;
  grpc::ByteBuffer response_bytes_;  // response_ as written (the service is raw)
  mutable absl::Mutex mu_;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool write_ok_ ABSL_GUARDED_BY(mu_) = true;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// A stream that ends at once with `status`.
class FailedWatch final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit FailedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_WATCH_REACTOR_H_
