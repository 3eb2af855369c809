// Versioned schema migrations, embedded in the binary and applied at start-up.
//
// Applied versions are recorded in schema_migrations. Replicas starting together serialise on a
// transaction-scoped advisory lock, so each migration runs exactly once.
#ifndef MARKETDATA_SERVICES_STORAGE_MIGRATIONS_H_
#define MARKETDATA_SERVICES_STORAGE_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/database.h"

namespace marketdata {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// services/storage/migrations/*.sql in version order.
const std::vector<Migration>& EmbeddedMigrations();

// Applies every migration newer than the database's version; returns how many ran.
absl::StatusOr<int> ApplyMigrations(Database& db, const std::vector<Migration>& migrations);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_MIGRATIONS_H_
