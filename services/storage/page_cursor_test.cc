#include "services/storage/page_cursor.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(PageCursorTest, RoundTrips) {
  const absl::Time t = absl::FromUnixMicros(1767225600123456);
  auto cursor = DecodePageCursor(EncodePageCursor(t, 42));
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->micros, 1767225600123456);
  EXPECT_EQ(cursor->id, 42);
}

TEST(PageCursorTest, RefusesWhatNoPageCouldEndAt) {
  for (const char* token : {"", "x", "1", "1.", ".1", "1.x", "1.2.3", "-1.-1",
                            // beyond the years 1-9999: PostgreSQL's arithmetic would overflow
                            "-9000000000000000000.1", "9223372036854775807.1",
                            "253402300800000000.1", "-62135596800000001.1",
                            // beyond int64
                            "99999999999999999999.1", "1.99999999999999999999"}) {
    auto cursor = DecodePageCursor(token);
    EXPECT_FALSE(cursor.ok()) << token;
    if (!cursor.ok()) {
      EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_TRUE(DecodePageCursor("253402300799999999.0").ok());
  EXPECT_TRUE(DecodePageCursor("-62135596800000000.7").ok());
}

}  // namespace
}  // namespace marketdata
