// SqliteStorage: the Storage on one SQLite file (WAL, durable commits),
// with group commit: one background thread commits every mutation queued
// while the previous transaction was being written, in one transaction and
// one fsync.
#ifndef PARZEN_SERVER_STORAGE_SQLITE_STORAGE_H_
#define PARZEN_SERVER_STORAGE_SQLITE_STORAGE_H_

#include <memory>
#include <string>

#include "server/storage/storage.h"

namespace parzen {

// Current schema version; older files are migrated forward at open.
inline constexpr int kSchemaVersion = 4;

// Opens (creating if missing) the Parzen database at `path`; ":memory:" for
// a throw-away one. Never writes to a file it does not recognise:
// FailedPrecondition for a file that is not SQLite, a SQLite file that is
// not a Parzen database, or a schema newer than kSchemaVersion;
// Unavailable when the file cannot be opened or read; DataLoss for a
// damaged database. The message names the path and what to do.
absl::StatusOr<std::unique_ptr<Storage>> OpenSqliteStorage(const std::string& path);

}  // namespace parzen

#endif  // PARZEN_SERVER_STORAGE_SQLITE_STORAGE_H_
