// The PostgreSQL settings every binary shares (DATABASE_URL, the read URL, the pools and their
// timeouts), as one settings table a binary embeds in its own.
#ifndef MARKETDATA_SERVICES_STORAGE_DATABASE_SETTINGS_H_
#define MARKETDATA_SERVICES_STORAGE_DATABASE_SETTINGS_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/config/settings_table.h"
#include "services/storage/database.h"

namespace marketdata {

struct DatabaseConfig {
  std::string url;
  DatabaseOptions options;
  // DATABASE_READ_URL: where the reads that tolerate a replica go; empty: to `url`.
  std::string read_url;
  // DATABASE_READ_POOL_SIZE; 0 (unset): options.pool_size.
  size_t read_pool_size = 0;
};

// DATABASE_URL, DATABASE_POOL_SIZE (default `default_pool_size`), DATABASE_READ_URL,
// DATABASE_READ_POOL_SIZE, DATABASE_CONNECT_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS and
// DATABASE_POOL_WAIT_MS.
SettingTable<DatabaseConfig> DatabaseSettingsTable(int default_pool_size);

// The options of the read pool: the same timeouts as the primary pool's, its own size, and
// DATABASE_READ_URL named in its errors.
DatabaseOptions ReadPoolOptions(const DatabaseConfig& config);

// The pool for the reads that tolerate a replica, on DATABASE_READ_URL; nullptr when it is empty
// (those reads then use the pool on DATABASE_URL). It does not wait for its server: while the
// server cannot be reached the process serves everything else, and those reads fail with
// UNAVAILABLE naming DATABASE_READ_URL without its password. Fails only for a URL that is not one.
absl::StatusOr<std::unique_ptr<Database>> ConnectReadPool(const DatabaseConfig& config);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_DATABASE_SETTINGS_H_
