#include "services/events/price_event.h"

#include <cmath>

#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace marketdata {
namespace {

v1::PriceEvent Event(const std::string& symbol, int64_t id, double price) {
  StoredPrice p;
  p.quote = Quote{symbol, price, absl::FromUnixSeconds(1700000000 + id), "test", "{}"};
  p.price_point_id = id;
  p.raw_response_id = id;
  return ToPriceEvent(p);
}

TEST(PriceEventTest, CarriesEveryField) {
  v1::PriceEvent e = Event("AAPL", 7, 180.25);
  EXPECT_EQ(e.symbol(), "AAPL");
  EXPECT_EQ(e.price(), 180.25);
  EXPECT_EQ(e.provider(), "test");
  EXPECT_EQ(e.price_point_id(), 7);
  EXPECT_EQ(e.raw_response_id(), 7);
  EXPECT_EQ(e.timestamp().seconds(), 1700000007);
}

TEST(DecodePriceEventTest, AcceptsAValidEventAndRejectsGarbage) {
  std::string good = Event("AAPL", 1, 180).SerializeAsString();
  EXPECT_TRUE(DecodePriceEvent(good, "application/x-protobuf").ok());
  EXPECT_TRUE(DecodePriceEvent(good, "").ok());
  EXPECT_FALSE(DecodePriceEvent(good, "application/json").ok());
  EXPECT_FALSE(DecodePriceEvent("\xff\xff\xff garbage", "").ok());
  EXPECT_FALSE(DecodePriceEvent(Event("aapl", 1, 180).SerializeAsString(), "").ok());
  EXPECT_FALSE(DecodePriceEvent(Event("AAPL", 0, 180).SerializeAsString(), "").ok());
  EXPECT_FALSE(DecodePriceEvent(Event("AAPL", 1, -1).SerializeAsString(), "").ok());
  EXPECT_FALSE(DecodePriceEvent(Event("AAPL", 1, std::nan("")).SerializeAsString(), "").ok());
  v1::PriceEvent no_time = Event("AAPL", 1, 1);
  no_time.clear_timestamp();
  EXPECT_FALSE(DecodePriceEvent(no_time.SerializeAsString(), "").ok());
  EXPECT_FALSE(DecodePriceEvent("", "").ok());  // empty message: no symbol
}

}  // namespace
}  // namespace marketdata
