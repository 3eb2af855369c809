#include "services/process/process.h"

#include <signal.h>

#include <atomic>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

struct TestConfig {
  std::string name;
  LogSettings log;
};

const SettingTable<TestConfig>& TestSettings() {
  static const auto* const kTable = new SettingTable<TestConfig>({
      StringSetting("TEST_NAME", "x", &TestConfig::name, "a name"),
      EmbeddedSettings(&TestConfig::log, LogSettingsTable()),
  });
  return *kTable;
}

absl::StatusOr<TestConfig> LoadTestConfig(const Settings& settings) {
  return TestSettings().Load(settings);
}

TEST(ShutdownSequenceTest, RunsEveryStepOnceInTheOrderGiven) {
  std::vector<std::string> ran;
  ShutdownSequence sequence;
  sequence.Then([&ran] { ran.push_back("hubs"); });
  sequence.Then([&ran] { ran.push_back("server"); });
  sequence.Then([&ran] { ran.push_back("writer"); });
  sequence.Run();
  EXPECT_EQ(ran, (std::vector<std::string>{"hubs", "server", "writer"}));
  sequence.Then([&ran] { ran.push_back("late"); });
  sequence.Run();
  EXPECT_EQ(ran, (std::vector<std::string>{"hubs", "server", "writer", "late"}));
}

TEST(ProcessTest, HelpIsAnsweredWithoutLoading) {
  char prog[] = "mds-test";
  char help[] = "--help";
  char* argv[] = {prog, help};
  Process process("mds-test");
  testing::internal::CaptureStdout();
  const std::optional<TestConfig> config =
      process.Configure(2, argv, TestSettings(), LoadTestConfig);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_FALSE(config.has_value());
  EXPECT_EQ(out, TestSettings().Help("mds-test"));
}

TEST(ProcessTest, BadSettingExitsNamingIt) {
  char prog[] = "mds-test";
  char flag[] = "--no-such-setting=1";
  char* argv[] = {prog, flag};
  EXPECT_EXIT(
      {
        Process process("mds-test");
        process.Configure(2, argv, TestSettings(), LoadTestConfig);
      },
      testing::ExitedWithCode(2), "mds-test: .*--no-such-setting");
}

// The whole life of a process without servers: configured, health watched, metrics off, and a
// SIGTERM (pending while blocked) runs the stop steps in their order.
TEST(ProcessTest, TerminationSignalRunsTheStopStepsInOrder) {
  char prog[] = "mds-test";
  char name[] = "--test-name=y";
  char* argv[] = {prog, name};
  Process process("mds-test");
  const std::optional<TestConfig> config =
      process.Configure(2, argv, TestSettings(), LoadTestConfig);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->name, "y");

  std::atomic<int> probes{0};
  process.WatchHealth({{"dependency", [&probes] {
                          ++probes;
                          return absl::OkStatus();
                        }}});
  process.ExportMetrics("off", [](MetricsExporter&) { FAIL() << "metrics are off"; });
  std::vector<std::string> ran;
  process.OnShutdown([&ran, &probes] {
    ran.push_back("first");
    const int seen = probes.load();
    absl::SleepFor(absl::Milliseconds(1100));
    // The health checks stopped before the first step.
    EXPECT_EQ(probes.load(), seen);
  });
  process.OnShutdown([&ran] { ran.push_back("second"); });
  process.OnShutdown([&ran] { ran.push_back("third"); });

  ASSERT_EQ(kill(getpid(), SIGTERM), 0);  // blocked by Configure: waits for sigwait
  EXPECT_EQ(process.WaitAndShutdown(), 0);
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_GE(probes.load(), 1);
}

}  // namespace
}  // namespace marketdata
