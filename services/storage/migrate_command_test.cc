#include "services/storage/migrate_command.h"

#include <sstream>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace marketdata {
namespace {

const std::vector<Migration> kMigrations = {
    {1, "0001_initial", "CREATE TABLE a (x int)"},
    {2, "0002_more", "CREATE TABLE b (y int)"},
};

class MigrateCommandTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return RunMigrateCommand(args, kMigrations, apply_, out_, err_);
  }
  // Applies what the fake database lacks, as ApplyMigrations does.
  ApplyMigrationsFn apply_ = [this](const std::vector<Migration>& migrations)
      -> absl::StatusOr<int> {
    ++calls_;
    if (!failure_.ok()) return failure_;
    int applied = 0;
    for (const Migration& m : migrations) {
      if (m.version > version_) {
        version_ = m.version;
        ++applied;
      }
    }
    return applied;
  };
  int version_ = 0;
  int calls_ = 0;
  absl::Status failure_;
  std::ostringstream out_, err_;
};

TEST_F(MigrateCommandTest, AppliesWhatIsMissingThenReportsNothingToDo) {
  version_ = 1;
  ASSERT_EQ(Run({}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "applied 1 of 2 migrations; schema at version 2 (0002_more)\n");
  EXPECT_EQ(version_, 2);
  ASSERT_EQ(Run({}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "no migration to apply; schema at version 2 (0002_more)\n");
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(MigrateCommandTest, ToAVersionAppliesNoFurther) {
  ASSERT_EQ(Run({"--to", "1"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "applied 1 of 1 migrations; schema at version 1 (0001_initial)\n");
  EXPECT_EQ(version_, 1);
  EXPECT_EQ(Run({"--to", "7"}), 2);
  EXPECT_NE(err_.str().find("no migration has version 7"), std::string::npos);
  EXPECT_EQ(Run({"--to", "x"}), 2);
  EXPECT_EQ(Run({"--to"}), 2);
  EXPECT_EQ(version_, 1);
}

TEST_F(MigrateCommandTest, AFailureIsExitCodeOneWithTheReason) {
  failure_ = absl::UnavailableError("cannot connect to PostgreSQL at db:5432");
  EXPECT_EQ(Run({}), 1);
  EXPECT_EQ(err_.str(), "migrate: cannot connect to PostgreSQL at db:5432\n");
  EXPECT_EQ(out_.str(), "");
  failure_ = absl::InternalError("migration 0002_more failed: syntax error");
  EXPECT_EQ(Run({}), 1);
  EXPECT_NE(err_.str().find("0002_more failed"), std::string::npos) << err_.str();
}

TEST_F(MigrateCommandTest, HelpAndBadUsageNeverTouchTheDatabase) {
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_NE(out_.str().find("usage: migrate"), std::string::npos);
  EXPECT_EQ(Run({"now"}), 2);
  EXPECT_NE(err_.str().find("unexpected argument now"), std::string::npos);
  EXPECT_NE(err_.str().find("usage: migrate"), std::string::npos);
  EXPECT_EQ(Run({"--help", "extra"}), 2);
  EXPECT_EQ(calls_, 0);
}

}  // namespace
}  // namespace marketdata
