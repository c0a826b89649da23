#include "server/service/backup_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <spdlog/spdlog.h>

namespace parzen {
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr char kPartialMarker[] = ".partial-";

std::string ErrnoText() { return std::strerror(errno); }

// The link must survive a crash once the client heard of it.
absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  const std::string why = synced ? "" : ErrnoText();
  if (fd >= 0) ::close(fd);
  if (synced) return absl::OkStatus();
  return absl::InternalError("the backup is in " + dir +
                             " but the directory could not be synced (" + why +
                             "): it may not survive a crash");
}

}  // namespace

absl::StatusOr<BackupDir> BackupDir::Open(const std::string& dir) {
  std::error_code error;
  std::string canonical = std::filesystem::canonical(dir, error).string();
  if (error || !std::filesystem::is_directory(canonical, error)) {
    return absl::FailedPreconditionError("--backup-dir " + dir + " is not a directory" +
                                         (error ? " (" + error.message() + ")" : ""));
  }
  return BackupDir(std::move(canonical));
}

void BackupDir::RemoveUnfinished() const {
  std::error_code error;
  std::vector<std::filesystem::path> stale;
  // increment(error), not a range-for: that would throw on a read error.
  std::filesystem::directory_iterator it(path_, error);
  for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    const std::string file = it->path().filename().string();
    // ".NAME.partial-XXXXXX", and ".NAME.partial" of earlier releases.
    if (file.front() == '.' && (file.find(kPartialMarker) != std::string::npos ||
                                file.ends_with(".partial"))) {
      stale.push_back(it->path());
    }
  }
  if (error) spdlog::warn("cannot list --backup-dir {}: {}", path_, error.message());
  for (const auto& file : stale) {
    spdlog::warn("removing {}: an unfinished backup of an earlier run", file.string());
    std::filesystem::remove(file, error);
  }
}

absl::Status BackupDir::CheckName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength || name.front() == '.') {
    return absl::InvalidArgumentError(
        "backup name must be 1-128 characters and not start with '.'");
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          "backup name may hold only A-Z a-z 0-9 . _ - (it is a file name in --backup-dir)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BackupDir::Reserve(const std::string& name) const {
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  const std::string final_path = path_ + "/" + name;
  struct stat info;
  if (::lstat(final_path.c_str(), &info) == 0) {
    return absl::AlreadyExistsError("backup '" + name + "' already exists (" + final_path +
                                    "); choose another name");
  }
  // mkstemp: a new file of our own (O_EXCL, 0600), so neither a planted
  // symlink nor a second backup of the same name can share it.
  std::string partial = path_ + "/." + name + kPartialMarker + "XXXXXX";
  const int fd = ::mkstemp(partial.data());
  if (fd < 0) {
    const int error = errno;
    const std::string why = "cannot create a file in " + path_ + ": " + std::strerror(error);
    // Only a shortage of descriptors passes by itself; a retry would not
    // fix a full or read-only directory.
    if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(why);
    if (error == EMFILE || error == ENFILE) return absl::UnavailableError(why);
    return absl::FailedPreconditionError(why);
  }
  ::close(fd);
  return partial;
}

absl::StatusOr<BackupDir::Placed> BackupDir::Publish(const std::string& partial,
                                                     const std::string& name) const {
  Placed placed{path_ + "/" + name, 0};
  struct stat written;
  if (::stat(partial.c_str(), &written) != 0) {
    const std::string why = ErrnoText();
    Discard(partial);
    return absl::InternalError("the backup's temporary file " + partial + " is gone: " + why);
  }
  placed.bytes = written.st_size;
  // link, not rename: it fails instead of replacing a file that appeared
  // under this name while the copy was written.
  const int linked = ::link(partial.c_str(), placed.path.c_str());
  const int link_errno = errno;
  Discard(partial);
  if (linked != 0) {
    if (link_errno == EEXIST) {
      return absl::AlreadyExistsError("backup '" + name + "' already exists (" + placed.path +
                                      "); choose another name");
    }
    return absl::InternalError("cannot place the backup at " + placed.path + ": " +
                               std::strerror(link_errno));
  }
  if (absl::Status synced = SyncDirectory(path_); !synced.ok()) return synced;
  return placed;
}

void BackupDir::Discard(const std::string& partial) const { ::unlink(partial.c_str()); }

}  // namespace parzen
