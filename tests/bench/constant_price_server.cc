// The gRPC ceiling of GetLatestPrice on this machine: a C++ callback server that answers every
// call with the same price, touching no provider, database or broker. The LatestPrice benchmark
// loads it directly (the gRPC ceiling) and through the gateway (the REST ceiling), beside the
// service measured in the same run.
//
//   constant-price-server [listen address, e.g. 127.0.0.1:0]
// The address may come from CONSTANT_PRICE_LISTEN instead. Prints "listening on <port>" once it
// serves; stops on SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "proto/marketdata/v1/price.grpc.pb.h"

namespace {

class ConstantPrices final : public marketdata::v1::PriceService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetLatestPrice(grpc::CallbackServerContext* context,
                                           const marketdata::v1::GetLatestPriceRequest* request,
                                           marketdata::v1::Price* price) override {
    price->set_symbol(request->symbol());
    price->set_price(180.1);
    price->mutable_timestamp()->set_seconds(1767225600);
    price->set_provider("test");
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* from_env = std::getenv("CONSTANT_PRICE_LISTEN");
  const std::string address = argc == 2 ? argv[1] : (from_env != nullptr ? from_env : "");
  if (argc > 2 || address.empty()) {
    std::fprintf(stderr, "usage: %s <listen address> (or CONSTANT_PRICE_LISTEN)\n", argv[0]);
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any thread, so sigwait gets them

  grpc::EnableDefaultHealthCheckService(true);
  ConstantPrices service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "cannot listen on %s\n", address.c_str());
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus("marketdata.v1.PriceService", true);
  std::printf("listening on %d\n", port);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop, &signal);
  server->Shutdown();
  return 0;
}
