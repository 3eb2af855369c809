#include "services/storage/database_metrics.h"

#include <unistd.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/common/metrics/metrics_scrape.h"

namespace marketdata {
namespace {

// A pool that never reaches a server (port 1 refuses at once): its size is all the metrics need.
std::unique_ptr<Database> Pool(size_t size, const char* setting) {
  DatabaseOptions options;
  options.pool_size = size;
  options.setting = setting;
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::ConnectLazily("postgresql://u:p@127.0.0.1:1/db", options);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

TEST(DatabaseMetricsTest, TheReadPoolsSeriesCarryPoolReadAndThePrimarysNone) {
  std::unique_ptr<Database> primary = Pool(5, "DATABASE_URL");
  std::unique_ptr<Database> read = Pool(3, "DATABASE_READ_URL");
  ASSERT_NE(primary, nullptr);
  ASSERT_NE(read, nullptr);
  // Port 0 is not supported by the exposer: pick one unlikely to be taken.
  const int port = 20000 + static_cast<int>((getpid() + 13) % 20000);
  auto exporter = MetricsExporter::Start("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ExportDatabasePoolMetrics(**exporter, *primary, read.get());
  const std::string body = ScrapeMetrics(port);
  for (const char* line :
       {"\nmds_db_pool_size 5\n", "\nmds_db_pool_size{pool=\"read\"} 3\n",
        "\nmds_db_pool_connections{state=\"idle\"} 5\n",
        "\nmds_db_pool_connections{pool=\"read\",state=\"idle\"} 3\n",
        "\nmds_db_pool_connections{pool=\"read\",state=\"in_use\"} 0\n",
        "\nmds_db_pool_waits_total 0\n", "\nmds_db_pool_waits_total{pool=\"read\"} 0\n",
        "\nmds_db_pool_wait_seconds_total{pool=\"read\"} 0\n"}) {
    EXPECT_NE(body.find(line), std::string::npos) << line << " in\n" << body;
  }
}

TEST(DatabaseMetricsTest, WithoutAReadPoolTheSeriesAreAsBefore) {
  std::unique_ptr<Database> primary = Pool(4, "DATABASE_URL");
  ASSERT_NE(primary, nullptr);
  const int port = 20000 + static_cast<int>((getpid() + 17) % 20000);
  auto exporter = MetricsExporter::Start("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ExportDatabasePoolMetrics(**exporter, *primary);
  const std::string body = ScrapeMetrics(port);
  EXPECT_NE(body.find("\nmds_db_pool_size 4\n"), std::string::npos) << body;
  EXPECT_EQ(body.find("{pool=\"read\""), std::string::npos) << body;
}

}  // namespace
}  // namespace marketdata
