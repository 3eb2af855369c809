#include "services/lifecycle/lifecycle_settings.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(LifecycleSettingsTest, Durations) {
  EXPECT_EQ(*ParseDurationSetting("X", "90s", false), absl::Seconds(90));
  EXPECT_EQ(*ParseDurationSetting("X", "15m", false), absl::Minutes(15));
  EXPECT_EQ(*ParseDurationSetting("X", "6h", false), absl::Hours(6));
  EXPECT_EQ(*ParseDurationSetting("X", "8d", false), absl::Hours(192));
  EXPECT_EQ(*ParseDurationSetting("X", "0", true), absl::ZeroDuration());
  for (const char* bad : {"0", "", "d", "-1d", "1w", "1.5h", "10", "1 d"}) {
    absl::StatusOr<absl::Duration> d = ParseDurationSetting("RAW_RETENTION", bad, false);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find("RAW_RETENTION"), std::string::npos);
    }
  }
}

LifecycleConfig Load(std::map<std::string, std::string> env) {
  absl::StatusOr<LifecycleConfig> c = LifecycleSettingsTable().Load(Settings::FromMap(env));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : LifecycleConfig{};
}

TEST(LifecycleSettingsTest, DefaultsAreADayPartitionAndADayOfRawReplies) {
  const LifecycleConfig c = Load({});
  EXPECT_EQ(c.partition_interval, absl::Hours(24));
  EXPECT_EQ(c.partitions_ahead, 3);
  EXPECT_EQ(c.raw_retention, absl::Hours(24));
  EXPECT_EQ(c.price_retention, absl::Hours(24 * 8));
  EXPECT_EQ(c.late_price_window, absl::Hours(24 * 7));
  EXPECT_TRUE(CheckLifecycleConfig(c).ok());
  const std::vector<MaintainedTable> tables = MaintainedTables(c);
  ASSERT_EQ(tables.size(), 4u);
  EXPECT_EQ(tables[0].table, "raw_market_data");
  EXPECT_EQ(tables[0].policy.behind, absl::ZeroDuration());
  EXPECT_EQ(tables[1].table, "price_points");
  EXPECT_EQ(tables[1].policy.retention, absl::Hours(24 * 8));
  EXPECT_EQ(tables[1].policy.behind, absl::Hours(24 * 8));
  EXPECT_TRUE(tables[1].keep_while_outbox_holds);
  EXPECT_EQ(tables[2].table, "moving_averages");
  EXPECT_FALSE(tables[2].keep_while_outbox_holds);
  EXPECT_EQ(tables[3].table, "bars");
  EXPECT_EQ(tables[3].policy.length, absl::Hours(24 * 7));
  EXPECT_EQ(tables[3].policy.retention, absl::ZeroDuration());
  ASSERT_EQ(tables[3].subpartitions.size(), 5u);
  EXPECT_EQ(tables[3].subpartitions[1].partition.suffix, "_1m");
  EXPECT_EQ(tables[3].subpartitions[1].retention, absl::Hours(24 * 90));
  EXPECT_EQ(tables[3].subpartitions[3].retention, absl::Hours(24 * 365));
  EXPECT_EQ(tables[3].subpartitions[4].retention, absl::ZeroDuration());
  const AcceptanceWindow window = PriceAcceptanceWindow(c);
  EXPECT_EQ(window.late, absl::Hours(24 * 7));
  EXPECT_EQ(window.ahead, absl::Hours(24));
  EXPECT_EQ(MaintenancePeriod(c), absl::Minutes(10));
  EXPECT_EQ(MaintenancePeriod(Load({{"PARTITION_INTERVAL", "1m"}})), absl::Seconds(15));
}

TEST(LifecycleSettingsTest, PricesOutliveTheLateWindowByAPartition) {
  EXPECT_TRUE(CheckLifecycleConfig(Load({{"PRICE_RETENTION", "0"}})).ok());
  const absl::Status short_retention = CheckLifecycleConfig(Load({{"PRICE_RETENTION", "7d"}}));
  EXPECT_FALSE(short_retention.ok());
  EXPECT_NE(short_retention.message().find("LATE_PRICE_WINDOW"), std::string::npos);
  // Tests: minute partitions, a five-minute late window, eight minutes of prices.
  const LifecycleConfig minutes = Load({{"PARTITION_INTERVAL", "1m"},
                                        {"RAW_RETENTION", "2m"},
                                        {"BAR_RETENTION_1M", "0"},
                                        {"BAR_RETENTION_5M", "0"},
                                        {"LATE_PRICE_WINDOW", "5m"},
                                        {"PRICE_RETENTION", "8m"}});
  EXPECT_TRUE(CheckLifecycleConfig(minutes).ok());
  // Ahead: no further than the partitions made ahead.
  EXPECT_EQ(PriceAcceptanceWindow(minutes).ahead, absl::Minutes(3));
  EXPECT_FALSE(LifecycleSettingsTable().Load(Settings::FromMap({{"LATE_PRICE_WINDOW", "0"}})).ok());
  EXPECT_FALSE(CheckLifecycleConfig(Load({{"BAR_RETENTION_1M", "10d"}})).ok())
      << "the late window and a week's partition";
  // Minute partitions over the default week: ten thousand partitions, refused.
  const absl::Status too_many = CheckLifecycleConfig(Load({{"PARTITION_INTERVAL", "1m"}}));
  EXPECT_FALSE(too_many.ok());
  EXPECT_NE(too_many.message().find("partitions per table"), std::string::npos) << too_many;
}

TEST(LifecycleSettingsTest, PartitionsMustTileADay) {
  for (const char* bad : {"7m", "30s", "5h", "36h"}) {
    EXPECT_FALSE(LifecycleSettingsTable().Load(Settings::FromMap({{"PARTITION_INTERVAL", bad}})).ok())
        << bad;
  }
  for (const char* good : {"1m", "15m", "1h", "6h", "1d", "7d"}) {
    EXPECT_TRUE(LifecycleSettingsTable().Load(Settings::FromMap({{"PARTITION_INTERVAL", good}})).ok())
        << good;
  }
}

}  // namespace
}  // namespace marketdata
