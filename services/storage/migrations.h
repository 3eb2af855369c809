// Versioned schema migrations, embedded in the binary and applied at start-up.
//
// Applied versions are recorded in schema_migrations, each migration in one transaction with its
// record. Replicas starting together serialise on a transaction-scoped advisory lock, so each
// migration runs exactly once; and a table a migration locks is released when that migration
// commits, not held across the later ones.
//
// Some migrations turn a large table into a partitioned one. Inside the migration transaction
// that would scan the table and build its new key while every writer waits. So before that
// transaction, and outside it, the runner prepares what such a migration needs while writers go
// on (OnlineStep): a CHECK that bounds the table's time column below a cutover, validated
// without blocking writes, and the new key built with CREATE INDEX CONCURRENTLY. The migration
// then only renames, attaches and drops, in milliseconds. It waits for its locks a short while
// only (a DDL statement queued for a lock makes every later statement on the table queue behind
// it) and is tried again.
#ifndef MARKETDATA_SERVICES_STORAGE_MIGRATIONS_H_
#define MARKETDATA_SERVICES_STORAGE_MIGRATIONS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/database.h"

namespace marketdata {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// services/storage/migrations/*.sql in version order.
const std::vector<Migration>& EmbeddedMigrations();

// Work done before migration `version`, while it is pending, outside its transaction.
struct OnlineStep {
  int version;
  std::string table;
  // With a time column: CHECK (column < cutover), named `<table>_before_cutover`, validated
  // online. The migration reads the cutover back from it: the old table becomes the partition of
  // everything before it.
  std::string time_column;
  // With an index name: a unique index on `key_columns`, built concurrently.
  std::string key_index;
  std::string key_columns;
  // With a name: an index the new key makes redundant, dropped concurrently once it is built.
  std::string redundant_index;
};

// The steps the embedded migrations rely on.
const std::vector<OnlineStep>& EmbeddedOnlineSteps();

struct MigrationOptions {
  // The cutover is the first UTC midnight at least this far ahead: later than any time a row
  // written meanwhile can carry (quotes may be stamped up to a day ahead), and after the
  // migration itself has run.
  absl::Duration cutover_lead = absl::Hours(48);
  // How long the migration transaction waits for each lock, and how often it is tried.
  absl::Duration lock_timeout = absl::Milliseconds(100);
  int max_tries = 120;
  absl::Duration retry_pause = absl::Milliseconds(500);
};

// What ApplyMigrations did.
struct MigrationReport {
  int applied = 0;
  int prepared = 0;  // online steps that did work (a step already done counts not)
  absl::Duration preparation;  // the online steps, all together
  int lock_retries = 0;
  absl::Duration longest_transaction;  // of the migrations applied
};

// Applies every migration newer than the database's version, after the online steps of the
// pending ones; returns how many migrations ran.
absl::StatusOr<int> ApplyMigrations(Database& db, const std::vector<Migration>& migrations);
absl::StatusOr<MigrationReport> ApplyMigrations(Database& db,
                                                const std::vector<Migration>& migrations,
                                                const std::vector<OnlineStep>& steps,
                                                const MigrationOptions& options);

// A pool connected to `database_url` and migrated to this binary's schema (EmbeddedMigrations):
// what every binary does before it uses the database. Each migration applied is logged.
absl::StatusOr<std::unique_ptr<Database>> ConnectMigrated(absl::string_view database_url,
                                                          const DatabaseOptions& options);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_MIGRATIONS_H_
