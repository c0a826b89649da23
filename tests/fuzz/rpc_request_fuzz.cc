// Every unary RPC of StudyService with arbitrary request bytes, through
// the real service, core and SQLite storage in this process. The first
// byte picks the method, the rest is the request as it arrives on the
// wire. A request may be refused, never crash the server, never get
// UNKNOWN, INTERNAL or UNIMPLEMENTED (the answer to a request gRPC parsed
// itself), and an answer must parse as the method's response type.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <spdlog/spdlog.h>

#include "server/core/algorithms.h"
#include "tests/testing/in_process_server.h"

namespace {

struct UnaryMethod {
  std::string path;  // "/parzen.v1.StudyService/Ask"
  const google::protobuf::Descriptor* response;
};

// One server for the whole run: libFuzzer calls the entry point many
// times in one process, and a server per input would measure start-up,
// not request handling. libFuzzer's interface leaves no place but a
// static to keep it.
class Harness {
 public:
  Harness() {
    // A log line per refused request would cost more than the request.
    spdlog::set_level(spdlog::level::err);
    char dir[] = "/tmp/parzen-rpc-fuzz-XXXXXX";
    if (!mkdtemp(dir)) std::abort();
    dir_ = dir;
    auto server = parzen::testing::InProcessServer::Start(dir_ + "/fuzz.db", parzen::Algorithms{});
    if (!server.ok()) {
      std::fprintf(stderr, "cannot start the server: %s\n", server.status().ToString().c_str());
      std::abort();
    }
    server_ = *std::move(server);
    stub_ = std::make_unique<grpc::GenericStub>(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            "parzen.v1.StudyService");
    if (!service) std::abort();
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = service->method(i);
      if (m->client_streaming() || m->server_streaming()) continue;
      methods_.push_back({"/" + service->full_name() + "/" + m->name(), m->output_type()});
    }
  }
  ~Harness() {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Call(const uint8_t* data, size_t size) {
    if (size == 0) return;
    const UnaryMethod& method = methods_[data[0] % methods_.size()];
    grpc::Slice slice(data + 1, size - 1);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::promise<grpc::Status> done;
    stub_->UnaryCall(&context, method.path, grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status status) { done.set_value(std::move(status)); });
    const grpc::Status status = done.get_future().get();
    switch (status.error_code()) {
      case grpc::StatusCode::UNKNOWN:
      case grpc::StatusCode::INTERNAL:
      case grpc::StatusCode::UNIMPLEMENTED:
      case grpc::StatusCode::DEADLINE_EXCEEDED:
      case grpc::StatusCode::UNAVAILABLE:
        std::fprintf(stderr, "%s answered %d: %s\n", method.path.c_str(),
                     static_cast<int>(status.error_code()), status.error_message().c_str());
        std::abort();
      default:
        break;
    }
    if (!status.ok()) return;
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) std::abort();
    std::string bytes;
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    std::unique_ptr<google::protobuf::Message> parsed(factory_.GetPrototype(method.response)->New());
    if (!parsed->ParseFromString(bytes)) {
      std::fprintf(stderr, "%s answered bytes that are not its response type\n",
                   method.path.c_str());
      std::abort();
    }
  }

 private:
  std::string dir_;
  std::unique_ptr<parzen::testing::InProcessServer> server_;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::vector<UnaryMethod> methods_;
  google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness harness;
  harness.Call(data, size);
  return 0;
}
