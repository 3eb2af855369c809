// `mds-api migrate` as a deployment runs it (a Kubernetes Job): the real binary against a real
// PostgreSQL, with DATABASE_URL in its environment. migrate_command_test <path of mds-api>.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "services/storage/migrations.h"
#include "soci/soci.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

std::string g_binary;

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `mds-api migrate` with DATABASE_URL set to `url` and nothing else from the test's
// environment that mds-api reads.
Outcome RunMigrate(const std::string& url) {
  const std::string command =
      "env -i PATH=/usr/bin:/bin DATABASE_URL='" + url + "' '" + g_binary + "' migrate 2>&1";
  Outcome outcome;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return outcome;
  std::array<char, 4096> buffer;
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    outcome.output.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

TEST(MigrateCommandTest, MigratesAnEmptyDatabaseOnceAndExits) {
  ScratchDatabase scratch;
  const auto& migrations = EmbeddedMigrations();
  const std::string latest = std::to_string(migrations.back().version);

  Outcome first = RunMigrate(scratch.url());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("applied " + std::to_string(migrations.size()) + " of " +
                              std::to_string(migrations.size()) +
                              " migrations; schema at version " + latest),
            std::string::npos)
      << first.output;

  Outcome second = RunMigrate(scratch.url());
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("no migration to apply"), std::string::npos) << second.output;

  auto db = Database::Connect(scratch.url(), 1, absl::Seconds(10));
  ASSERT_TRUE(db.ok()) << db.status();
  auto lease = MustAcquire(**db);
  long long recorded = 0;
  int newest = 0;
  *lease << "SELECT count(*), max(version) FROM schema_migrations", soci::into(recorded),
      soci::into(newest);
  EXPECT_EQ(recorded, static_cast<long long>(migrations.size()));
  EXPECT_EQ(newest, migrations.back().version);
}

TEST(MigrateCommandTest, AnUnreachableDatabaseFailsWithOneLine) {
  // Port 1 on the loopback: refused, and retried for 30 s as at any start, then given up.
  Outcome outcome = RunMigrate("postgresql://mds:secret@127.0.0.1:1/marketdata");
  EXPECT_EQ(outcome.exit_code, 1) << outcome.output;
  EXPECT_NE(outcome.output.find("migrate: "), std::string::npos) << outcome.output;
  EXPECT_EQ(outcome.output.find("secret"), std::string::npos) << outcome.output;
}

TEST(MigrateCommandTest, NoDatabaseUrlIsAnError) {
  Outcome outcome = RunMigrate("");
  EXPECT_EQ(outcome.exit_code, 1) << outcome.output;
  EXPECT_NE(outcome.output.find("DATABASE_URL"), std::string::npos) << outcome.output;
}

}  // namespace
}  // namespace marketdata

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <path of mds-api>\n", argv[0]);
    return 2;
  }
  marketdata::g_binary = argv[1];
  return RUN_ALL_TESTS();
}
