#include "services/consumer/consumer_config.h"

#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

Settings Required(std::map<std::string, std::string> more = {}) {
  more.emplace("DATABASE_URL", "postgresql://h/db");
  more.emplace("KAFKA_BOOTSTRAP_SERVERS", "h:9092");
  return Settings::FromMap(std::move(more));
}

TEST(ConsumerConfigTest, DefaultsApplyWhenOnlyRequiredSettingsAreGiven) {
  auto config = LoadConsumerConfig(Required());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "0.0.0.0:50052");
  EXPECT_EQ(config->metrics_listen, "0.0.0.0:9102");
  EXPECT_EQ(config->database.url, "postgresql://h/db");
  EXPECT_EQ(config->database.options.pool_size, 6u);
  EXPECT_EQ(config->database.options.statement_timeout, absl::Seconds(30));
  EXPECT_EQ(config->kafka.bootstrap_servers, "h:9092");
  EXPECT_EQ(config->kafka.topic, "price-events");
  EXPECT_EQ(config->kafka.dead_letter_topic, "price-events-dlq");
  EXPECT_EQ(config->kafka.group, "moving-average-consumer");
  EXPECT_EQ(config->windows, std::vector<int>{5});
  EXPECT_EQ(config->kafka.max_batch, 20000u);
  EXPECT_EQ(config->kafka.late_window, absl::Hours(24 * 7));
  EXPECT_EQ(config->max_open_streams, 10000);
  EXPECT_EQ(config->kafka.batch_wait, absl::Milliseconds(5));
  EXPECT_EQ(config->write_connections, 2);
  EXPECT_EQ(config->log.level, spdlog::level::info);
  EXPECT_EQ(config->log.format, LogFormat::kJson);
}

TEST(ConsumerConfigTest, ValuesAreRead) {
  auto config = LoadConsumerConfig(Required({{"MOVING_AVERAGE_WINDOWS", "20,5,20"},
                                             {"KAFKA_CONSUMER_BATCH_WAIT_MS", "0"},
                                             {"MOVING_AVERAGE_WRITE_CONNECTIONS", "8"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->windows, (std::vector<int>{20, 5}));
  EXPECT_EQ(config->kafka.batch_wait, absl::ZeroDuration());
  EXPECT_EQ(config->write_connections, 8);
}

// A static member by default, named after the host and the gRPC port, which a restart keeps.
TEST(ConsumerConfigTest, TheGroupInstanceIdIsTheHostAndPortUnlessSet) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  auto derived = LoadConsumerConfig(Required({{"MDS_CONSUMER_LISTEN", "0.0.0.0:15052"}}));
  ASSERT_TRUE(derived.ok()) << derived.status();
  EXPECT_EQ(derived->kafka.instance_id, std::string(host) + ":15052");
  auto named = LoadConsumerConfig(Required({{"KAFKA_CONSUMER_INSTANCE_ID", "consumer-0"}}));
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->kafka.instance_id, "consumer-0");
  // A port picked at start is not stable, and "none" asks for a dynamic member.
  auto picked = LoadConsumerConfig(Required({{"MDS_CONSUMER_LISTEN", "127.0.0.1:0"}}));
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->kafka.instance_id, "");
  auto none = LoadConsumerConfig(Required({{"KAFKA_CONSUMER_INSTANCE_ID", "none"}}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->kafka.instance_id, "");
}

TEST(ConsumerConfigTest, ReadUrlIsOptionalAndHasAPoolOfItsOwn) {
  auto plain = LoadConsumerConfig(Required());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->database.read_url, "");  // averages and bars read DATABASE_URL
  auto config = LoadConsumerConfig(Required({{"DATABASE_READ_URL", "postgresql://standby/db"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->database.read_url, "postgresql://standby/db");
  EXPECT_EQ(ReadPoolOptions(config->database).pool_size, 6u);  // DATABASE_POOL_SIZE's
  auto sized = LoadConsumerConfig(Required(
      {{"DATABASE_READ_URL", "postgresql://standby/db"}, {"DATABASE_READ_POOL_SIZE", "2"}}));
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_EQ(ReadPoolOptions(sized->database).pool_size, 2u);
}

TEST(ConsumerConfigTest, MissingKafkaIsNamed) {
  auto config = LoadConsumerConfig(Settings::FromMap({{"DATABASE_URL", "postgresql://h/db"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "KAFKA_BOOTSTRAP_SERVERS is required (environment variable or "
            "--kafka-bootstrap-servers)");
}

TEST(ConsumerConfigTest, BadValuesAreNamed) {
  auto windows = LoadConsumerConfig(Required({{"MOVING_AVERAGE_WINDOWS", "5,0"}}));
  ASSERT_FALSE(windows.ok());
  EXPECT_EQ(windows.status().message(),
            "MOVING_AVERAGE_WINDOWS=\"5,0\" must be a comma-separated list of integers between "
            "1 and 10000");
  auto writers = LoadConsumerConfig(Required({{"MOVING_AVERAGE_WRITE_CONNECTIONS", "65"}}));
  ASSERT_FALSE(writers.ok());
  EXPECT_EQ(writers.status().message(),
            "MOVING_AVERAGE_WRITE_CONNECTIONS=\"65\" is not an integer between 1 and 64");
}

TEST(ConsumerConfigTest, ApiOnlyFlagIsUnknown) {
  char prog[] = "mds-consumer";
  char url[] = "--database-url=postgresql://h/db";
  char kafka[] = "--kafka-bootstrap-servers=h:9092";
  char seed[] = "--test-provider-seed=1";
  char* argv[] = {prog, url, kafka, seed};
  auto config = LoadConsumerConfig(Settings::FromProcess(4, argv));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("--test-provider-seed"), absl::string_view::npos);
}

TEST(ConsumerConfigTest, NoSettingIsListedTwice) {
  std::set<std::string> seen;
  for (const SettingDoc& doc : ConsumerSettings().Docs()) {
    EXPECT_TRUE(seen.insert(doc.name).second) << doc.name << " is listed twice";
  }
}

TEST(ConsumerConfigTest, HelpListsEverySetting) {
  const std::string help = ConsumerSettings().Help("mds-consumer");
  EXPECT_EQ(help.rfind("Usage: mds-consumer [--setting-name=value ...]\n", 0), 0u);
  EXPECT_NE(help.find("\n  DATABASE_URL  --database-url  (required)\n"), std::string::npos);
  EXPECT_NE(help.find("\n  DATABASE_POOL_SIZE  --database-pool-size  default: 6\n"),
            std::string::npos);
  for (const SettingDoc& doc : ConsumerSettings().Docs()) {
    EXPECT_NE(help.find("\n  " + doc.name + "  " + Settings::FlagName(doc.name) + "  "),
              std::string::npos)
        << doc.name;
  }
}

}  // namespace
}  // namespace marketdata
