// Test certificates from scripts/make-test-ca.sh and the gRPC credentials
// that present them, for tests of a server under (mutual) TLS.
#ifndef PARZEN_TESTS_TESTING_TEST_CA_H_
#define PARZEN_TESTS_TESTING_TEST_CA_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace parzen::testing {

// Runs scripts/make-test-ca.sh into `dir` (ca.pem, server.pem/.key for
// 127.0.0.1 and localhost, client.pem/.key); false and a gtest failure if
// it fails.
bool MakeTestCa(const std::string& dir);

// TLS trusting `ca_dir`'s CA, presenting `client_dir`'s client certificate
// (none when empty), sending `token` on every call (none when empty).
std::shared_ptr<grpc::ChannelCredentials> TestCaCredentials(const std::string& ca_dir,
                                                            const std::string& client_dir,
                                                            const std::string& token);

}  // namespace parzen::testing

#endif  // PARZEN_TESTS_TESTING_TEST_CA_H_
