#include "services/storage/database_settings.h"

#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

absl::StatusOr<DatabaseConfig> Load(std::map<std::string, std::string> values) {
  values.emplace("DATABASE_URL", "postgresql://u:p@primary:5432/db");
  return DatabaseSettingsTable(16).Load(Settings::FromMap(std::move(values)));
}

TEST(DatabaseSettingsTest, WithoutAReadUrlTheReadsUseDatabaseUrl) {
  absl::StatusOr<DatabaseConfig> config = Load({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->read_url, "");
  EXPECT_EQ(config->read_pool_size, 0u);
  absl::StatusOr<std::unique_ptr<Database>> pool = ConnectReadPool(*config);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(*pool, nullptr);  // no pool of its own: main() hands the primary's to the readers
}

TEST(DatabaseSettingsTest, TheReadPoolHasThePrimarysTimeoutsAndSizeUnlessItsOwnIsSet) {
  absl::StatusOr<DatabaseConfig> config =
      Load({{"DATABASE_READ_URL",
             "postgresql://u:p@standby1:5432,standby2:5432/db?target_session_attrs=prefer-standby"},
            {"DATABASE_POOL_SIZE", "12"},
            {"DATABASE_CONNECT_TIMEOUT_MS", "3000"},
            {"DATABASE_STATEMENT_TIMEOUT_MS", "700"},
            {"DATABASE_POOL_WAIT_MS", "250"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->read_url,
            "postgresql://u:p@standby1:5432,standby2:5432/db?target_session_attrs=prefer-standby");
  DatabaseOptions read = ReadPoolOptions(*config);
  EXPECT_EQ(read.pool_size, 12u);
  EXPECT_EQ(read.connect_timeout, absl::Seconds(3));
  EXPECT_EQ(read.statement_timeout, absl::Milliseconds(700));
  EXPECT_EQ(read.pool_wait, absl::Milliseconds(250));
  EXPECT_EQ(read.setting, "DATABASE_READ_URL");
  EXPECT_EQ(config->options.setting, "DATABASE_URL");  // the primary's stays as it was

  absl::StatusOr<DatabaseConfig> sized =
      Load({{"DATABASE_READ_URL", "postgresql://standby/db"}, {"DATABASE_READ_POOL_SIZE", "3"}});
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_EQ(ReadPoolOptions(*sized).pool_size, 3u);
  EXPECT_EQ(sized->options.pool_size, 16u);
}

TEST(DatabaseSettingsTest, BadReadSettingsAreNamed) {
  absl::StatusOr<DatabaseConfig> url = Load({{"DATABASE_READ_URL", "standby:5432"}});
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().message(),
            "DATABASE_READ_URL must look like postgresql://user:password@host:port/database");
  absl::StatusOr<DatabaseConfig> port =
      Load({{"DATABASE_READ_URL", "postgresql://standby:5432,standby2:none/db"}});
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().message(), "DATABASE_READ_URL has an invalid port \"none\"");
  for (const char* size : {"0", "257", "some"}) {
    absl::StatusOr<DatabaseConfig> bad = Load({{"DATABASE_READ_POOL_SIZE", size}});
    ASSERT_FALSE(bad.ok()) << size;
    EXPECT_EQ(bad.status().message(), absl::StrCat("DATABASE_READ_POOL_SIZE=\"", size,
                                                   "\" is not an integer between 1 and 256"));
  }
}

TEST(DatabaseSettingsTest, HelpSaysTheReadUrlIsOptionalAndMayListSeveralHosts) {
  const std::string help = DatabaseSettingsTable(6).Help("mds-consumer");
  const size_t row = help.find("\n  DATABASE_READ_URL  --database-read-url  default: \"\"\n");
  ASSERT_NE(row, std::string::npos) << help;
  const std::string meaning = help.substr(row, help.find("\n  DATABASE_READ_POOL_SIZE") - row);
  for (const char* part : {"price history", "moving averages", "bars", "snapshots",
                           "host1:port,host2:port", "target_session_attrs=prefer-standby",
                           "empty: DATABASE_URL"}) {
    EXPECT_NE(meaning.find(part), std::string::npos) << part << " in " << meaning;
  }
  EXPECT_NE(help.find("\n  DATABASE_READ_POOL_SIZE  --database-read-pool-size  default: \"\"\n"),
            std::string::npos)
      << help;
}

}  // namespace
}  // namespace marketdata
