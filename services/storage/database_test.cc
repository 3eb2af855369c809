#include "services/storage/database.h"

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(ToConnectStringTest, ConvertsUrlToKeywords) {
  EXPECT_EQ(*ToConnectString("postgresql://mds:secret@127.0.0.1:55432/marketdata"),
            "user='mds' password='secret' host='127.0.0.1' port=55432 dbname='marketdata'");
  EXPECT_EQ(*ToConnectString("postgres://localhost/db?sslmode=disable"),
            "host='localhost' dbname='db' sslmode='disable'");
  EXPECT_EQ(*ToConnectString("postgresql://u:p%40ss@[::1]:5432/d"),
            "user='u' password='p@ss' host='::1' port=5432 dbname='d'");
}

TEST(ToConnectStringTest, KeywordFormPassesThrough) {
  EXPECT_EQ(*ToConnectString("dbname=x host=y"), "dbname=x host=y");
}

TEST(ToConnectStringTest, RejectsGarbage) {
  EXPECT_FALSE(ToConnectString("mysql://x").ok());
  EXPECT_FALSE(ToConnectString("postgresql://h:notaport/db").ok());
}

TEST(ToConnectStringTest, AListOfHostsBecomesLibpqsListsOfHostsAndPorts) {
  EXPECT_EQ(*ToConnectString("postgresql://u:p@h1:5432,h2:5433/db?target_session_attrs=any"),
            "user='u' password='p' host='h1,h2' port='5432,5433' dbname='db' "
            "target_session_attrs='any'");
  // A host without a port takes the default one: an empty entry of the port list.
  EXPECT_EQ(*ToConnectString("postgresql://h1,h2:5433/db"), "host='h1,h2' port=',5433' dbname='db'");
  EXPECT_EQ(*ToConnectString("postgresql://h1,h2/db"), "host='h1,h2' dbname='db'");
  EXPECT_EQ(*ToConnectString("postgresql://[::1]:5432,[::2]/db"),
            "host='::1,::2' port='5432,' dbname='db'");
  EXPECT_FALSE(ToConnectString("postgresql://h1:5432,h2:x/db").ok());
}

TEST(ToConnectStringTest, ErrorsNameTheSetting) {
  absl::StatusOr<std::string> bad = ToConnectString("mysql://x", "DATABASE_READ_URL");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("DATABASE_READ_URL ", 0), 0u) << bad.status();
  bad = ToConnectString("postgresql://h:0/db", "DATABASE_READ_URL");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("DATABASE_READ_URL ", 0), 0u) << bad.status();
  EXPECT_EQ(ToConnectString("mysql://x").status().message().rfind("DATABASE_URL ", 0), 0u);
}

// Port 1 on the loopback interface refuses connections at once.
constexpr char kDeadUrl[] = "postgresql://mds:secret-pw@127.0.0.1:1/marketdata";

TEST(ConnectLazilyTest, APoolWhoseServerIsDownStartsAndItsCallsFailUnavailableNamingIt) {
  DatabaseOptions options;
  options.pool_size = 2;
  options.setting = "DATABASE_READ_URL";
  options.pool_wait = absl::Milliseconds(100);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<Database>> db = Database::ConnectLazily(kDeadUrl, options);
  ASSERT_TRUE(db.ok()) << db.status();
  for (int i = 0; i < 3; ++i) {  // more calls than sessions: each is given back
    absl::StatusOr<Database::Lease> lease = (*db)->Acquire();
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.status().code(), absl::StatusCode::kUnavailable);
    // Clients learn the setting, not the server's address nor its user.
    EXPECT_EQ(lease.status().message(),
              "database unavailable: cannot connect to the server of DATABASE_READ_URL");
    EXPECT_EQ(lease.status().message().find("secret-pw"), absl::string_view::npos);
  }
  // A refused connection is known at once: nothing waited for a timeout.
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ((*db)->pool_stats().in_use, 0u);
}

TEST(ConnectLazilyTest, AMalformedUrlFailsNamingTheSetting) {
  DatabaseOptions options;
  options.setting = "DATABASE_READ_URL";
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::ConnectLazily("postgresql://h:notaport/db", options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(db.status().message().find("DATABASE_READ_URL"), absl::string_view::npos);
}

TEST(ConnectTest, GivingUpNamesTheSettingAndTheUrlWithoutItsPassword) {
  DatabaseOptions options;
  options.pool_size = 1;
  options.connect_wait = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Connect(kDeadUrl, options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(db.status().message().rfind(
                "cannot connect to DATABASE_URL=postgresql://mds:***@127.0.0.1:1/marketdata: ", 0),
            0u)
      << db.status();
  EXPECT_EQ(db.status().message().find("secret-pw"), absl::string_view::npos);
}

TEST(RedactDatabaseUrlTest, HidesPassword) {
  EXPECT_EQ(RedactDatabaseUrl("postgresql://mds:secret@h:1/db"), "postgresql://mds:***@h:1/db");
  EXPECT_EQ(RedactDatabaseUrl("postgresql://h:1/db"), "postgresql://h:1/db");
}

TEST(StatusFromSqlStateTest, ClassifiesBySqlStateNotByMessage) {
  auto code = [](absl::string_view state, bool connection_ok = true) {
    return StatusFromSqlState("doing it", state, "connection refused", connection_ok).code();
  };
  EXPECT_EQ(code("08006"), absl::StatusCode::kUnavailable);   // connection failure
  EXPECT_EQ(code("57P01"), absl::StatusCode::kUnavailable);   // admin shutdown
  EXPECT_EQ(code("53300"), absl::StatusCode::kUnavailable);   // too many connections
  EXPECT_EQ(code("40P01"), absl::StatusCode::kUnavailable);   // deadlock: retry
  EXPECT_EQ(code("57014"), absl::StatusCode::kDeadlineExceeded);  // statement_timeout
  EXPECT_EQ(code("23505"), absl::StatusCode::kAlreadyExists);
  // The message text says "connection", but a syntax error is our bug, not an outage.
  EXPECT_EQ(code("42601"), absl::StatusCode::kInternal);
  EXPECT_EQ(code("22P02"), absl::StatusCode::kInternal);
  // No answer from the server at all.
  EXPECT_EQ(code("", false), absl::StatusCode::kUnavailable);
}

TEST(StatusFromSqlStateTest, MessageNamesTheWorkNotTheServerText) {
  absl::Status s = StatusFromSqlState("saving prices", "08006",
                                      "could not connect to 10.1.2.3:5432", true);
  EXPECT_NE(s.message().find("saving prices"), absl::string_view::npos);
  EXPECT_EQ(s.message().find("10.1.2.3"), absl::string_view::npos);
}

}  // namespace
}  // namespace marketdata
