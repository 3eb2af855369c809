// mds-consumer: MovingAverageService over gRPC. Composition root only.
#include <memory>
#include <optional>
#include <vector>

#include "services/common/metrics/metrics.h"
#include "services/common/runtime/periodic_loop.h"
#include "services/consumer/consumer_config.h"
#include "services/consumer/consumer_metrics.h"
#include "services/consumer/bar_handler.h"
#include "services/consumer/bar_service.h"
#include "services/consumer/moving_average_handler.h"
#include "services/consumer/moving_average_service.h"
#include "services/consumer/price_event_consumer.h"
#include "services/auth/authorizer.h"
#include "services/process/process.h"
#include "services/storage/api_key_store.h"
#include "services/storage/bar_store.h"
#include "services/storage/moving_average_store.h"
#include "services/storage/database.h"
#include "services/storage/database_metrics.h"
#include "services/storage/database_settings.h"
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
  Process process(kProgram);
  const std::optional<ConsumerConfig> loaded =
      process.Configure(argc, argv, ConsumerSettings(), LoadConsumerConfig);
  if (!loaded.has_value()) return 0;  // --help
  const ConsumerConfig& config = *loaded;
  std::unique_ptr<Database> db =
      OrExit(ConnectMigrated(config.database.url, config.database.options));
  // The gRPC reads of averages and bars may come from a replica (DATABASE_READ_URL); the
  // handlers read and write the primary.
  std::unique_ptr<Database> read_pool = OrExit(ConnectReadPool(config.database));
  Database& reads = read_pool != nullptr ? *read_pool : *db;

  PostgresMovingAverageStore store(*db, config.write_connections);
  MovingAverageHub hub(config.max_open_streams);
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
      OrExit(PriceEventConsumer::Create(config.kafka, {&averages, &bar_handler}));

  PostgresApiKeyStore keys(*db);
  Authorizer auth(&keys, config.auth);
  std::unique_ptr<PeriodicLoop> key_reloads = OrExit(StartKeyReloads(auth));
  PostgresMovingAverageStore average_reads(reads);
  PostgresBarStore bar_reads(reads);
  MovingAverageServiceImpl moving_averages(average_reads, config.windows, hub, auth);
  BarServiceImpl bar_service(bar_reads, config.bar_intervals, bar_hub, auth);
  GrpcServer& server =
      process.Serve(config.listen_address, {&moving_averages, &bar_service}, config.tls);
  consumer->Start();
  spdlog::info("consuming {} as group {}", config.kafka.topic, config.kafka.group);
  // NOT_SERVING while PostgreSQL cannot be reached: /ready then says so.
  process.WatchHealth({{"database", [&db] { return db->Ping(); }}});
  process.ExportMetrics(config.metrics_listen, [&](MetricsExporter& metrics) {
    ExportConsumerMetrics(metrics, *consumer, averages, bar_handler, hub);
    ExportDatabasePoolMetrics(metrics, *db, read_pool.get());
  });

  process.OnShutdown([&] {
    key_reloads->Stop();
    hub.Shutdown();
    bar_hub.Shutdown();
    server.Shutdown(absl::Seconds(10));
    consumer->Stop();
    const ConsumerCounters& counts = consumer->counters();
    spdlog::info("stopped after {} events, {} averages, {} dead letters, {} batches",
                 counts.events.load(), averages.counters().averages.load(),
                 counts.dead_lettered.load(), counts.batches.load());
  });
  return process.WaitAndShutdown();
}

}  // namespace
}  // namespace marketdata

int main(int argc, char** argv) { return marketdata::Run(argc, argv); }
