// DATABASE_URL may list several hosts, as libpq reads them: a pool connects to the first that
// answers and accepts writes, so that a list of a primary and its standbys reaches whichever is
// primary (with target_session_attrs=read-write), and a session dropped later reconnects the same
// way.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "services/storage/database.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::ScratchDatabase;

// The scratch URL with a host that refuses connections listed before the real one.
std::string WithDeadHostFirst(const std::string& url) {
  const size_t at = url.find('@');
  const size_t slash = url.find('/', at);
  const std::string host_port = url.substr(at + 1, slash - at - 1);
  const std::string list = absl::StrCat("127.0.0.1:1,", host_port);
  std::string out = url.substr(0, at + 1) + list + url.substr(slash);
  return absl::StrCat(out, out.find('?') == std::string::npos ? "?" : "&",
                      "target_session_attrs=read-write");
}

TEST(MultiHostTest, APoolReachesTheHostThatAnswersAndTakesWrites) {
  ScratchDatabase scratch;
  const std::string url = WithDeadHostFirst(scratch.url());
  ASSERT_NE(url.find("127.0.0.1:1,"), std::string::npos) << url;
  DatabaseOptions options;
  options.pool_size = 2;
  options.connect_wait = absl::Seconds(20);
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Connect(url, options);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<Database::Lease> lease = (*db)->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(lease->Exec("CREATE TABLE written (x int); INSERT INTO written VALUES (1)", "a write")
                  .ok());
  absl::StatusOr<PgResult> read = lease->Exec("SELECT count(*) FROM written", "a read");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->int64(0, 0), 1);
}

TEST(MultiHostTest, NoHostAnsweringIsUnavailableNamingTheListWithoutThePassword) {
  ScratchDatabase scratch;
  std::string url = WithDeadHostFirst(scratch.url());
  const size_t at = url.find('@');
  url = absl::StrCat(url.substr(0, at + 1), "127.0.0.1:1,127.0.0.1:2",
                     url.substr(url.find('/', at)));
  DatabaseOptions options;
  options.pool_size = 1;
  options.connect_wait = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Connect(url, options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
  EXPECT_NE(db.status().message().find("127.0.0.1:1,127.0.0.1:2"), std::string::npos)
      << db.status();
  // postgresql://user:password@...: the password is not in the message.
  const size_t colon = url.find(':', url.find("//") + 2);
  const std::string password = url.substr(colon + 1, at - colon - 1);
  if (!password.empty()) {
    EXPECT_EQ(db.status().message().find(":" + password + "@"), std::string::npos) << db.status();
  }
}

}  // namespace
}  // namespace marketdata
