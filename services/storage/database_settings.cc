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
      CustomSetting<DatabaseConfig>(
          "DATABASE_READ_URL", "",
          [](const std::string& name, const std::string& value, DatabaseConfig& config) {
            if (!value.empty()) {
              absl::StatusOr<std::string> connect = ToConnectString(value, name);
              if (!connect.ok()) return connect.status();
            }
            config.read_url = value;
            return absl::OkStatus();
          },
          "PostgreSQL connection for the reads that tolerate a replica a moment behind (price "
          "history, snapshots, moving averages, bars), in the form of DATABASE_URL; it may list "
          "several hosts, host1:port,host2:port with ?target_session_attrs=prefer-standby (a "
          "standby if one answers, else the primary) or any (the first that answers); empty: "
          "DATABASE_URL"),
      CustomSetting<DatabaseConfig>(
          "DATABASE_READ_POOL_SIZE", "",
          [](const std::string& name, const std::string& value, DatabaseConfig& config) {
            config.read_pool_size = 0;
            if (value.empty()) return absl::OkStatus();
            absl::StatusOr<int64_t> n = ParseIntSetting(name, value, 1, 256);
            if (!n.ok()) return n.status();
            config.read_pool_size = static_cast<size_t>(*n);
            return absl::OkStatus();
          },
          "PostgreSQL sessions this process keeps open to DATABASE_READ_URL (1-256); empty: "
          "DATABASE_POOL_SIZE"),
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

DatabaseOptions ReadPoolOptions(const DatabaseConfig& config) {
  DatabaseOptions options = config.options;
  if (config.read_pool_size > 0) options.pool_size = config.read_pool_size;
  options.setting = "DATABASE_READ_URL";
  return options;
}

absl::StatusOr<std::unique_ptr<Database>> ConnectReadPool(const DatabaseConfig& config) {
  if (config.read_url.empty()) return std::unique_ptr<Database>();
  return Database::ConnectLazily(config.read_url, ReadPoolOptions(config));
}

}  // namespace marketdata
