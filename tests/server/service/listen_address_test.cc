#include "server/service/listen_address.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "tests/testing/server_process.h"

namespace parzen {
namespace {

using Kind = ListenAddress::Kind;

TEST(ListenAddressTest, TellsTcpFromUnixSockets) {
  EXPECT_EQ(ParseListenAddress("127.0.0.1:50051").kind, Kind::kTcp);
  EXPECT_EQ(ParseListenAddress("[::1]:0").kind, Kind::kTcp);
  EXPECT_EQ(ParseListenAddress("localhost:7").kind, Kind::kTcp);

  const ListenAddress relative = ParseListenAddress("unix:run/parzen.sock");
  EXPECT_EQ(relative.kind, Kind::kUnix);
  EXPECT_EQ(relative.path, "run/parzen.sock");
  const ListenAddress absolute = ParseListenAddress("unix:///tmp/p.sock");
  EXPECT_EQ(absolute.kind, Kind::kUnix);
  EXPECT_EQ(absolute.path, "/tmp/p.sock");
  EXPECT_EQ(absolute.text, "unix:///tmp/p.sock");

  // Not a path: the abstract namespace has no file to look at.
  const ListenAddress abstract = ParseListenAddress("unix-abstract:parzen");
  EXPECT_EQ(abstract.kind, Kind::kUnixAbstract);
  EXPECT_TRUE(abstract.path.empty());
  EXPECT_TRUE(CheckListenAddressFree(abstract).ok());
  EXPECT_TRUE(CheckListenAddressFree(ParseListenAddress("127.0.0.1:0")).ok());
}

// A socket bound to `path`, listening or not.
class BoundSocket {
 public:
  BoundSocket(const std::string& path, bool listening) : fd_(socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.data(), path.size());
    bound_ = bind(fd_, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) == 0 &&
             (!listening || listen(fd_, 1) == 0);
  }
  ~BoundSocket() { Close(); }
  // Leaves the socket file behind, as a killed server does.
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool bound() const { return bound_; }

 private:
  int fd_;
  bool bound_ = false;
};

TEST(ListenAddressTest, TellsLoopbackFromAddressesOthersCanReach) {
  for (const char* local : {"127.0.0.1:50051", "127.3.2.1:0", "localhost:50051", "[::1]:50051",
                            "unix:/tmp/parzen.sock", "unix-abstract:parzen"}) {
    EXPECT_TRUE(IsLoopbackOnly(ParseListenAddress(local))) << local;
  }
  for (const char* open : {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:50051", "study-host:50051",
                           "128.0.0.1:50051", ":50051"}) {
    EXPECT_FALSE(IsLoopbackOnly(ParseListenAddress(open))) << open;
  }
}

TEST(ListenAddressTest, RefusesASocketPathAnotherProcessServes) {
  testing::TempDir dir;
  const std::string path = dir.File("s.sock");
  EXPECT_TRUE(CheckListenAddressFree(ParseListenAddress("unix:" + path)).ok()) << "nothing there";

  BoundSocket serving(path, /*listening=*/true);
  ASSERT_TRUE(serving.bound());
  absl::Status in_use = CheckListenAddressFree(ParseListenAddress("unix:" + path));
  EXPECT_EQ(in_use.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(in_use.message().find("another server is listening on unix:" + path),
            std::string::npos)
      << in_use;

  serving.Close();
  EXPECT_TRUE(CheckListenAddressFree(ParseListenAddress("unix:" + path)).ok())
      << "a socket file nobody listens on is left over, and may be replaced";
}

TEST(ListenAddressTest, RefusesAPathThatIsNoSocketOrTooLong) {
  testing::TempDir dir;
  const std::string file = dir.File("notes.txt");
  std::ofstream(file) << "not a socket";
  absl::Status not_socket = CheckListenAddressFree(ParseListenAddress("unix:" + file));
  EXPECT_EQ(not_socket.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(not_socket.message().find("is not a socket"), std::string::npos) << not_socket;

  const std::string long_path = "/tmp/" + std::string(200, 'x') + ".sock";
  absl::Status too_long = CheckListenAddressFree(ParseListenAddress("unix:" + long_path));
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("bytes long"), std::string::npos) << too_long;
  EXPECT_EQ(CheckListenAddressFree(ParseListenAddress("unix:")).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace parzen
