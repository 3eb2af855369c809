// mds-consumer: MovingAverageService over gRPC. Composition root only.
#include <iostream>
#include <memory>

#include "services/common/build_info.h"
#include "services/common/dependency_health.h"
#include "services/common/grpc_server.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/periodic_loop.h"
#include "services/common/process_metrics.h"
#include "services/consumer/consumer_config.h"
#include "services/consumer/consumer_metrics.h"
#include "services/consumer/bar_handler.h"
#include "services/consumer/bar_service.h"
#include "services/consumer/moving_average_handler.h"
#include "services/consumer/moving_average_service.h"
#include "services/consumer/price_event_consumer.h"
#include "services/auth/authorizer.h"
#include "services/storage/api_key_store.h"
#include "services/storage/bar_store.h"
#include "services/storage/moving_average_store.h"
#include "services/storage/database.h"
#include "services/storage/database_metrics.h"
#include "services/storage/migrations.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

constexpr char kProgram[] = "mds-consumer";

template <typename T>
T OrExit(absl::StatusOr<T> value) {
  return ValueOrExit(kProgram, std::move(value));
}

int Run(int argc, char** argv) {
  Settings settings = Settings::FromProcess(argc, argv);
  if (settings.HelpRequested()) {
    std::cout << ConsumerSettings().Help(kProgram);
    return 0;
  }
  BlockTerminationSignals();
  const ConsumerConfig config = OrExit(LoadConsumerConfig(settings));
  if (absl::Status s = InitLogging(kProgram, config.log); !s.ok()) {
    ExitWithError(kProgram, s);
  }
  std::unique_ptr<Database> db = OrExit(
      Database::Connect(config.database.url, config.database.options));
  OrExit(ApplyMigrations(*db, EmbeddedMigrations()));

  PostgresMovingAverageStore store(*db, config.write_connections);
  MovingAverageHub hub(config.max_open_streams);

  ConsumerOptions kafka;
  kafka.bootstrap_servers = config.kafka_bootstrap_servers;
  kafka.extra = config.kafka_config;
  kafka.topic = config.price_events_topic;
  kafka.dead_letter_topic = config.dead_letter_topic;
  kafka.group = config.consumer_group;
  kafka.max_batch = static_cast<size_t>(config.max_batch);
  kafka.batch_wait = absl::Milliseconds(config.batch_wait_ms);
  kafka.late_window = config.late_price_window;
  // The computations fed by the consumer, one handler each.
  MovingAverageHandler averages(
      store, config.windows, static_cast<size_t>(config.max_symbol_windows),
      [&hub](const std::vector<AverageRow>& rows) { PublishAverages(hub, rows); });
  PostgresBarStore bars(*db);
  BarHub bar_hub(config.max_open_streams);
  BarHandler bar_handler(bars, config.bar_intervals, [&bar_hub](const std::vector<Bar>& written) {
    PublishBars(bar_hub, written);
  });
  std::unique_ptr<PriceEventConsumer> consumer =
      OrExit(PriceEventConsumer::Create(kafka, {&averages, &bar_handler}));

  PostgresApiKeyStore keys(*db);
  Authorizer auth(&keys, config.auth);
  std::unique_ptr<PeriodicLoop> key_reloads = OrExit(StartKeyReloads(auth));
  MovingAverageServiceImpl moving_averages(store, config.windows, hub, auth);
  BarServiceImpl bar_service(bars, config.bar_intervals, bar_hub, auth);
  std::unique_ptr<GrpcServer> server = OrExit(
      GrpcServer::Start(config.listen_address, {&moving_averages, &bar_service}, config.tls));
  spdlog::info("serving gRPC on {} (port {})", config.listen_address, server->port());
  consumer->Start();
  spdlog::info("consuming {} as group {}", kafka.topic, kafka.group);
  // NOT_SERVING while PostgreSQL cannot be reached: /ready then says so.
  DependencyHealth health([&server](bool serving) { server->SetServing(serving); });
  health.Add("database", [&db] { return db->Ping(); });
  PeriodicLoop health_checks(absl::Seconds(1), [&health] { health.Check(); });
  health_checks.Start();

  std::unique_ptr<MetricsExporter> metrics;
  if (config.metrics_listen != "off") {
    metrics = OrExit(MetricsExporter::Start(config.metrics_listen));
    ExportConsumerMetrics(*metrics, *consumer, averages, bar_handler, hub);
    ExportGrpcServerMetrics(*metrics, server->metrics());
    ExportDatabasePoolMetrics(*metrics, *db);
    ExportProcessMetrics(*metrics);
    ExportBuildInfo(*metrics, kProgram);
    spdlog::info("metrics on http://{}/metrics", config.metrics_listen);
  }

  const int signal = WaitForTerminationSignal();
  spdlog::info("signal {} received, shutting down", signal);
  health_checks.Stop();
  key_reloads->Stop();
  hub.Shutdown();
  bar_hub.Shutdown();
  server->Shutdown(absl::Seconds(10));
  consumer->Stop();
  const ConsumerCounters& counts = consumer->counters();
  spdlog::info("stopped after {} events, {} averages, {} dead letters, {} batches",
               counts.events.load(), averages.counters().averages.load(),
               counts.dead_lettered.load(), counts.batches.load());
  return 0;
}

}  // namespace
}  // namespace marketdata

int main(int argc, char** argv) { return marketdata::Run(argc, argv); }
