// Written<T>: a use case's result with the storage ticket to await before
// answering the client. The change is made in memory; it is durable once
// the ticket is (StudyManager::OnDurable). Ticket 0: nothing to wait for.
#ifndef PARZEN_SERVER_CORE_WRITTEN_H_
#define PARZEN_SERVER_CORE_WRITTEN_H_

#include "server/storage/storage.h"

namespace parzen {

template <typename T>
struct Written {
  T value;
  Storage::Ticket ticket = 0;
};

}  // namespace parzen

#endif  // PARZEN_SERVER_CORE_WRITTEN_H_
