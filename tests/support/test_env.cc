#include "tests/support/test_env.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/lifecycle/lifecycle_settings.h"
#include "services/lifecycle/partition_maintainer.h"
#include "services/storage/migrations.h"
#include "services/storage/partition_store.h"
#include "soci/soci.h"

namespace marketdata::testing {
namespace {

std::string Required(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << name << " is not set: run integration tests through ./deploy/dev test, "
                  << "which starts PostgreSQL and Kafka and sets it";
    std::abort();
  }
  return value;
}

// Replaces the database name (the path) of a postgresql:// URL.
std::string WithDatabase(const std::string& url, const std::string& database) {
  size_t query = url.find('?');
  std::string base = url.substr(0, query);
  size_t slash = base.rfind('/');
  return base.substr(0, slash + 1) + database +
         (query == std::string::npos ? "" : url.substr(query));
}

void Admin(const std::string& statement) {
  auto db = Database::Connect(DatabaseUrl(), 1, absl::Seconds(10));
  ASSERT_TRUE(db.ok()) << db.status();
  auto lease = MustAcquire(**db);
  *lease << statement;
}

}  // namespace

std::string DatabaseUrl() { return Required("MDS_TEST_DATABASE_URL"); }
std::string KafkaBootstrapServers() { return Required("MDS_TEST_KAFKA_BOOTSTRAP_SERVERS"); }

std::string UniqueName(const std::string& prefix) {
  std::random_device rd;
  return absl::StrCat(prefix, "_", getpid(), "_", rd() % 1000000);
}

ScratchDatabase::ScratchDatabase()
    : name_(UniqueName("scratch")), url_(WithDatabase(DatabaseUrl(), name_)) {
  Admin("CREATE DATABASE " + name_);
}

ScratchDatabase::~ScratchDatabase() { Admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }

std::unique_ptr<Database> ScratchDatabase::ConnectMigrated(size_t pool_size) {
  auto db = Database::Connect(url_, pool_size, absl::Seconds(10));
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) std::abort();
  auto applied = ApplyMigrations(**db, EmbeddedMigrations());
  EXPECT_TRUE(applied.ok()) << applied.status();
  // Tests write prices and bars at fixed times, years back: those land in one partition of
  // everything before the late window, as on a database that held them before it was
  // partitioned.
  {
    auto lease = MustAcquire(**db);
    for (const char* table : {"price_points", "moving_averages", "bars"}) {
      absl::Status s = lease.Exec(
          absl::StrCat("DO $$ BEGIN EXECUTE format('CREATE TABLE ", table,
                              "_history (LIKE ", table, " INCLUDING DEFAULTS INCLUDING "
                              "CONSTRAINTS); ALTER TABLE ", table, " ATTACH PARTITION ", table,
                              "_history FOR VALUES FROM (MINVALUE) TO (%L)', "
                              "date_trunc('day', now() - interval '8 days', 'UTC')); END $$"),
          "making the partition of old times").status();
      EXPECT_TRUE(s.ok()) << s;
    }
  }
  // The time partitions mds-api makes before it writes (default settings, but prices are kept:
  // the partition of old times stays).
  LifecycleConfig lifecycle;
  lifecycle.price_retention = absl::ZeroDuration();
  PostgresPartitionStore partitions(**db);
  PartitionMaintainer maintainer(partitions, MaintainedTables(lifecycle));
  absl::Status ready = maintainer.EnsureReady(absl::Seconds(30));
  EXPECT_TRUE(ready.ok()) << ready;
  return std::move(*db);
}

Database::Lease MustAcquire(Database& db) {
  absl::StatusOr<Database::Lease> lease = db.Acquire();
  if (!lease.ok()) {
    std::fprintf(stderr, "cannot acquire a database session: %s\n",
                 lease.status().ToString().c_str());
    std::abort();
  }
  return std::move(*lease);
}

}  // namespace marketdata::testing
