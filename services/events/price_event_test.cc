#include "services/events/price_event.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/grpc/proto_time.h"
#include "services/domain/test_prices.h"

namespace marketdata {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

// A price whose raw reply id differs from its price point id, so the two cannot be mixed up.
StoredPrice Price(const std::string& symbol, int64_t id, double price) {
  StoredPrice p = TestPrice(symbol, id, price, kNow - absl::Minutes(1));
  p.raw_response_id = id + 1000;
  return p;
}

v1::PriceEvent Valid() { return ToPriceEvent(Price("BRK.B", 7, 412.5)); }

absl::StatusOr<StoredPrice> Decode(const v1::PriceEvent& e) {
  return DecodePriceEvent(e.SerializeAsString(), kPriceEventContentType, kNow);
}

void ExpectRefused(const v1::PriceEvent& e, const std::string& mentions) {
  absl::Status s = Decode(e).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find(mentions), absl::string_view::npos) << s;
}

TEST(PriceEventTest, CarriesEveryField) {
  StoredPrice p = Price("AAPL", 7, 180.25);
  p.quote.volume = 300;
  v1::PriceEvent e = ToPriceEvent(p);
  EXPECT_EQ(e.symbol(), "AAPL");
  EXPECT_EQ(e.price(), 180.25);
  EXPECT_EQ(e.provider(), "test");
  EXPECT_EQ(e.price_point_id(), 7);
  EXPECT_EQ(e.raw_response_id(), 1007);
  EXPECT_EQ(e.timestamp().seconds(), 1700000000 - 60);
  EXPECT_EQ(e.volume(), 300);
}

TEST(DecodePriceEventTest, GivesBackThePriceThatWasEncoded) {
  StoredPrice p = Price("AAPL", 7, 180.25);
  p.quote.timestamp += absl::Microseconds(123456);
  p.quote.volume = 42;
  absl::StatusOr<StoredPrice> back = DecodePriceEvent(EncodePriceEvent(p), "", kNow);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->quote.symbol, "AAPL");
  EXPECT_EQ(back->quote.price, 180.25);
  EXPECT_EQ(back->quote.timestamp, p.quote.timestamp);
  EXPECT_EQ(back->quote.provider, "test");
  EXPECT_EQ(back->quote.volume, 42);
  EXPECT_EQ(back->price_point_id, 7);
  EXPECT_EQ(back->raw_response_id, 1007);
  p.quote.volume.reset();
  back = DecodePriceEvent(EncodePriceEvent(p), "", kNow);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->quote.volume.has_value());
}

TEST(DecodePriceEventTest, RefusesOtherContentTypesAndGarbage) {
  const std::string good = EncodePriceEvent(Price("AAPL", 1, 180));
  EXPECT_TRUE(DecodePriceEvent(good, "application/x-protobuf", kNow).ok());
  EXPECT_TRUE(DecodePriceEvent(good, "", kNow).ok());
  absl::Status json = DecodePriceEvent(good, "application/json", kNow).status();
  EXPECT_NE(json.message().find("unsupported content-type"), absl::string_view::npos) << json;
  EXPECT_FALSE(DecodePriceEvent("\xff\xff\xff garbage", "", kNow).ok());
  EXPECT_FALSE(DecodePriceEvent("", "", kNow).ok());  // empty message: no symbol
}

TEST(DecodePriceEventTest, AcceptsNormalisedSymbols) {
  EXPECT_TRUE(Decode(Valid()).ok());
  for (const std::string symbol : {"AAPL", "BTC-USD", "EURUSD=X", "^GSPC", "7203.T"}) {
    v1::PriceEvent e = Valid();
    e.set_symbol(symbol);
    EXPECT_TRUE(Decode(e).ok()) << symbol;
  }
}

// Anything outside the normalised alphabet would be written unescaped into the store's array
// literals; a symbol that only normalises to a valid one would be averaged apart from its points.
TEST(DecodePriceEventTest, RefusesSymbolsThatAreNotNormalised) {
  const std::vector<std::string> symbols = {
      "", "aapl", " AAPL", "AA\"PL", "A,B", "{A}", "A\\B", "-AB", "ABCDEFGHIJKLMNOP",
      std::string("A\0B", 3)};
  for (const std::string& symbol : symbols) {
    v1::PriceEvent e = Valid();
    e.set_symbol(symbol);
    ExpectRefused(e, "invalid symbol");
  }
}

TEST(DecodePriceEventTest, RefusesPricesThatAreNotFinitePositive) {
  for (double price : {std::nan(""), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity(), -1.0, 0.0, -0.0}) {
    v1::PriceEvent e = Valid();
    e.set_price(price);
    ExpectRefused(e, "invalid price");
  }
}

TEST(DecodePriceEventTest, AVolumeIsOptionalButMustBeFiniteAndNotNegative) {
  v1::PriceEvent e = Valid();
  e.set_volume(0);
  EXPECT_TRUE(Decode(e).ok());
  e.set_volume(1500);
  EXPECT_TRUE(Decode(e).ok());
  for (double bad : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    e.set_volume(bad);
    ExpectRefused(e, "invalid volume");
  }
}

TEST(DecodePriceEventTest, RefusesAMissingPricePointId) {
  for (int64_t id : {0, -1}) {
    v1::PriceEvent e = Valid();
    e.set_price_point_id(id);
    ExpectRefused(e, "price_point_id");
  }
}

// The rule quotes obey: after 1970-01-01T00:00:00Z, at most a day ahead.
TEST(DecodePriceEventTest, RefusesTimestampsMissingOrOutOfRange) {
  v1::PriceEvent e = Valid();
  e.clear_timestamp();
  ExpectRefused(e, "missing timestamp");
  for (int64_t seconds : {int64_t{0}, int64_t{-1}, int64_t{-62135596800},
                          int64_t{253402300800}}) {
    e = Valid();
    e.mutable_timestamp()->set_seconds(seconds);
    ExpectRefused(e, "out of range");
  }
  e = Valid();
  e.mutable_timestamp()->set_nanos(-1);
  ExpectRefused(e, "out of range");
  e.mutable_timestamp()->set_nanos(1000000000);
  ExpectRefused(e, "out of range");
  e = Valid();
  e.mutable_timestamp()->set_seconds(1);
  EXPECT_TRUE(Decode(e).ok());
}

TEST(DecodePriceEventTest, RefusesTimestampsMoreThanADayAhead) {
  v1::PriceEvent e = Valid();
  ToProtoTimestamp(kNow + absl::Hours(24), e.mutable_timestamp());
  EXPECT_TRUE(Decode(e).ok());
  ToProtoTimestamp(kNow + absl::Hours(24) + absl::Microseconds(1), e.mutable_timestamp());
  ExpectRefused(e, "in the future");
  // The last representable instant, which is in range but far ahead.
  e.mutable_timestamp()->set_seconds(253402300799);
  e.mutable_timestamp()->set_nanos(999999999);
  ExpectRefused(e, "in the future");
}

}  // namespace
}  // namespace marketdata
