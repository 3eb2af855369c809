// InProcessServer: gRPC services served inside the test process and called through their
// generated clients over an in-process channel (no port), so a test sees exactly what a client
// sees: status codes, messages and trailers included.
//
//   FooServiceImpl service_{...};
//   InProcessServer server_{{&service_}};  // declared after the services it serves
//   auto stub = server_.NewStub<v1::FooService>();
#ifndef MARKETDATA_SERVICES_COMMON_TESTING_IN_PROCESS_SERVER_H_
#define MARKETDATA_SERVICES_COMMON_TESTING_IN_PROCESS_SERVER_H_

#include <memory>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace marketdata {

class InProcessServer {
 public:
  explicit InProcessServer(const std::vector<grpc::Service*>& services) {
    grpc::ServerBuilder builder;
    for (grpc::Service* service : services) builder.RegisterService(service);
    server_ = builder.BuildAndStart();
  }
  // Streams still open (a hub not yet shut down) are cancelled by the shutdown.
  ~InProcessServer() { server_->Shutdown(); }

  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  template <typename Service>
  std::unique_ptr<typename Service::Stub> NewStub() {
    return Service::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }

 private:
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_TESTING_IN_PROCESS_SERVER_H_
