#include "services/api/api_config.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(ApiConfigTest, DefaultsApplyWhenOnlyRequiredSettingsAreGiven) {
  Settings settings = Settings::FromMap(
      {{"DATABASE_URL", "postgresql://h/db"}, {"KAFKA_BOOTSTRAP_SERVERS", "h:9092"}});
  auto config = LoadApiConfig(settings);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "0.0.0.0:50051");
  EXPECT_EQ(config->price_events_topic, "price-events");
  EXPECT_EQ(config->default_provider, "test");
  EXPECT_FALSE(config->providers.test_seed.has_value());
  EXPECT_EQ(config->providers.finnhub_base_url, "https://finnhub.io");
}

TEST(ApiConfigTest, MissingDatabaseUrlIsNamed) {
  Settings settings = Settings::FromMap({{"KAFKA_BOOTSTRAP_SERVERS", "h:9092"}});
  auto config = LoadApiConfig(settings);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("DATABASE_URL"), absl::string_view::npos);
}

TEST(ApiConfigTest, BadSeedIsNamed) {
  Settings settings = Settings::FromMap({{"DATABASE_URL", "postgresql://h/db"},
                                         {"KAFKA_BOOTSTRAP_SERVERS", "h:9092"},
                                         {"TEST_PROVIDER_SEED", "abc"}});
  auto config = LoadApiConfig(settings);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("TEST_PROVIDER_SEED"), absl::string_view::npos);
}

}  // namespace
}  // namespace marketdata
