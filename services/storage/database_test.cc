#include "services/storage/database.h"

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
