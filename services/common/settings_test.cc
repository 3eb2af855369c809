#include "services/common/settings.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(SettingsTest, FlagOverridesEnvironment) {
  char prog[] = "prog";
  char flag[] = "--default-provider=finnhub";
  char* argv[] = {prog, flag};
  setenv("DEFAULT_PROVIDER", "test", 1);
  Settings s = Settings::FromProcess(2, argv);
  EXPECT_EQ(s.GetString("DEFAULT_PROVIDER", "x"), "finnhub");
  EXPECT_TRUE(s.Validate().ok());
}

TEST(SettingsTest, UnknownFlagIsReportedByName) {
  char prog[] = "prog";
  char flag[] = "--no-such-setting=1";
  char* argv[] = {prog, flag};
  Settings s = Settings::FromProcess(2, argv);
  absl::Status status = s.Validate();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("--no-such-setting"), absl::string_view::npos);
}

TEST(SettingsTest, BadIntegerNamesTheSetting) {
  Settings s = Settings::FromMap({{"POLLING_MAX_SYMBOLS", "many"}});
  auto value = s.GetInt("POLLING_MAX_SYMBOLS", 50, 1, 1000);
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.status().message().find("POLLING_MAX_SYMBOLS"), absl::string_view::npos);
}

TEST(SettingsTest, IntegerOutOfRangeIsAnError) {
  Settings s = Settings::FromMap({{"N", "0"}});
  EXPECT_FALSE(s.GetInt("N", 5, 1, 10).ok());
  EXPECT_EQ(*s.GetInt("MISSING", 5, 1, 10), 5);
}

TEST(SettingsTest, MissingRequiredSettingNamesIt) {
  Settings s = Settings::FromMap({});
  auto value = s.GetRequiredString("DATABASE_URL");
  ASSERT_FALSE(value.ok());
  EXPECT_NE(value.status().message().find("DATABASE_URL"), absl::string_view::npos);
  EXPECT_NE(value.status().message().find("--database-url"), absl::string_view::npos);
}

TEST(SettingsTest, IntListIsParsedAndDeduplicated) {
  Settings s = Settings::FromMap({{"MOVING_AVERAGE_WINDOWS", "5, 20,50,5"}});
  auto windows = s.GetIntList("MOVING_AVERAGE_WINDOWS", "5", 1, 1000);
  ASSERT_TRUE(windows.ok());
  EXPECT_EQ(*windows, (std::vector<int>{5, 20, 50}));
  Settings bad = Settings::FromMap({{"MOVING_AVERAGE_WINDOWS", "5,x"}});
  EXPECT_FALSE(bad.GetIntList("MOVING_AVERAGE_WINDOWS", "5", 1, 1000).ok());
}

}  // namespace
}  // namespace marketdata
