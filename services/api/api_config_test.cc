#include "services/api/api_config.h"

#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

Settings Required(std::map<std::string, std::string> more = {}) {
  more.emplace("DATABASE_URL", "postgresql://h/db");
  more.emplace("KAFKA_BOOTSTRAP_SERVERS", "h:9092");
  return Settings::FromMap(std::move(more));
}

TEST(ApiConfigTest, DefaultsApplyWhenOnlyRequiredSettingsAreGiven) {
  auto config = LoadApiConfig(Required());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "0.0.0.0:50051");
  EXPECT_EQ(config->metrics_listen, "0.0.0.0:9101");
  EXPECT_EQ(config->database.url, "postgresql://h/db");
  EXPECT_EQ(config->database.options.pool_size, 16u);
  EXPECT_EQ(config->database.options.statement_timeout, absl::Seconds(30));
  EXPECT_EQ(config->kafka.bootstrap_servers, "h:9092");
  EXPECT_EQ(config->kafka.topic, "price-events");
  EXPECT_EQ(config->providers.default_provider, "test");
  EXPECT_EQ(config->fetch_lanes.threads, 32);
  EXPECT_EQ(config->fetch_lanes.max_queued, 32u * 32u);
  EXPECT_EQ(config->fetch_lanes.budget, absl::Seconds(15));
  EXPECT_EQ(config->writes.linger, absl::ZeroDuration());
  EXPECT_EQ(config->max_open_streams, 10000);
  EXPECT_EQ(config->log.level, spdlog::level::info);
  EXPECT_EQ(config->log.format, LogFormat::kJson);
  EXPECT_EQ(config->polling_limits.max_symbols, 50);
  EXPECT_EQ(config->polling_limits.min_interval_seconds, 1);
  EXPECT_EQ(config->polling_limits.max_interval_seconds, 86400);
  EXPECT_EQ(config->scheduling.runners, 16);
  EXPECT_EQ(config->scheduling.lease, absl::Seconds(30));
  EXPECT_FALSE(config->providers.test_seed.has_value());
  EXPECT_EQ(config->providers.network.at("finnhub").base_url, "https://finnhub.io");
  EXPECT_EQ(config->providers.timeout, absl::Seconds(5));
  EXPECT_EQ(config->providers.max_retries, 2);
}

TEST(ApiConfigTest, InstanceIdDefaultsToHostAndListenPort) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  auto config = LoadApiConfig(Required({{"MDS_API_LISTEN", "127.0.0.1:6000"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->scheduling.instance_id, std::string(host) + ":6000");
  auto named = LoadApiConfig(Required({{"POLLING_INSTANCE_ID", "replica-1"}}));
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->scheduling.instance_id, "replica-1");
}

TEST(ApiConfigTest, ProviderSettingsAreRead) {
  auto config = LoadApiConfig(Required({{"TEST_PROVIDER_SEED", "42"},
                                        {"PROVIDER_TIMEOUT_MS", "250"},
                                        {"FINNHUB_RATE_LIMIT_PER_MINUTE", "7"},
                                        {"YFINANCE_BASE_URL", "http://127.0.0.1:3"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->providers.test_seed, 42u);
  EXPECT_EQ(config->providers.timeout, absl::Milliseconds(250));
  EXPECT_EQ(config->providers.network.at("finnhub").per_minute, 7);
  EXPECT_EQ(config->providers.network.at("yfinance").base_url, "http://127.0.0.1:3");
}

TEST(ApiConfigTest, OptionsFollowTheirSettings) {
  auto config = LoadApiConfig(Required({{"PROVIDER_FETCH_THREADS", "4"},
                                        {"PROVIDER_TIMEOUT_MS", "1000"},
                                        {"PROVIDER_MAX_RETRIES", "1"},
                                        {"PRICE_WRITE_LINGER_US", "250"},
                                        {"POLLING_LEASE_SECONDS", "7"},
                                        {"KAFKA_CONFIG", "linger.ms=1"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->fetch_lanes.threads, 4);
  EXPECT_EQ(config->fetch_lanes.max_queued, 128u);
  EXPECT_EQ(config->fetch_lanes.budget, absl::Seconds(2));
  EXPECT_EQ(config->writes.linger, absl::Microseconds(250));
  EXPECT_EQ(config->scheduling.lease, absl::Seconds(7));
  EXPECT_EQ(config->kafka.extra, (std::map<std::string, std::string>{{"linger.ms", "1"}}));
  auto threads = LoadApiConfig(Required({{"PROVIDER_FETCH_THREADS", "0"}}));
  ASSERT_FALSE(threads.ok());
  EXPECT_EQ(threads.status().message(),
            "PROVIDER_FETCH_THREADS=\"0\" is not an integer between 1 and 1024");
  auto lease = LoadApiConfig(Required({{"POLLING_LEASE_SECONDS", "3601"}}));
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().message(),
            "POLLING_LEASE_SECONDS=\"3601\" is not an integer between 1 and 3600");
}

TEST(ApiConfigTest, ReadUrlIsOptionalAndHasAPoolOfItsOwn) {
  auto plain = LoadApiConfig(Required());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->database.read_url, "");  // history and snapshots read DATABASE_URL
  auto config = LoadApiConfig(Required(
      {{"DATABASE_READ_URL",
        "postgresql://u:p@standby1:5432,standby2:5433/db?target_session_attrs=any"},
       {"DATABASE_READ_POOL_SIZE", "4"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->database.read_url,
            "postgresql://u:p@standby1:5432,standby2:5433/db?target_session_attrs=any");
  EXPECT_EQ(ReadPoolOptions(config->database).pool_size, 4u);
  EXPECT_EQ(config->database.options.pool_size, 16u);
  auto unsized = LoadApiConfig(Required({{"DATABASE_READ_URL", "postgresql://standby/db"}}));
  ASSERT_TRUE(unsized.ok()) << unsized.status();
  EXPECT_EQ(ReadPoolOptions(unsized->database).pool_size, 16u);  // DATABASE_POOL_SIZE's
  auto bad = LoadApiConfig(Required({{"DATABASE_READ_URL", "standby"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("DATABASE_READ_URL"), absl::string_view::npos);
}

TEST(ApiConfigTest, MissingDatabaseUrlIsNamed) {
  auto config = LoadApiConfig(Settings::FromMap({{"KAFKA_BOOTSTRAP_SERVERS", "h:9092"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "DATABASE_URL is required (environment variable or --database-url)");
}

TEST(ApiConfigTest, BadValuesAreNamed) {
  auto seed = LoadApiConfig(Required({{"TEST_PROVIDER_SEED", "abc"}}));
  ASSERT_FALSE(seed.ok());
  EXPECT_NE(seed.status().message().find("TEST_PROVIDER_SEED"), absl::string_view::npos);
  auto symbols = LoadApiConfig(Required({{"POLLING_MAX_SYMBOLS", "many"}}));
  ASSERT_FALSE(symbols.ok());
  EXPECT_EQ(symbols.status().message(),
            "POLLING_MAX_SYMBOLS=\"many\" is not an integer between 1 and 1000");
  auto url = LoadApiConfig(Required({{"FINNHUB_BASE_URL", "finnhub.io"}}));
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().message(),
            "FINNHUB_BASE_URL=\"finnhub.io\" must start with http:// or https://");
}

TEST(ApiConfigTest, MinIntervalMustNotExceedMaxInterval) {
  auto config =
      LoadApiConfig(Required({{"POLLING_MIN_INTERVAL", "60"}, {"POLLING_MAX_INTERVAL", "10"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "POLLING_MIN_INTERVAL must not be greater than POLLING_MAX_INTERVAL");
}

TEST(ApiConfigTest, ProviderFlagsAreKnown) {
  char prog[] = "mds-api";
  char url[] = "--database-url=postgresql://h/db";
  char kafka[] = "--kafka-bootstrap-servers=h:9092";
  char rate[] = "--finnhub-rate-limit-per-minute=7";
  char unknown[] = "--polling-max-symbol=5";
  char* argv[] = {prog, url, kafka, rate};
  auto config = LoadApiConfig(Settings::FromProcess(4, argv));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->providers.network.at("finnhub").per_minute, 7);
  char* bad_argv[] = {prog, url, kafka, unknown};
  auto bad = LoadApiConfig(Settings::FromProcess(4, bad_argv));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--polling-max-symbol "), absl::string_view::npos);
}

TEST(ApiConfigTest, NoSettingIsListedTwice) {
  std::set<std::string> seen;
  for (const SettingDoc& doc : ApiSettings().Docs()) {
    EXPECT_TRUE(seen.insert(doc.name).second) << doc.name << " is listed twice";
  }
}

TEST(ApiConfigTest, EveryRowHasAOneLineMeaning) {
  for (const SettingDoc& doc : ApiSettings().Docs()) {
    EXPECT_FALSE(doc.meaning.empty()) << doc.name;
    EXPECT_EQ(doc.meaning.find('\n'), std::string::npos) << doc.name;
  }
}

TEST(ApiConfigTest, HelpListsTheRequiredSettingsAndEmptyDefaults) {
  const std::string help = ApiSettings().Help("mds-api");
  EXPECT_EQ(help.rfind("Usage: mds-api [--setting-name=value ...]\n", 0), 0u);
  EXPECT_NE(help.find("\n  DATABASE_URL  --database-url  (required)\n"), std::string::npos);
  EXPECT_NE(help.find("\n  DATABASE_POOL_SIZE  --database-pool-size  default: 16\n      "
                      "PostgreSQL sessions this process keeps open (1-256)\n"),
            std::string::npos);
  EXPECT_NE(help.find("\n  POLLING_INSTANCE_ID  --polling-instance-id  default: \"\"\n"),
            std::string::npos);
  EXPECT_NE(help.find("\n  TEST_PROVIDER_SEED  --test-provider-seed  default: \"\"\n"),
            std::string::npos);
}

}  // namespace
}  // namespace marketdata
