#include "services/consumer/decoded_batch.h"

#include "gtest/gtest.h"
#include "services/domain/test_prices.h"
#include "services/events/price_event.h"

namespace marketdata {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600);

ConsumedRecord Record(int64_t offset, const StoredPrice& price) {
  ConsumedRecord r;
  r.topic = "price-events";
  r.offset = offset;
  r.key = price.quote.symbol;
  r.value = EncodePriceEvent(price);
  r.headers.content_type = kPriceEventContentType;
  return r;
}

TEST(DecodeBatchTest, SplitsPricesFromRecordsToParkAndSealedOnes) {
  std::vector<ConsumedRecord> records = {
      Record(0, TestPrice("AAPL", 1, 180, kNow - absl::Minutes(1))),
      Record(1, TestPrice("AAPL", 2, 181, kNow - absl::Hours(24 * 8))),  // past the window
      Record(2, TestPrice("MSFT", 3, 410, kNow)),
      Record(3, TestPrice("aapl", 4, 1, kNow)),  // not a normalised symbol
  };
  records.push_back(records[0]);
  records.back().offset = 4;
  records.back().headers.content_type = "application/json";
  records[2].headers.origin = RequestContext::From("req-1", "");

  DecodedBatch batch = DecodeBatch(records, kNow, absl::Hours(24 * 7));
  ASSERT_EQ(batch.prices.size(), 2u);
  EXPECT_EQ(batch.prices[0].price_point_id, 1);
  EXPECT_EQ(batch.prices[1].price_point_id, 3);
  EXPECT_EQ(batch.prices[1].quote.origin.request_id, "req-1");  // from the headers
  EXPECT_EQ(batch.sources, (std::vector<const ConsumedRecord*>{&records[0], &records[2]}));
  EXPECT_EQ(batch.sealed, 1);
  ASSERT_EQ(batch.rejected.size(), 2u);
  EXPECT_EQ(batch.rejected[0].first, &records[3]);
  EXPECT_NE(batch.rejected[0].second.find("invalid symbol"), std::string::npos);
  EXPECT_EQ(batch.rejected[1].first, &records[4]);
  EXPECT_NE(batch.rejected[1].second.find("content-type"), std::string::npos);
}

TEST(DecodeBatchTest, WithoutALateWindowNothingIsSealed) {
  std::vector<ConsumedRecord> records = {
      Record(0, TestPrice("AAPL", 1, 180, kNow - absl::Hours(24 * 365)))};
  DecodedBatch batch = DecodeBatch(records, kNow, absl::ZeroDuration());
  EXPECT_EQ(batch.prices.size(), 1u);
  EXPECT_EQ(batch.sealed, 0);
}

}  // namespace
}  // namespace marketdata
