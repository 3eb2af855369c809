#include "services/storage/database_settings.h"

#include <cstddef>

#include "absl/strings/str_cat.h"

namespace marketdata {
SettingTable<DatabaseConfig> DatabaseSettingsTable(int default_pool_size) {
  return SettingTable<DatabaseConfig>({
      RequiredStringSetting("DATABASE_URL", &DatabaseConfig::url,
                            "PostgreSQL connection, postgresql://user:password@host:port/database; several "
                            "hosts (host1:port,host2:port with ?target_session_attrs=read-write) "
                            "reach whichever is primary"),
      CustomSetting<DatabaseConfig>(
          "DATABASE_POOL_SIZE", absl::StrCat(default_pool_size),
          [](const std::string& name, const std::string& value, DatabaseConfig& config) {
            absl::StatusOr<int64_t> n = ParseIntSetting(name, value, 1, 256);
            if (!n.ok()) return n.status();
            config.options.pool_size = static_cast<size_t>(*n);
            return absl::OkStatus();
          },
          "PostgreSQL sessions this process keeps open (1-256)"),
      EmbeddedSettings(
          &DatabaseConfig::options,
          SettingTable<DatabaseOptions>({
              MillisecondsSetting("DATABASE_CONNECT_TIMEOUT_MS", 5000, 2000, 600000,
                                  &DatabaseOptions::connect_timeout,
                                  "longest wait for one new PostgreSQL connection (libpq counts "
                                  "whole seconds)"),
              MillisecondsSetting("DATABASE_STATEMENT_TIMEOUT_MS", 30000, 0, 3600000,
                                  &DatabaseOptions::statement_timeout,
                                  "longest a statement may run on the server before it is "
                                  "cancelled and the call fails; 0: no limit"),
              MillisecondsSetting("DATABASE_POOL_WAIT_MS", 5000, 1, 600000,
                                  &DatabaseOptions::pool_wait,
                                  "longest a call waits for a free PostgreSQL session before it "
                                  "fails as unavailable"),
          })),
  });
}

}  // namespace marketdata
