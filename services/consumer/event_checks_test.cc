#include "services/consumer/event_checks.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace marketdata {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

v1::PriceEvent Valid() {
  v1::PriceEvent e;
  e.set_symbol("BRK.B");
  e.set_price(412.5);
  e.set_price_point_id(7);
  e.set_provider("test");
  ToProtoTimestamp(kNow - absl::Minutes(1), e.mutable_timestamp());
  return e;
}

void ExpectRefused(const v1::PriceEvent& e, const std::string& mentions) {
  absl::Status s = CheckPriceEvent(e, kNow);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find(mentions), absl::string_view::npos) << s;
}

TEST(CheckPriceEventTest, AcceptsAValidEvent) {
  EXPECT_TRUE(CheckPriceEvent(Valid(), kNow).ok());
  for (const std::string symbol : {"AAPL", "BTC-USD", "EURUSD=X", "^GSPC", "7203.T"}) {
    v1::PriceEvent e = Valid();
    e.set_symbol(symbol);
    EXPECT_TRUE(CheckPriceEvent(e, kNow).ok()) << symbol;
  }
}

// Anything outside the normalised alphabet would be written unescaped into the store's array
// literals; a symbol that only normalises to a valid one would be averaged apart from its points.
TEST(CheckPriceEventTest, RefusesSymbolsThatAreNotNormalised) {
  const std::vector<std::string> symbols = {
      "", "aapl", " AAPL", "AA\"PL", "A,B", "{A}", "A\\B", "-AB", "ABCDEFGHIJKLMNOP",
      std::string("A\0B", 3)};
  for (const std::string& symbol : symbols) {
    v1::PriceEvent e = Valid();
    e.set_symbol(symbol);
    ExpectRefused(e, "invalid symbol");
  }
}

TEST(CheckPriceEventTest, RefusesPricesThatAreNotFinitePositive) {
  for (double price : {std::nan(""), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity(), -1.0, 0.0, -0.0}) {
    v1::PriceEvent e = Valid();
    e.set_price(price);
    ExpectRefused(e, "invalid price");
  }
}

TEST(CheckPriceEventTest, AVolumeIsOptionalButMustBeFiniteAndNotNegative) {
  v1::PriceEvent e = Valid();
  e.set_volume(0);
  EXPECT_TRUE(CheckPriceEvent(e, kNow).ok());
  e.set_volume(1500);
  EXPECT_TRUE(CheckPriceEvent(e, kNow).ok());
  for (double bad : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    e.set_volume(bad);
    EXPECT_EQ(CheckPriceEvent(e, kNow).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CheckPriceEventTest, RefusesAMissingPricePointId) {
  for (int64_t id : {0, -1}) {
    v1::PriceEvent e = Valid();
    e.set_price_point_id(id);
    ExpectRefused(e, "price_point_id");
  }
}

TEST(CheckPriceEventTest, RefusesTimestampsOutsideYearsOneToNineThousandNineHundredNinetyNine) {
  v1::PriceEvent e = Valid();
  e.clear_timestamp();
  ExpectRefused(e, "missing timestamp");

  e = Valid();
  e.mutable_timestamp()->set_seconds(-62135596801);  // 0000-12-31T23:59:59Z
  ExpectRefused(e, "out of range");
  e.mutable_timestamp()->set_seconds(253402300800);  // 10000-01-01T00:00:00Z
  ExpectRefused(e, "out of range");
  e = Valid();
  e.mutable_timestamp()->set_nanos(-1);
  ExpectRefused(e, "out of range");
  e.mutable_timestamp()->set_nanos(1000000000);
  ExpectRefused(e, "out of range");

  // The first instant of year 1 is a valid (if odd) timestamp.
  e = Valid();
  e.mutable_timestamp()->set_seconds(-62135596800);
  e.mutable_timestamp()->set_nanos(0);
  EXPECT_TRUE(CheckPriceEvent(e, kNow).ok());
}

TEST(CheckPriceEventTest, RefusesTimestampsMoreThanADayAhead) {
  v1::PriceEvent e = Valid();
  ToProtoTimestamp(kNow + absl::Hours(24), e.mutable_timestamp());
  EXPECT_TRUE(CheckPriceEvent(e, kNow).ok());
  ToProtoTimestamp(kNow + absl::Hours(24) + absl::Microseconds(1), e.mutable_timestamp());
  ExpectRefused(e, "in the future");
  // The last representable instant, which is in range but far ahead.
  e.mutable_timestamp()->set_seconds(253402300799);
  e.mutable_timestamp()->set_nanos(999999999);
  ExpectRefused(e, "in the future");
}

}  // namespace
}  // namespace marketdata
