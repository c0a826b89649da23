// The --backup-dir: where BackupDatabase places copies of the database.
// A client names a copy with a plain file name, never a path, so it cannot
// choose where the server writes. A copy is written to a private temporary
// file and linked into place only once complete and on disk: a reader
// never sees half a backup, and no file is ever overwritten.
#ifndef PARZEN_SERVER_SERVICE_BACKUP_DIR_H_
#define PARZEN_SERVER_SERVICE_BACKUP_DIR_H_

#include <cstdint>
#include <string>

#include "common/status.h"

namespace parzen {

class BackupDir {
 public:
  struct Placed {
    std::string path;
    int64_t bytes = 0;
  };

  // `dir` must be an existing directory.
  static absl::StatusOr<BackupDir> Open(const std::string& dir);
  // Removes the temporary files of copies an earlier run did not finish
  // (so: one directory per server). Call once this server holds its
  // database, so a second instance refused at start-up removes nothing.
  void RemoveUnfinished() const;

  // INVALID_ARGUMENT unless `name` is 1-128 of A-Z a-z 0-9 . _ - and does
  // not start with '.' (the temporary files do).
  static absl::Status CheckName(const std::string& name);

  // Creates an empty private file (mode 0600, which the published copy
  // keeps: it holds every study) to write the copy `name` into, and returns
  // its path; ALREADY_EXISTS if `name` is taken.
  absl::StatusOr<std::string> Reserve(const std::string& name) const;
  // Links a complete, synced copy into place as `name`, syncs the
  // directory, and removes the temporary file either way; ALREADY_EXISTS if
  // another copy took the name meanwhile.
  absl::StatusOr<Placed> Publish(const std::string& partial, const std::string& name) const;
  // Removes a temporary file that will not be published.
  void Discard(const std::string& partial) const;

  const std::string& path() const { return path_; }

 private:
  explicit BackupDir(std::string path) : path_(std::move(path)) {}

  std::string path_;  // canonical
};

}  // namespace parzen

#endif  // PARZEN_SERVER_SERVICE_BACKUP_DIR_H_
