#include "services/storage/sql_params.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(SqlParamsTest, ScalarsInTheTextFormsPostgresReads) {
  SqlParams p;
  p.Text("a\"b").Int(-42).Float(0.1).Time(absl::FromUnixMicros(1767225600123456)).Null()
      .OptionalFloat(std::nullopt).OptionalFloat(2.5).Bytes(std::string("\x01\xff", 2));
  const auto& v = p.values();
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(*v[0], "a\"b");
  EXPECT_EQ(*v[1], "-42");
  EXPECT_EQ(*v[2], "0.10000000000000001");  // every double exactly
  EXPECT_EQ(*v[3], "2026-01-01 00:00:00.123456+00");
  EXPECT_FALSE(v[4].has_value());
  EXPECT_FALSE(v[5].has_value());
  EXPECT_EQ(*v[6], "2.5");
  EXPECT_EQ(*v[7], "\\x01ff");
}

TEST(SqlParamsTest, ArraysAreLiteralsWithEveryElementQuoted) {
  SqlParams p;
  p.TextArray({"A", "with \"quotes\", commas {braces} and \\", ""})
      .IntArray({1, -2})
      .FloatArray({})
      .OptionalFloatArray({1.5, std::nullopt})
      .TimeArray({absl::UnixEpoch()})
      .OptionalTimeArray({std::nullopt, absl::UnixEpoch()});
  const auto& v = p.values();
  EXPECT_EQ(*v[0], R"({"A","with \"quotes\", commas {braces} and \\",""})");
  EXPECT_EQ(*v[1], "{1,-2}");
  EXPECT_EQ(*v[2], "{}");
  EXPECT_EQ(*v[3], "{1.5,NULL}");
  EXPECT_EQ(*v[4], R"({"1970-01-01 00:00:00.000000+00"})");
  EXPECT_EQ(*v[5], R"({NULL,"1970-01-01 00:00:00.000000+00"})");
}

TEST(SqlParamsTest, TimesReadBackAsPrinted) {
  EXPECT_EQ(*ParseSqlTime("2026-01-01 00:00:00.123456+00"), absl::FromUnixMicros(1767225600123456));
  EXPECT_EQ(*ParseSqlTime("2026-01-01 00:00:00+00"), absl::FromUnixSeconds(1767225600));
  EXPECT_EQ(*ParseSqlTime(SqlTimeText(absl::FromUnixMicros(-1))), absl::FromUnixMicros(-1));
  EXPECT_FALSE(ParseSqlTime("2026-01-01 00:00:00+01").ok());
  // Years before 1000 keep four digits, which is what PostgreSQL reads (and writes) as that year.
  const absl::Time year_56 = absl::FromCivil(absl::CivilSecond(56, 9, 22, 12, 19, 30),
                                             absl::UTCTimeZone());
  EXPECT_EQ(SqlTimeText(year_56), "0056-09-22 12:19:30.000000+00");
  EXPECT_EQ(*ParseSqlTime(SqlTimeText(year_56)), year_56);
  const absl::Time year_1 = absl::FromUnixSeconds(-62135596800);
  EXPECT_EQ(SqlTimeText(year_1), "0001-01-01 00:00:00.000000+00");
  EXPECT_FALSE(ParseSqlTime("yesterday").ok());
}

}  // namespace
}  // namespace marketdata
