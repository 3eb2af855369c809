// mds-api: PriceService and PollingService over gRPC. Composition root only: reads the
// configuration, builds every part once and hands them to each other.
#include <iostream>
#include <memory>

#include "services/api/api_config.h"
#include "services/api/api_key_service.h"
#include "services/auth/authorizer.h"
#include "services/auth/keys_command.h"
#include "services/api/api_metrics.h"
#include "services/api/polling_service.h"
#include "services/api/price_service.h"
#include "services/common/build_info.h"
#include "services/common/dependency_health.h"
#include "services/common/grpc_server.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/periodic_loop.h"
#include "services/common/process_metrics.h"
#include "services/pricing/fetch_lanes.h"
#include "services/events/kafka_publisher.h"
#include "services/events/outbox_relay.h"
#include "services/events/price_feed.h"
#include "services/lifecycle/partition_maintainer.h"
#include "services/lifecycle/partition_metrics.h"
#include "services/polling/scheduler.h"
#include "services/pricing/price_recorder.h"
#include "services/providers/registry.h"
#include "services/providers/http_client.h"
#include "services/providers/provider_factory.h"
#include "services/storage/api_key_store.h"
#include "services/storage/snapshot_store.h"
#include "services/storage/database.h"
#include "services/storage/database_metrics.h"
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

// `mds-api keys ...`: API key administration against DATABASE_URL, then exit.
int RunKeys(int argc, char** argv) {
  Settings settings = Settings::FromProcess(1, argv);  // the environment only
  const DatabaseConfig database = OrExit(DatabaseSettingsTable(1).Load(settings));
  std::unique_ptr<Database> db = OrExit(Database::Connect(database.url, database.options));
  OrExit(ApplyMigrations(*db, EmbeddedMigrations()));
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
  Settings settings = Settings::FromProcess(argc, argv);
  if (settings.HelpRequested()) {
    std::cout << ApiSettings().Help(kProgram);
    return 0;
  }
  BlockTerminationSignals();
  const ApiConfig config = OrExit(LoadApiConfig(settings));
  if (absl::Status s = InitLogging(kProgram, config.log); !s.ok()) {
    ExitWithError(kProgram, s);
  }

  CurlHttpClient http;
  std::unique_ptr<ProviderRegistry> registry = OrExit(MakeProviderRegistry(config.providers, http));
  ProviderRegistry& providers = *registry;

  std::unique_ptr<Database> db = OrExit(
      Database::Connect(config.database.url, config.database.options));
  const int applied = OrExit(ApplyMigrations(*db, EmbeddedMigrations()));
  spdlog::info("database ready ({} migrations applied now)", applied);
  // Time partitions: made ahead before the first price is written, then kept so by a loop that
  // one replica at a time runs (the others only watch).
  PostgresPartitionStore partitions(*db);
  PartitionMaintainer maintainer(partitions, MaintainedTables(config.lifecycle));
  if (absl::Status s = maintainer.EnsureReady(absl::Seconds(60)); !s.ok()) {
    ExitWithError(kProgram, s);
  }
  PeriodicLoop maintenance(MaintenancePeriod(config.lifecycle),
                           [&maintainer] { maintainer.RunOnce().IgnoreError(); });
  maintenance.Start();
  PostgresPriceStore store(*db);
  PostgresApiKeyStore keys(*db);
  Authorizer auth(&keys, config.auth);
  std::unique_ptr<PeriodicLoop> key_reloads = OrExit(StartKeyReloads(auth));
  KeyAdmin key_admin(keys);
  ApiKeyServiceImpl key_service(key_admin, auth);

  KafkaPublisherOptions kafka;
  kafka.bootstrap_servers = config.kafka_bootstrap_servers;
  kafka.extra = config.kafka_config;
  kafka.topic = config.price_events_topic;
  std::unique_ptr<KafkaPriceEventPublisher> publisher =
      OrExit(KafkaPriceEventPublisher::Create(kafka));
  OutboxRelay relay(store, *publisher, OutboxRelayOptions{});
  relay.Start();

  PriceWriterOptions writes;  // group commit for concurrent requests
  writes.linger = absl::Microseconds(config.price_write_linger_us);
  PriceWriter writer(*db, writes);
  // Fetches from network providers wait here, not on gRPC's threads: a lane of threads per
  // provider, so one that hangs cannot hold up the others. At most 32 fetches per thread wait in
  // a lane; beyond that a request is answered "busy" (503) at once, and a fetch that waited past
  // its budget is answered 503 without calling the provider.
  FetchLaneOptions lanes;
  lanes.threads = config.provider_fetch_threads;
  lanes.max_queued = 32 * static_cast<size_t>(config.provider_fetch_threads);
  lanes.budget = config.providers.call_budget();
  FetchLanes blocking_fetches(lanes);
  ProviderShares shares(config.provider_share_per_key);
  PriceRecorder recorder(providers, writer, *publisher, &blocking_fetches, &shares,
                         PriceAcceptanceWindow(config.lifecycle));
  PriceHub price_hub(config.max_open_streams);
  PostgresSnapshotStore snapshots(*db);
  PriceServiceImpl price_service(recorder, providers, store, snapshots, price_hub, auth);
  std::unique_ptr<PriceEventFeed> feed =
      OrExit(PriceEventFeed::Create(config.kafka_bootstrap_servers, config.kafka_config,
                                    config.price_events_topic,
                                    [&price_hub](const auto& price) {
                                      PublishPrice(price_hub, price);
                                    }));

  PostgresPollingJobStore jobs(*db);
  PollingServiceImpl polling_service(
      jobs, providers,
      PollingLimits{config.polling_max_symbols, config.polling_min_interval,
                    config.polling_max_interval},
      auth);
  SchedulerOptions scheduling;
  scheduling.instance_id = config.polling_instance_id;
  scheduling.runners = config.polling_runners;
  scheduling.lease = absl::Seconds(config.polling_lease_seconds);
  PollingScheduler scheduler(jobs, recorder, providers, scheduling);

  std::unique_ptr<GrpcServer> server =
      OrExit(GrpcServer::Start(config.listen_address, {&price_service, &polling_service, &key_service}, config.tls));
  spdlog::info("serving gRPC on {} (port {})", config.listen_address, server->port());
  // NOT_SERVING while PostgreSQL cannot be reached or the Kafka producer has failed for good:
  // /ready then says so. A broker that is only down is not a failure: prices are kept in the
  // outbox and published when it is back.
  DependencyHealth health([&server](bool serving) { server->SetServing(serving); });
  health.Add("database", [&db] { return db->Ping(); });
  health.Add("kafka producer", [&publisher] { return publisher->Health(); });
  PeriodicLoop health_checks(absl::Seconds(1), [&health] { health.Check(); });
  health_checks.Start();
  scheduler.Start();
  feed->Start();
  spdlog::info("polling as {} with {} runners", scheduling.instance_id, scheduling.runners);

  // Read only for the metrics; declared before the exporter, which reads it, so it outlives it.
  OutboxBacklogMonitor outbox_backlog(*db);
  std::unique_ptr<MetricsExporter> metrics;
  if (config.metrics_listen != "off") {
    metrics = OrExit(MetricsExporter::Start(config.metrics_listen));
    outbox_backlog.Start();
    ExportApiMetrics(*metrics, recorder, writer, *publisher, scheduler, price_hub, providers,
                     outbox_backlog);
    ExportDatabasePoolMetrics(*metrics, *db);
    ExportPartitionMetrics(*metrics, maintainer);
    ExportGrpcServerMetrics(*metrics, server->metrics());
    ExportProcessMetrics(*metrics);
    ExportBuildInfo(*metrics, kProgram);
    spdlog::info("metrics on http://{}/metrics", config.metrics_listen);
  }

  const int signal = WaitForTerminationSignal();
  spdlog::info("signal {} received, shutting down", signal);
  health_checks.Stop();
  maintenance.Stop();
  key_reloads->Stop();
  price_hub.Shutdown();
  server->Shutdown(absl::Seconds(10));
  feed->Stop();
  scheduler.Stop();
  // Calls still waiting for a provider or a commit are answered while their server exists.
  blocking_fetches.Stop();
  writer.Stop();
  const LagSummary lag = scheduler.lag();
  spdlog::info("polling lag over the last {} runs: p50 {} p99 {} max {}", lag.runs,
               absl::FormatDuration(lag.p50), absl::FormatDuration(lag.p99),
               absl::FormatDuration(lag.max));
  relay.Stop();
  publisher->Flush(absl::Seconds(5));
  relay.RunOnce();  // record the last acknowledgements
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace marketdata

int main(int argc, char** argv) { return marketdata::Run(argc, argv); }
