// mds-api: PriceService and PollingService over gRPC. Composition root only: reads the
// configuration, builds every part once and hands them to each other.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "services/api/api_config.h"
#include "services/api/api_key_service.h"
#include "services/auth/authorizer.h"
#include "services/auth/keys_command.h"
#include "services/api/api_metrics.h"
#include "services/api/polling_service.h"
#include "services/api/price_service.h"
#include "services/common/metrics/metrics.h"
#include "services/common/runtime/periodic_loop.h"
#include "services/pricing/fetch_lanes.h"
#include "services/events/kafka_publisher.h"
#include "services/events/outbox_relay.h"
#include "services/events/price_feed.h"
#include "services/lifecycle/partition_maintainer.h"
#include "services/lifecycle/partition_metrics.h"
#include "services/polling/scheduler.h"
#include "services/pricing/price_recorder.h"
#include "services/process/process.h"
#include "services/providers/registry.h"
#include "services/storage/daily_call_store.h"
#include "services/providers/http_client.h"
#include "services/providers/provider_factory.h"
#include "services/storage/api_key_store.h"
#include "services/storage/snapshot_store.h"
#include "services/storage/database.h"
#include "services/storage/database_metrics.h"
#include "services/storage/database_settings.h"
#include "services/storage/outbox_backlog.h"
#include "services/storage/partition_store.h"
#include "services/storage/migrate_command.h"
#include "services/storage/raw_command.h"
#include "services/storage/raw_reply_store.h"
#include "services/storage/migrations.h"
#include "services/storage/polling_job_store.h"
#include "services/storage/price_store.h"
#include "services/storage/price_writer.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

constexpr char kProgram[] = "mds-api";

template <typename T>
T OrExit(absl::StatusOr<T> value) {
  return ValueOrExit(kProgram, std::move(value));
}

void LogLag(const LagSummary& lag) {
  spdlog::info("polling lag over the last {} runs: p50 {} p99 {} max {}", lag.runs,
               absl::FormatDuration(lag.p50), absl::FormatDuration(lag.p99),
               absl::FormatDuration(lag.max));
}

// `mds-api keys ...`: API key administration against DATABASE_URL, then exit.
int RunKeys(int argc, char** argv) {
  Settings settings = Settings::FromProcess(1, argv);  // the environment only
  const DatabaseConfig database = OrExit(DatabaseSettingsTable(1).Load(settings));
  std::unique_ptr<Database> db = OrExit(ConnectMigrated(database.url, database.options));
  PostgresApiKeyStore store(*db);
  KeyAdmin admin(store);
  return RunKeysCommand(std::vector<std::string>(argv + 2, argv + argc), admin, std::cout,
                        std::cerr);
}

// `mds-api migrate`: applies the schema migrations against DATABASE_URL, then exit. Deployments
// run it once before new replicas start (deploy/k8s).
int RunMigrate(int argc, char** argv) {
  const ApplyMigrationsFn apply = [argv](const std::vector<Migration>& migrations)
      -> absl::StatusOr<int> {
    Settings settings = Settings::FromProcess(1, argv);  // the environment only
    absl::StatusOr<DatabaseConfig> database = DatabaseSettingsTable(1).Load(settings);
    if (!database.ok()) return database.status();
    absl::StatusOr<std::unique_ptr<Database>> db =
        Database::Connect(database->url, database->options);
    if (!db.ok()) return db.status();
    return ApplyMigrations(**db, migrations);
  };
  return RunMigrateCommand(std::vector<std::string>(argv + 2, argv + argc), EmbeddedMigrations(),
                           apply, std::cout, std::cerr);
}

// `mds-api raw ID...`: prints the raw replies stored under each id.
int RunRaw(int argc, char** argv) {
  std::unique_ptr<Database> db;
  const LoadRawRepliesFn load = [&db, argv](int64_t id) -> absl::StatusOr<std::vector<RawReply>> {
    if (db == nullptr) {
      Settings settings = Settings::FromProcess(1, argv);  // the environment only
      absl::StatusOr<DatabaseConfig> database = DatabaseSettingsTable(1).Load(settings);
      if (!database.ok()) return database.status();
      absl::StatusOr<std::unique_ptr<Database>> connected =
          Database::Connect(database->url, database->options);
      if (!connected.ok()) return connected.status();
      db = *std::move(connected);
    }
    return LoadRawReplies(*db, id);
  };
  return RunRawCommand(std::vector<std::string>(argv + 2, argv + argc), load, std::cout,
                       std::cerr);
}

int Run(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "keys") return RunKeys(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "raw") return RunRaw(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "migrate") return RunMigrate(argc, argv);
  Process process(kProgram);
  const std::optional<ApiConfig> loaded =
      process.Configure(argc, argv, ApiSettings(), LoadApiConfig);
  if (!loaded.has_value()) return 0;  // --help
  const ApiConfig& config = *loaded;

  std::unique_ptr<Database> db =
      OrExit(ConnectMigrated(config.database.url, config.database.options));
  spdlog::info("database ready");
  // Price history and snapshots may come from a replica (DATABASE_READ_URL); everything else,
  // latest prices included, reads and writes the primary.
  std::unique_ptr<Database> read_pool = OrExit(ConnectReadPool(config.database));
  Database& reads = read_pool != nullptr ? *read_pool : *db;
  // The daily quotas count in the database: one count for every replica, kept across restarts.
  PostgresDailyCallLedger daily_calls(*db);
  CurlHttpClient http;
  std::unique_ptr<ProviderRegistry> providers =
      OrExit(MakeProviderRegistry(config.providers, http, &daily_calls));
  // Time partitions: made ahead before the first price is written, then kept so by a loop that
  // one replica at a time runs (the others only watch).
  PostgresPartitionStore partitions(*db);
  PartitionMaintainer maintainer(partitions, MaintainedTables(config.lifecycle));
  process.OrExit(maintainer.EnsureReady(absl::Seconds(60)));
  PeriodicLoop maintenance(MaintenancePeriod(config.lifecycle),
                           [&maintainer] { maintainer.RunOnce().IgnoreError(); });
  maintenance.StartAfterAPeriod();  // EnsureReady just ran it
  PostgresPriceStore store(*db);
  PostgresApiKeyStore keys(*db);
  Authorizer auth(&keys, config.auth);
  std::unique_ptr<PeriodicLoop> key_reloads = OrExit(StartKeyReloads(auth));
  KeyAdmin key_admin(keys);
  ApiKeyServiceImpl key_service(key_admin, auth);

  std::unique_ptr<KafkaPriceEventPublisher> publisher =
      OrExit(KafkaPriceEventPublisher::Create(config.kafka));
  OutboxRelay relay(store, *publisher, OutboxRelayOptions{});
  relay.Start();
  PriceWriter writer(*db, config.writes);  // group commit for concurrent requests
  // Fetches from network providers wait here, not on gRPC's threads: a lane of threads per
  // provider, so one that hangs cannot hold up the others.
  FetchLanes blocking_fetches(config.fetch_lanes);
  ProviderShares shares(config.provider_share_per_key);
  PriceRecorder recorder(*providers, writer, *publisher, &blocking_fetches, &shares,
                         PriceAcceptanceWindow(config.lifecycle));
  PriceHub price_hub(config.max_open_streams);
  PostgresPriceStore history(reads);
  PostgresSnapshotStore snapshots(reads);
  PriceServiceImpl price_service(recorder, *providers, history, snapshots, price_hub, auth);
  std::unique_ptr<PriceEventFeed> feed = OrExit(PriceEventFeed::Create(
      config.kafka.bootstrap_servers, config.kafka.extra, config.kafka.topic,
      [&price_hub](const StoredPrice& price) { PublishPrice(price_hub, price); }));
  PostgresPollingJobStore jobs(*db);
  PollingServiceImpl polling_service(jobs, *providers, config.polling_limits, auth);
  PollingScheduler scheduler(jobs, recorder, *providers, config.scheduling);

  GrpcServer& server = process.Serve(
      config.listen_address, {&price_service, &polling_service, &key_service}, config.tls);
  // NOT_SERVING while PostgreSQL cannot be reached or the Kafka producer has failed for good. A
  // broker that is only down is not a failure: prices wait in the outbox until it is back.
  process.WatchHealth({{"database", [&db] { return db->Ping(); }},
                       {"kafka producer", [&publisher] { return publisher->Health(); }}});
  scheduler.Start();
  feed->Start();
  spdlog::info("polling as {} with {} runners", config.scheduling.instance_id,
               config.scheduling.runners);
  OutboxBacklogMonitor outbox_backlog(*db);  // read only for the metrics
  process.ExportMetrics(config.metrics_listen, [&](MetricsExporter& metrics) {
    outbox_backlog.Start();
    ExportApiMetrics(metrics, recorder, writer, *publisher, scheduler, price_hub, *providers,
                     outbox_backlog);
    ExportDatabasePoolMetrics(metrics, *db, read_pool.get());
    ExportPartitionMetrics(metrics, maintainer);
  });

  process.OnShutdown([&] {
    maintenance.Stop();
    key_reloads->Stop();
    price_hub.Shutdown();
    server.Shutdown(absl::Seconds(10));
    feed->Stop();
    scheduler.Stop();
    // Calls still waiting for a provider or a commit are answered while their server exists.
    blocking_fetches.Stop();
    writer.Stop();
    LogLag(scheduler.lag());
    relay.Stop();
    publisher->Flush(absl::Seconds(5));
    relay.RunOnce();  // record the last acknowledgements
    spdlog::info("stopped");
  });
  return process.WaitAndShutdown();
}

}  // namespace
}  // namespace marketdata

int main(int argc, char** argv) { return marketdata::Run(argc, argv); }
