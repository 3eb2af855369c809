// mds-consumer: MovingAverageService over gRPC. Composition root only.
#include <memory>

#include "proto/marketdata/v1/moving_average.grpc.pb.h"
#include "services/common/grpc_server.h"
#include "services/common/logging.h"
#include "services/consumer/consumer_config.h"
#include "services/storage/database.h"
#include "services/storage/migrations.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

constexpr char kProgram[] = "mds-consumer";

template <typename T>
T OrExit(absl::StatusOr<T> value) {
  if (!value.ok()) ExitWithError(kProgram, value.status());
  return std::move(*value);
}

int Run(int argc, char** argv) {
  BlockTerminationSignals();
  Settings settings = Settings::FromProcess(argc, argv);
  const ConsumerConfig config = OrExit(LoadConsumerConfig(settings));
  if (absl::Status s = InitLogging(kProgram, config.log_level); !s.ok()) {
    ExitWithError(kProgram, s);
  }
  std::unique_ptr<Database> db = OrExit(
      Database::Connect(config.database_url, config.database_pool_size, absl::Seconds(30)));
  OrExit(ApplyMigrations(*db, EmbeddedMigrations()));

  v1::MovingAverageService::Service moving_averages;  // answers UNIMPLEMENTED for now
  std::unique_ptr<GrpcServer> server =
      OrExit(GrpcServer::Start(config.listen_address, {&moving_averages}));
  spdlog::info("serving gRPC on {} (port {})", config.listen_address, server->port());

  const int signal = WaitForTerminationSignal();
  spdlog::info("signal {} received, shutting down", signal);
  server->Shutdown(absl::Seconds(10));
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace marketdata

int main(int argc, char** argv) { return marketdata::Run(argc, argv); }
