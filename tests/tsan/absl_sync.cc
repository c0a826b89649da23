// ThreadSanitizer annotations for Debian's abseil, which is not built with
// ThreadSanitizer: its Mutex waits and wakes with futexes and atomics that
// ThreadSanitizer cannot see, so every hand-off under an absl::Mutex (ours
// and gRPC's alike) would look like a race. Only the thread build links
// this library, ahead of abseil: its definitions of the public Mutex,
// CondVar and Notification entry points take the place of abseil's for the
// whole process (gRPC's calls go through the PLT too), tell
// ThreadSanitizer what each does, and call abseil's own (dlsym RTLD_NEXT).
// The hooks are those abseil itself calls when it is built with
// ThreadSanitizer (ABSL_TSAN_MUTEX_* in its mutex.cc).
//
// Mutex's and CondVar's *WithTimeout variants are left alone: abseil
// implements them by calling the *WithDeadline ones through the PLT, which
// lands here.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

// Our definitions do not acquire what abseil's declarations say they do:
// abseil's do, and we call them.
#pragma clang diagnostic ignored "-Wthread-safety-analysis"

namespace {

#define PARZEN_STRINGIFY_(x) #x
#define PARZEN_STRINGIFY(x) PARZEN_STRINGIFY_(x)

// "_ZN4absl7debian35Mutex4LockEv" for `member` "5Mutex4LockEv" (and "_ZNK"
// for a const member): the Itanium mangling, with abseil's inline namespace.
template <typename Fn>
Fn Real(const char* member, bool is_const = false) {
  const std::string ns = PARZEN_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = std::string(is_const ? "_ZNK" : "_ZN") + "4absl" +
                           std::to_string(ns.size()) + ns + member;
  void* real = dlsym(RTLD_NEXT, name.c_str());
  if (real == nullptr) {
    // Nothing sensible can go on: every lock would be lost.
    std::fprintf(stderr, "tests/tsan/absl_sync.cc: abseil has no %s\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(real);
}

using absl::CondVar;
using absl::Condition;
using absl::Mutex;
using absl::Notification;
using absl::Time;

constexpr unsigned kRead = __tsan_mutex_read_lock;

// Whether `caller` lies in one of the libraries ThreadSanitizer cannot see
// into. A mutex inside gRPC is destroyed when a reference count, an atomic
// in libgrpc, says so; annotating that destruction would report a race
// with the mutex's last use on another thread, a hand-off through that
// count. Left unannotated, gRPC's free is all ThreadSanitizer sees, and
// tsan.supp leaves libgrpc's and libgpr's calls alone.
bool CalledFromTheUninstrumented(void* caller) {
  Dl_info info{};
  if (dladdr(caller, &info) == 0 || info.dli_fname == nullptr) return false;
  const std::string_view file = info.dli_fname;
  for (const char* lib : {"/libgrpc", "/libgpr", "/libabsl_", "/libprotobuf"}) {
    if (file.find(lib) != std::string_view::npos) return true;
  }
  return false;
}

// What Await and CondVar::Wait do to the mutex the caller holds: release it,
// wait, take it again.
void AnnotateReleaseForWait(Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

Mutex::~Mutex() {
  static const auto real = Real<void (*)(Mutex*)>("5MutexD2Ev");
  if (!CalledFromTheUninstrumented(__builtin_return_address(0))) __tsan_mutex_destroy(this, 0);
  real(this);
}

void Mutex::Lock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  __tsan_mutex_pre_lock(this, 0);
  real(this);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::Unlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

bool Mutex::TryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(
      this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::ReaderLock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  __tsan_mutex_pre_lock(this, kRead);
  real(this);
  __tsan_mutex_post_lock(this, kRead, 0);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  __tsan_mutex_pre_unlock(this, kRead);
  real(this);
  __tsan_mutex_post_unlock(this, kRead);
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_read_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(
      this, locked ? __tsan_mutex_try_read_lock : __tsan_mutex_try_read_lock_failed, 0);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex8LockWhenERKNS0_9ConditionE");
  __tsan_mutex_pre_lock(this, 0);
  real(this, cond);
  __tsan_mutex_post_lock(this, 0, 0);
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  __tsan_mutex_pre_lock(this, 0);
  const bool met = real(this, cond, deadline);
  // Held whether or not the condition was met.
  __tsan_mutex_post_lock(this, 0, 0);
  return met;
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  __tsan_mutex_pre_lock(this, kRead);
  real(this, cond);
  __tsan_mutex_post_lock(this, kRead, 0);
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  __tsan_mutex_pre_lock(this, kRead);
  const bool met = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, kRead, 0);
  return met;
}

void Mutex::Await(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("5Mutex5AwaitERKNS0_9ConditionE");
  AnnotateReleaseForWait(this);
  real(this, cond);
  __tsan_mutex_post_lock(this, 0, 0);
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotateReleaseForWait(this);
  const bool met = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, 0, 0);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  AnnotateReleaseForWait(mu);
  real(this, mu);
  __tsan_mutex_post_lock(mu, 0, 0);
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  AnnotateReleaseForWait(mu);
  const bool timed_out = real(this, mu, deadline);
  __tsan_mutex_post_lock(mu, 0, 0);
  return timed_out;
}

// A waiter that finds the notification already given returns on an atomic
// load inside abseil, without the mutex: the release and acquire below are
// that load's happens-before edge.
void Notification::Notify() {
  static const auto real = Real<void (*)(Notification*)>("12Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  static const auto real =
      Real<void (*)(const Notification*)>("12Notification19WaitForNotificationEv", true);
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  static const auto real = Real<bool (*)(const Notification*, absl::Duration)>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE", true);
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static const auto real = Real<bool (*)(const Notification*, Time)>(
      "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", true);
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
