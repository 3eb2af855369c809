#include "services/pricing/recent_quotes.h"

#include <string>

#include "gtest/gtest.h"
#include "services/domain/test_prices.h"

namespace marketdata {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

StoredPrice FetchedAt(StoredPrice price, absl::Time fetched_at) {
  price.quote.fetched_at = fetched_at;
  return price;
}

TEST(RecentQuotesTest, AQuoteYoungerThanMaxAgeIsAnsweredWithItsAge) {
  RecentQuotes quotes;
  quotes.Put("test/AAPL", FetchedAt(TestPrice("AAPL", 7, 180, kT0), kT0));
  std::optional<RecentQuote> got = quotes.Get("test/AAPL", absl::Seconds(60), kT0 + absl::Seconds(12));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->price.price_point_id, 7);
  EXPECT_EQ(got->age, absl::Seconds(12));
  // Exactly max_age old still counts; older does not; another key has nothing.
  EXPECT_TRUE(quotes.Get("test/AAPL", absl::Seconds(12), kT0 + absl::Seconds(12)).has_value());
  EXPECT_FALSE(quotes.Get("test/AAPL", absl::Seconds(11), kT0 + absl::Seconds(12)).has_value());
  EXPECT_FALSE(quotes.Get("test/MSFT", absl::Seconds(60), kT0).has_value());
  // Without max_age nothing is answered from memory.
  EXPECT_FALSE(quotes.Get("test/AAPL", absl::ZeroDuration(), kT0 + absl::Seconds(1)).has_value());
}

TEST(RecentQuotesTest, AnOlderFetchNeverReplacesANewerOne) {
  RecentQuotes quotes;
  quotes.Put("test/AAPL", FetchedAt(TestPrice("AAPL", 9, 181, kT0), kT0 + absl::Seconds(5)));
  quotes.Put("test/AAPL", FetchedAt(TestPrice("AAPL", 8, 180, kT0), kT0 + absl::Seconds(4)));
  std::optional<RecentQuote> got = quotes.Get("test/AAPL", absl::Seconds(60), kT0 + absl::Seconds(6));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->price.price_point_id, 9);
  EXPECT_EQ(got->age, absl::Seconds(1));
}

TEST(RecentQuotesTest, BeyondCapacityTheQuotesFetchedLongestAgoGo) {
  RecentQuotes quotes(/*capacity=*/100);
  for (int i = 0; i < 1000; ++i) {
    quotes.Put("test/S" + std::to_string(i),
               FetchedAt(TestPrice("S", i + 1, 1, kT0), kT0 + absl::Seconds(i)));
  }
  EXPECT_LE(quotes.size(), 125u);
  EXPECT_GE(quotes.size(), 100u);
  const absl::Time now = kT0 + absl::Seconds(1000);
  EXPECT_TRUE(quotes.Get("test/S999", absl::Hours(1), now).has_value());
  EXPECT_FALSE(quotes.Get("test/S0", absl::Hours(1), now).has_value());
}

}  // namespace
}  // namespace marketdata
