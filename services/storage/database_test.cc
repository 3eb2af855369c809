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

}  // namespace
}  // namespace marketdata
