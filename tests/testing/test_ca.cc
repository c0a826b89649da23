#include "tests/testing/test_ca.h"

#include <gtest/gtest.h>

#include <optional>

#include "tests/testing/child_process.h"

namespace parzen::testing {

bool MakeTestCa(const std::string& dir) {
  ChildProcess script({std::string(PARZEN_SOURCE_DIR) + "/scripts/make-test-ca.sh", dir},
                      dir + ".log");
  const std::optional<int> code = script.WaitFor(std::chrono::seconds(60));
  EXPECT_EQ(code.value_or(-2), 0) << script.Log();
  return code == 0;
}

std::shared_ptr<grpc::ChannelCredentials> TestCaCredentials(const std::string& ca_dir,
                                                            const std::string& client_dir,
                                                            const std::string& token) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFileOrEmpty(ca_dir + "/ca.pem");
  if (!client_dir.empty()) {
    ssl.pem_cert_chain = ReadFileOrEmpty(client_dir + "/client.pem");
    ssl.pem_private_key = ReadFileOrEmpty(client_dir + "/client.key");
  }
  auto channel = grpc::SslCredentials(ssl);
  if (token.empty()) return channel;
  return grpc::CompositeChannelCredentials(channel, grpc::AccessTokenCredentials(token));
}

}  // namespace parzen::testing
