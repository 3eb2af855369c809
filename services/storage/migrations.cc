#include "services/storage/migrations.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "soci/soci.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

constexpr char kCreateTable[] = R"SQL(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT        NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
))SQL";

// Any constant shared by every process of this service.
constexpr char kLock[] = "SELECT pg_advisory_xact_lock(7243591001)";
constexpr char kApplied[] = "SELECT version FROM schema_migrations";
constexpr char kRecord[] = "INSERT INTO schema_migrations (version, name) VALUES (:v, :n)";

}  // namespace

absl::StatusOr<int> ApplyMigrations(Database& db, const std::vector<Migration>& migrations) {
  int applied_now = 0;
  absl::Status status = WithSession(db, "applying migrations", [&](Database::Lease& lease) {
    soci::session& sql = *lease;
    soci::transaction tx(sql);
    // A migration may rewrite a large table: no statement timeout for this transaction only.
    sql << "SET LOCAL statement_timeout = 0";
    sql << kLock;
    sql << kCreateTable;
    std::set<int> applied;
    soci::rowset<int> rows = sql.prepare << kApplied;
    for (int version : rows) applied.insert(version);
    for (const Migration& m : migrations) {
      if (applied.count(m.version) > 0) continue;
      if (absl::Status s = Database::ExecScript(lease, m.sql); !s.ok()) {
        return absl::InternalError(
            absl::StrCat("migration ", m.name, " failed: ", s.message()));
      }
      sql << kRecord, soci::use(m.version), soci::use(m.name);
      spdlog::info("applied migration {}", m.name);
      ++applied_now;
    }
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return applied_now;
}

}  // namespace marketdata
