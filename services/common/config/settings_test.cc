#include "services/common/config/settings.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/config/settings_table.h"

namespace marketdata {
namespace {

struct Nested {
  std::string token;
  int retries = 0;
};

struct Config {
  std::string url;
  std::string provider;
  std::string prefix;
  int pool = 0;
  int64_t big = 0;
  double rate = 0;
  std::vector<int> windows;
  std::optional<uint64_t> seed;
  Nested nested;
};

const SettingTable<Nested>& NestedTable() {
  static const auto* const kTable = new SettingTable<Nested>({
      StringSetting("NESTED_TOKEN", "t", &Nested::token, "a token"),
      IntSetting("NESTED_RETRIES", 2, 0, 10, &Nested::retries, "retries"),
  });
  return *kTable;
}

const SettingTable<Config>& Table() {
  static const auto* const kTable = new SettingTable<Config>({
      RequiredStringSetting("DATABASE_URL", &Config::url, "PostgreSQL connection"),
      StringSetting("DEFAULT_PROVIDER", "test", &Config::provider, "provider used by default"),
      StringSetting("NAME_PREFIX", "", &Config::prefix, "prepended to names"),
      IntSetting("DATABASE_POOL_SIZE", 16, 1, 256, &Config::pool, "PostgreSQL sessions"),
      IntSetting("BIG_NUMBER", 5000000000, 0, 10000000000, &Config::big, "a large count"),
      DoubleSetting("RATE_PER_MINUTE", 60, 0.001, 1e6, &Config::rate, "calls a minute"),
      IntListSetting("MOVING_AVERAGE_WINDOWS", "5", 1, 10000, &Config::windows, "windows"),
      CustomSetting<Config>(
          "TEST_PROVIDER_SEED", "",
          [](const std::string& name, const std::string& value, Config& config) {
            if (value.empty()) return absl::OkStatus();
            absl::StatusOr<int64_t> seed = ParseIntSetting(name, value, 0, 1000);
            if (!seed.ok()) return seed.status();
            config.seed = static_cast<uint64_t>(*seed);
            return absl::OkStatus();
          },
          "unset: random"),
      EmbeddedSettings(&Config::nested, NestedTable()),
  });
  return *kTable;
}

Settings FromArgs(std::vector<std::string> args) {
  std::vector<char*> argv;
  static char prog[] = "prog";
  argv.push_back(prog);
  for (std::string& arg : args) argv.push_back(arg.data());
  return Settings::FromProcess(static_cast<int>(argv.size()), argv.data());
}

absl::Status LoadError(std::map<std::string, std::string> values) {
  return Table().Load(Settings::FromMap(std::move(values))).status();
}

TEST(SettingsTest, FlagOverridesEnvironment) {
  setenv("DEFAULT_PROVIDER", "test", 1);
  Settings s = FromArgs({"--default-provider=finnhub"});
  EXPECT_EQ(s.Find("DEFAULT_PROVIDER"), "finnhub");
  unsetenv("DEFAULT_PROVIDER");
}

TEST(SettingsTest, EmptyEnvironmentValueIsUnset) {
  Settings s = Settings::FromMap({{"DEFAULT_PROVIDER", ""}});
  EXPECT_EQ(s.Find("DEFAULT_PROVIDER"), std::nullopt);
}

TEST(SettingsTest, HelpIsRequestedByHelpOrH) {
  EXPECT_FALSE(FromArgs({}).HelpRequested());
  EXPECT_FALSE(FromArgs({"--default-provider=x"}).HelpRequested());
  for (const char* arg : {"--help", "-h"}) {
    Settings s = FromArgs({arg});
    EXPECT_TRUE(s.HelpRequested()) << arg;
    // Not a bad flag: a caller that loads anyway is not told about it.
    EXPECT_TRUE(s.CheckFlags({}).ok()) << arg;
  }
}

TEST(SettingsTest, FlagName) {
  EXPECT_EQ(Settings::FlagName("DATABASE_URL"), "--database-url");
}

TEST(SettingTableTest, DefaultsApplyWhenOnlyRequiredSettingsAreGiven) {
  absl::StatusOr<Config> config =
      Table().Load(Settings::FromMap({{"DATABASE_URL", "postgresql://h/db"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->url, "postgresql://h/db");
  EXPECT_EQ(config->provider, "test");
  EXPECT_EQ(config->prefix, "");
  EXPECT_EQ(config->pool, 16);
  EXPECT_EQ(config->big, 5000000000);
  EXPECT_EQ(config->rate, 60);
  EXPECT_EQ(config->windows, std::vector<int>{5});
  EXPECT_EQ(config->seed, std::nullopt);
  EXPECT_EQ(config->nested.token, "t");
  EXPECT_EQ(config->nested.retries, 2);
}

TEST(SettingTableTest, ValuesAndFlagsAreApplied) {
  setenv("DATABASE_URL", "postgresql://env/db", 1);
  setenv("DATABASE_POOL_SIZE", "8", 1);
  setenv("DEFAULT_PROVIDER", "", 1);  // empty: the default
  Settings settings = FromArgs({"--database-pool-size=32", "--rate-per-minute=0.5",
                                "--moving-average-windows=5, 20,50,5", "--test-provider-seed=42",
                                "--nested-retries=0", "--nested-token=abc"});
  unsetenv("DATABASE_URL");
  unsetenv("DATABASE_POOL_SIZE");
  unsetenv("DEFAULT_PROVIDER");
  absl::StatusOr<Config> config = Table().Load(settings);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->url, "postgresql://env/db");
  EXPECT_EQ(config->provider, "test");
  EXPECT_EQ(config->pool, 32);
  EXPECT_EQ(config->rate, 0.5);
  EXPECT_EQ(config->windows, (std::vector<int>{5, 20, 50}));
  EXPECT_EQ(config->seed, 42u);
  EXPECT_EQ(config->nested.retries, 0);
  EXPECT_EQ(config->nested.token, "abc");
}

TEST(SettingTableTest, MissingRequiredSettingNamesItAndItsFlag) {
  EXPECT_EQ(LoadError({}).message(),
            "DATABASE_URL is required (environment variable or --database-url)");
  EXPECT_EQ(LoadError({{"DATABASE_URL", ""}}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeyValueSettingTest, ParsesPairsSeparatedBySemicolons) {
  absl::StatusOr<std::map<std::string, std::string>> parsed = ParseKeyValueSetting(
      "KAFKA_CONFIG", " security.protocol=SASL_SSL; sasl.password=a=b;;ssl.ca.location = /x ");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (std::map<std::string, std::string>{{"security.protocol", "SASL_SSL"},
                                                          {"sasl.password", "a=b"},
                                                          {"ssl.ca.location", "/x"}}));
  EXPECT_TRUE(ParseKeyValueSetting("KAFKA_CONFIG", "")->empty());
}

TEST(KeyValueSettingTest, ABadPartFailsWithoutEchoingIt) {
  absl::Status bad = ParseKeyValueSetting("KAFKA_CONFIG", "a=1;secretvalue").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("KAFKA_CONFIG: part 2"), std::string::npos) << bad;
  EXPECT_EQ(bad.message().find("secretvalue"), std::string::npos);
  EXPECT_FALSE(ParseKeyValueSetting("KAFKA_CONFIG", "=1").ok());
}

TEST(SettingTableTest, BadValuesNameTheSetting) {
  const std::string url = "postgresql://h/db";
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"DATABASE_POOL_SIZE", "many"}}).message(),
            "DATABASE_POOL_SIZE=\"many\" is not an integer between 1 and 256");
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"DATABASE_POOL_SIZE", "0"}}).message(),
            "DATABASE_POOL_SIZE=\"0\" is not an integer between 1 and 256");
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"BIG_NUMBER", "10000000001"}}).message(),
            "BIG_NUMBER=\"10000000001\" is not an integer between 0 and 10000000000");
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"RATE_PER_MINUTE", "fast"}}).message(),
            "RATE_PER_MINUTE=\"fast\" is not a number between 0.001 and 1e+06");
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"RATE_PER_MINUTE", "nan"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"MOVING_AVERAGE_WINDOWS", "5,x"}}).message(),
            "MOVING_AVERAGE_WINDOWS=\"5,x\" must be a comma-separated list of integers between 1 "
            "and 10000");
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"MOVING_AVERAGE_WINDOWS", " , "}}).message(),
            "MOVING_AVERAGE_WINDOWS must not be empty");
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"TEST_PROVIDER_SEED", "-3"}}).message(),
            "TEST_PROVIDER_SEED=\"-3\" is not an integer between 0 and 1000");
  EXPECT_EQ(LoadError({{"DATABASE_URL", url}, {"NESTED_RETRIES", "11"}}).message(),
            "NESTED_RETRIES=\"11\" is not an integer between 0 and 10");
}

TEST(SettingTableTest, UnknownFlagIsReportedByName) {
  setenv("DATABASE_URL", "postgresql://env/db", 1);
  Settings settings = FromArgs({"--no-such-setting=1", "--database-pool-size=3", "stray"});
  unsetenv("DATABASE_URL");
  absl::StatusOr<Config> config = Table().Load(settings);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "unknown flag(s): stray, --no-such-setting (flags take the form "
            "--setting-name=value)");
}

TEST(SettingTableTest, UnknownFlagComesBeforeMissingRequiredSetting) {
  // A misspelt flag is why the setting it meant is missing.
  absl::StatusOr<Config> config = Table().Load(FromArgs({"--databse-url=postgresql://h/db"}));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("--databse-url"), absl::string_view::npos);
}

TEST(SettingTableTest, HelpListsEveryRowInOrder) {
  EXPECT_EQ(Table().Help("prog"),
            "Usage: prog [--setting-name=value ...]\n"
            "Every setting is read from its environment variable; a flag of the same name in "
            "kebab case overrides it.\n"
            "\n"
            "  DATABASE_URL  --database-url  (required)\n"
            "      PostgreSQL connection\n"
            "  DEFAULT_PROVIDER  --default-provider  default: test\n"
            "      provider used by default\n"
            "  NAME_PREFIX  --name-prefix  default: \"\"\n"
            "      prepended to names\n"
            "  DATABASE_POOL_SIZE  --database-pool-size  default: 16\n"
            "      PostgreSQL sessions (1-256)\n"
            "  BIG_NUMBER  --big-number  default: 5000000000\n"
            "      a large count (0-10000000000)\n"
            "  RATE_PER_MINUTE  --rate-per-minute  default: 60\n"
            "      calls a minute (0.001-1000000)\n"
            "  MOVING_AVERAGE_WINDOWS  --moving-average-windows  default: 5\n"
            "      windows (each 1-10000)\n"
            "  TEST_PROVIDER_SEED  --test-provider-seed  default: \"\"\n"
            "      unset: random\n"
            "  NESTED_TOKEN  --nested-token  default: t\n"
            "      a token\n"
            "  NESTED_RETRIES  --nested-retries  default: 2\n"
            "      retries (0-10)\n");
}

TEST(SettingTableTest, DocsFollowTableOrder) {
  std::vector<SettingDoc> docs = Table().Docs();
  ASSERT_EQ(docs.size(), 10u);
  EXPECT_EQ(docs.front().name, "DATABASE_URL");
  EXPECT_EQ(docs.front().default_value, std::nullopt);
  EXPECT_EQ(docs.back().name, "NESTED_RETRIES");
  EXPECT_EQ(docs.back().default_value, "2");
}

}  // namespace
}  // namespace marketdata
