// The PostgreSQL settings every binary shares (DATABASE_URL, the pool and its timeouts), as one
// settings table a binary embeds in its own.
#ifndef MARKETDATA_SERVICES_STORAGE_DATABASE_SETTINGS_H_
#define MARKETDATA_SERVICES_STORAGE_DATABASE_SETTINGS_H_

#include <string>

#include "services/common/config/settings_table.h"
#include "services/storage/database.h"

namespace marketdata {

struct DatabaseConfig {
  std::string url;
  DatabaseOptions options;
};

// DATABASE_URL, DATABASE_POOL_SIZE (default `default_pool_size`), DATABASE_CONNECT_TIMEOUT_MS,
// DATABASE_STATEMENT_TIMEOUT_MS and DATABASE_POOL_WAIT_MS.
SettingTable<DatabaseConfig> DatabaseSettingsTable(int default_pool_size);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_DATABASE_SETTINGS_H_
