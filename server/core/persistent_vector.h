// PersistentVector: a vector whose copies share storage, so a copy costs
// O(1) and writing to one copy never changes another (copy-on-write, in
// chunks). The study kernel keeps its trials in one and hands readers
// copies: an immutable snapshot per read, whatever is written meanwhile.
#ifndef PARZEN_SERVER_CORE_PERSISTENT_VECTOR_H_
#define PARZEN_SERVER_CORE_PERSISTENT_VECTOR_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "absl/base/config.h"

namespace parzen {

// The object `p` points to, copied first when another holder shares it, so
// writing to it changes no one else's. For a pointer only one thread
// writes: use_count() == 1 means no other holder has it, and none can get
// it except from that thread. A stale count above 1 (another holder going
// away meanwhile) only costs an unneeded copy; the fence orders the other
// holder's last reads (before its release of the count) before our writes.
// ThreadSanitizer does not model fences, so under it every write copies:
// slower, never wrong.
template <typename T>
T& Unshare(std::shared_ptr<T>& p) {
#ifdef ABSL_HAVE_THREAD_SANITIZER
  constexpr bool kSeesFences = false;
#else
  constexpr bool kSeesFences = true;
#endif
  if (!kSeesFences || p.use_count() > 1) {
    p = std::make_shared<T>(*p);
  } else {
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return *p;
}

// Thread-compatible: const methods of distinct copies may run on any
// threads at once, also while one copy is written, since a write copies
// every chunk another copy still shares before changing it. One copy must
// not be read and written at the same time.
//
// Writes cost O(kChunk) for a chunk another copy shares, plus
// O(size / kChunk) the first time after a copy was made; otherwise O(1).
template <typename T>
class PersistentVector {
 public:
  static constexpr size_t kChunk = 64;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // REQUIRES: i < size().
  const T& operator[](size_t i) const { return (*(*root_)[i / kChunk])[i % kChunk]; }

  void push_back(T value) {
    if (size_ % kChunk == 0) {
      auto chunk = std::make_shared<Chunk>();
      chunk->reserve(kChunk);
      MutableRoot().push_back(std::move(chunk));
    }
    MutableChunk(size_ / kChunk).push_back(std::move(value));
    ++size_;
  }

  // A reference to element `i` that only this copy sees. Valid until the
  // next write. REQUIRES: i < size().
  T& mutable_at(size_t i) { return MutableChunk(i / kChunk)[i % kChunk]; }

 private:
  using Chunk = std::vector<T>;
  using Root = std::vector<std::shared_ptr<Chunk>>;

  Root& MutableRoot() {
    if (!root_) root_ = std::make_shared<Root>();
    return Unshare(root_);
  }

  Chunk& MutableChunk(size_t c) { return Unshare(MutableRoot()[c]); }

  std::shared_ptr<Root> root_;
  size_t size_ = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_PERSISTENT_VECTOR_H_
