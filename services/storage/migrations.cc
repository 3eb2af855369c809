#include "services/storage/migrations.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

constexpr char kCreateTable[] = R"SQL(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT        NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
))SQL";

// Any constants shared by every process of this service (partition maintenance uses ...002).
// One lock for the online steps (held by a session) and the migrations (by their transaction),
// only ever tried, never waited for: CREATE INDEX CONCURRENTLY waits for every transaction open
// when it starts, so a process waiting for the lock inside one while the holder builds an index
// would deadlock with it. A process that does not get it sleeps outside any transaction.
constexpr PreparedSql kTryLock = {"migrations_try_lock", "SELECT pg_try_advisory_lock(7243591001)"};
constexpr PreparedSql kUnlock = {"migrations_unlock", "SELECT pg_advisory_unlock(7243591001)"};
constexpr PreparedSql kTryXactLock = {"migrations_try_xact_lock",
                                      "SELECT pg_try_advisory_xact_lock(7243591001)"};
constexpr absl::Duration kLockPause = absl::Milliseconds(200);
constexpr PreparedSql kRecord = {
    "record_migration", "INSERT INTO schema_migrations (version, name) VALUES (CAST($1 AS INT), $2)"};

constexpr PreparedSql kAppliedVersions = {"applied_migrations",
                                         "SELECT version FROM schema_migrations"};
constexpr PreparedSql kIsApplied = {
    "is_migration_applied", "SELECT 1 FROM schema_migrations WHERE version = CAST($1 AS INT)"};
constexpr PreparedSql kHasMigrationsTable = {
    "has_migrations_table", "SELECT to_regclass('schema_migrations') IS NOT NULL"};

// 'r' for a plain table, 'p' for a partitioned one, nothing when there is no such table.
constexpr PreparedSql kTableKind = {"online_step_table_kind",
                                    "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)"};

// The cutover CHECK of a table, if it has one: whether it is validated, and whether its cutover
// is still far enough ahead to be kept.
constexpr PreparedSql kCutoverCheck = {"online_step_cutover_check", R"SQL(
SELECT convalidated,
       CAST((regexp_match(pg_get_constraintdef(oid), '''([^'']+)'''))[1] AS timestamptz)
           > now() + interval '6 hours'
FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2)SQL"};

// The first UTC midnight at least `lead` (in seconds, $1) ahead, as a literal PostgreSQL reads
// the same whatever the session's settings.
constexpr PreparedSql kCutover = {"online_step_cutover", R"SQL(
SELECT to_char(date_trunc('day', (now() + $1 * interval '1 second') AT TIME ZONE 'UTC')
                   + interval '1 day', 'YYYY-MM-DD HH24:MI:SS') || '+00')SQL"};

constexpr PreparedSql kIndexValid = {"online_step_index_valid",
                                     "SELECT i.indisvalid FROM pg_index i "
                                     "WHERE i.indexrelid = to_regclass($1)"};

std::string Ident(const std::string& name) {
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "\"\""}}), "\"");
}

// Runs `sql`, waiting for its lock at most `options.lock_timeout` at a time.
absl::Status ExecWithLockRetry(Database::Lease& lease, const std::string& sql,
                               const MigrationOptions& options, int* retries) {
  absl::Status status =
      lease
          .Exec(absl::StrCat("SET lock_timeout = ", absl::ToInt64Milliseconds(options.lock_timeout)),
                "preparing a migration")
          .status();
  for (int attempt = 1; status.ok(); ++attempt) {
    status = lease.Exec(sql, "preparing a migration").status();
    if (status.ok() || SqlStateOf(status) != kSqlStateLockNotAvailable ||
        attempt >= options.max_tries) {
      break;
    }
    // Someone holds the table (a long query; autovacuum, which gives way only to a lock
    // waited for longer than deadlock_timeout): wait a moment without holding up its writers.
    ++*retries;
    status = absl::OkStatus();
    absl::SleepFor(options.retry_pause);
  }
  absl::Status reset = lease.Exec("RESET lock_timeout", "preparing a migration").status();
  return status.ok() ? reset : status;
}

// One step; true when it did any work.
absl::StatusOr<bool> Prepare(Database::Lease& lease, const OnlineStep& step,
                             const MigrationOptions& options, int* retries) {
  absl::StatusOr<PgResult> kind = lease.Run(kTableKind, SqlParams().Text(step.table), "reading a table");
  if (!kind.ok()) return kind.status();
  if (kind->rows() == 0 || kind->text(0, 0) != "r") return false;  // nothing to prepare
  bool worked = false;
  const std::string table = Ident(step.table);
  if (!step.time_column.empty()) {
    const std::string name = step.table + "_before_cutover";
    absl::StatusOr<PgResult> check =
        lease.Run(kCutoverCheck, SqlParams().Text(step.table).Text(name), "reading a cutover");
    if (!check.ok()) return check.status();
    bool exists = check->rows() == 1;
    if (exists && check->text(0, 1) != "t") {
      // Left by a preparation whose migration never ran: its cutover comes too soon, and rows
      // after it would be refused. A later one replaces it.
      spdlog::info("migrations: replacing the cutover of {}, which comes too soon", step.table);
      if (absl::Status s = ExecWithLockRetry(
              lease, absl::StrCat("ALTER TABLE ", table, " DROP CONSTRAINT ", Ident(name)),
              options, retries);
          !s.ok()) {
        return s;
      }
      exists = false;
    }
    if (!exists) {
      absl::StatusOr<PgResult> cutover = lease.Run(
          kCutover, SqlParams().Int(absl::ToInt64Seconds(options.cutover_lead)), "a cutover");
      if (!cutover.ok()) return cutover.status();
      const std::string at(cutover->text(0, 0));
      spdlog::info("migrations: {} keeps its rows before {}; later ones go to new partitions",
                   step.table, at);
      // NOT VALID: no scan under the lock (it holds it only to record the constraint).
      if (absl::Status s = ExecWithLockRetry(
              lease,
              absl::StrCat("ALTER TABLE ", table, " ADD CONSTRAINT ", Ident(name), " CHECK (",
                           Ident(step.time_column), " < '", at, "') NOT VALID"),
              options, retries);
          !s.ok()) {
        return s;
      }
    }
    if (!exists || check->text(0, 0) != "t") {
      // Scans the table under a lock that writers and readers pass.
      const absl::Time start = absl::Now();
      if (absl::Status s = lease.Exec(absl::StrCat("ALTER TABLE ", table, " VALIDATE CONSTRAINT ", Ident(name)), "preparing a migration").status();
          !s.ok()) {
        return s;
      }
      spdlog::info("migrations: checked every row of {} against its cutover in {}", step.table,
                   absl::FormatDuration(absl::Now() - start));
      worked = true;
    }
  }
  if (!step.key_index.empty()) {
    absl::StatusOr<PgResult> valid =
        lease.Run(kIndexValid, SqlParams().Text(step.key_index), "reading an index");
    if (!valid.ok()) return valid.status();
    if (valid->rows() == 1 && valid->text(0, 0) != "t") {
      // An earlier concurrent build that was interrupted.
      if (absl::Status s = lease.Exec(absl::StrCat("DROP INDEX CONCURRENTLY ", Ident(step.key_index)), "preparing a migration").status();
          !s.ok()) {
        return s;
      }
    }
    if (valid->rows() == 0 || valid->text(0, 0) != "t") {
      const absl::Time start = absl::Now();
      if (absl::Status s = lease.Exec(absl::StrCat("CREATE UNIQUE INDEX CONCURRENTLY ", Ident(step.key_index),
                                  " ON ", table, " (", step.key_columns, ")"), "preparing a migration").status();
          !s.ok()) {
        return s;
      }
      spdlog::info("migrations: built {} on {} ({}) while writes went on, in {}", step.key_index,
                   step.table, step.key_columns, absl::FormatDuration(absl::Now() - start));
      worked = true;
    }
  }
  if (!step.redundant_index.empty()) {
    absl::StatusOr<PgResult> exists =
        lease.Run(kIndexValid, SqlParams().Text(step.redundant_index), "reading an index");
    if (!exists.ok()) return exists.status();
    if (exists->rows() > 0) {
      if (absl::Status s = lease.Exec(absl::StrCat("DROP INDEX CONCURRENTLY IF EXISTS ",
                                                   Ident(step.redundant_index)),
                                      "preparing a migration")
                               .status();
          !s.ok()) {
        return s;
      }
      spdlog::info("migrations: dropped {}, which {} replaces", step.redundant_index,
                   step.key_index);
      worked = true;
    }
  }
  return worked;
}

template <typename Fn>
auto WithLease(Database& db, Fn&& fn) -> decltype(fn(std::declval<Database::Lease&>())) {
  absl::StatusOr<Database::Lease> lease = db.Acquire();
  if (!lease.ok()) return lease.status();
  return fn(*lease);
}

absl::StatusOr<std::set<int>> AppliedVersions(Database::Lease& lease) {
  std::set<int> applied;
  absl::StatusOr<PgResult> has = lease.Run(kHasMigrationsTable, {}, "reading migrations");
  if (!has.ok()) return has.status();
  if (has->text(0, 0) != "t") return applied;
  absl::StatusOr<PgResult> rows = lease.Run(kAppliedVersions, {}, "reading migrations");
  if (!rows.ok()) return rows.status();
  for (int r = 0; r < rows->rows(); ++r) applied.insert(static_cast<int>(rows->int64(r, 0)));
  return applied;
}

// `applied`: the versions the database had before.
absl::Status PrepareOnline(Database& db, const std::vector<Migration>& migrations,
                           const std::set<int>& applied, const std::vector<OnlineStep>& steps,
                           const MigrationOptions& options, MigrationReport* report) {
  return WithLease(db, [&](Database::Lease& lease) -> absl::Status {
    std::set<int> pending;
    for (const Migration& m : migrations) {
      if (applied.count(m.version) == 0) pending.insert(m.version);
    }
    bool any = false;
    for (const OnlineStep& s : steps) any = any || pending.count(s.version) > 0;
    if (!any) return absl::OkStatus();
    // One process at a time (two concurrent builds of one index would fail each other), with no
    // limit on how long a statement runs: these scan whole tables.
    if (absl::Status s = lease.Exec("SET statement_timeout = 0", "preparing migrations").status();
        !s.ok()) {
      return s;
    }
    while (true) {
      absl::StatusOr<PgResult> locked = lease.Run(kTryLock, {}, "locking migrations");
      if (!locked.ok()) return locked.status();
      if (locked->text(0, 0) == "t") break;
      absl::SleepFor(kLockPause);  // another process prepares or migrates
    }
    absl::Status status;
    for (const OnlineStep& s : steps) {
      if (pending.count(s.version) == 0) continue;
      absl::StatusOr<bool> worked = Prepare(lease, s, options, &report->lock_retries);
      if (!worked.ok()) {
        status = absl::Status(worked.status().code(),
                              absl::StrCat("preparing ", s.table, " for migration ", s.version,
                                           ": ", worked.status().message()));
        break;
      }
      if (*worked) ++report->prepared;
    }
    (void)lease.Run(kUnlock, {}, "unlocking migrations");
    (void)lease.Exec("RESET statement_timeout", "preparing migrations");
    return status;
  });
}

}  // namespace

const std::vector<OnlineStep>& EmbeddedOnlineSteps() {
  static const auto* steps = new std::vector<OnlineStep>{
      {8, "raw_market_data", "fetched_at", "raw_market_data_key", "id, fetched_at"},
      {9, "moving_averages", "", "moving_averages_key", "symbol, window_size, ts, price_point_id",
       "moving_averages_symbol_window_ts_idx"},
      {12, "price_points", "ts", "price_points_key", "symbol, ts, id",
       "price_points_symbol_ts_idx"},
      {12, "moving_averages", "ts", "", ""},
      {13, "bars", "bucket_start", "", ""},
  };
  return *steps;
}

absl::StatusOr<int> ApplyMigrations(Database& db, const std::vector<Migration>& migrations) {
  absl::StatusOr<MigrationReport> report =
      ApplyMigrations(db, migrations, EmbeddedOnlineSteps(), MigrationOptions());
  if (!report.ok()) return report.status();
  return report->applied;
}

absl::StatusOr<MigrationReport> ApplyMigrations(Database& db,
                                                const std::vector<Migration>& migrations,
                                                const std::vector<OnlineStep>& steps,
                                                const MigrationOptions& options) {
  MigrationReport report;
  const absl::Time start = absl::Now();
  // Read once: a migration another process applies meanwhile is found inside its transaction.
  absl::StatusOr<std::set<int>> known = WithLease(db, [](Database::Lease& lease) {
    return AppliedVersions(lease);
  });
  if (!known.ok()) return known.status();
  if (absl::Status s = PrepareOnline(db, migrations, *known, steps, options, &report); !s.ok()) {
    return s;
  }
  report.preparation = absl::Now() - start;
  for (const Migration& m : migrations) {
    if (known->count(m.version) > 0) continue;
    for (int attempt = 1;; ++attempt) {
      bool already = false, lock_timeout = false, busy = false;
      absl::Time locked_at;
      const std::string what = absl::StrCat("applying migration ", m.name);
      absl::StatusOr<Database::Lease> lease = db.Acquire();
      if (!lease.ok()) return lease.status();
      absl::Status status = InTransaction(*lease, what, [&]() -> absl::Status {
        // A migration may rewrite a large table: no statement timeout for this transaction only.
        // Every lock but the migrations' own is waited for a short while only, and the
        // transaction is tried again.
        if (absl::Status s = lease->Exec("SET LOCAL statement_timeout = 0", what).status();
            !s.ok()) {
          return s;
        }
        absl::StatusOr<PgResult> locked = lease->Run(kTryXactLock, {}, what);
        if (!locked.ok()) return locked.status();
        if (locked->text(0, 0) != "t") {
          busy = true;  // another process prepares or migrates: try again after a pause
          return absl::AbortedError("migrations locked by another process");
        }
        locked_at = absl::Now();
        if (absl::Status s =
                lease
                    ->Exec(absl::StrCat("SET LOCAL lock_timeout = ",
                                        absl::ToInt64Milliseconds(options.lock_timeout), "; ",
                                        kCreateTable),
                           what)
                    .status();
            !s.ok()) {
          return s;
        }
        absl::StatusOr<PgResult> done = lease->Run(kIsApplied, SqlParams().Int(m.version), what);
        if (!done.ok()) return done.status();
        if (done->rows() > 0) {  // another process applied it meanwhile
          already = true;
          return absl::OkStatus();
        }
        if (absl::Status s = lease->Exec(m.sql, what).status(); !s.ok()) {
          lock_timeout = SqlStateOf(s) == kSqlStateLockNotAvailable;
          return absl::Status(s.code(),
                              absl::StrCat("migration ", m.name, " failed: ", s.message()));
        }
        return lease->Run(kRecord, SqlParams().Int(m.version).Text(m.name), what).status();
      });
      if (status.ok()) {
        if (!already) {
          const absl::Duration took = absl::Now() - locked_at;
          report.longest_transaction = std::max(report.longest_transaction, took);
          ++report.applied;
          spdlog::info("applied migration {} in {}", m.name, absl::FormatDuration(took));
        }
        break;
      }
      if (busy) {
        --attempt;  // waiting for another process is not a failed try
        absl::SleepFor(kLockPause);
        continue;
      }
      if (!lock_timeout || attempt >= options.max_tries) return status;
      ++report.lock_retries;
      spdlog::info("migrations: a table was busy; trying again ({})",
                   std::string(status.message()));
      absl::SleepFor(options.retry_pause);
    }
  }
  return report;
}

absl::StatusOr<std::unique_ptr<Database>> ConnectMigrated(absl::string_view database_url,
                                                          const DatabaseOptions& options) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Connect(database_url, options);
  if (!db.ok()) return db.status();
  if (absl::Status s = ApplyMigrations(**db, EmbeddedMigrations()).status(); !s.ok()) return s;
  return db;
}

}  // namespace marketdata
