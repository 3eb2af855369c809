#include "services/providers/test_provider.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(TestProviderTest, PricesStayWithinTwoPercentOfBase) {
  TestProvider provider(42);
  for (const char* symbol : {"AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "SPY", "XYZ"}) {
    const double base = TestProvider::BasePrice(symbol);
    for (int i = 0; i < 200; ++i) {
      auto quote = provider.FetchQuote(symbol);
      ASSERT_TRUE(quote.ok());
      EXPECT_GE(quote->price, base * 0.98 - 0.005) << symbol;
      EXPECT_LE(quote->price, base * 1.02 + 0.005) << symbol;
      EXPECT_EQ(quote->provider, "test");
      EXPECT_EQ(quote->symbol, symbol);
    }
  }
  EXPECT_EQ(TestProvider::BasePrice("AAPL"), 180);
  EXPECT_EQ(TestProvider::BasePrice("SPY"), 450);
  EXPECT_EQ(TestProvider::BasePrice("ZZZ"), 100);
}

TEST(TestProviderTest, SameSeedSameSequence) {
  TestProvider a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    double pa = a.FetchQuote("AAPL")->price;
    EXPECT_EQ(pa, b.FetchQuote("AAPL")->price);
    differs |= pa != c.FetchQuote("AAPL")->price;
  }
  EXPECT_TRUE(differs);
}

TEST(TestProviderTest, PricesVary) {
  TestProvider provider(1);
  double first = provider.FetchQuote("MSFT")->price;
  bool varied = false;
  for (int i = 0; i < 20 && !varied; ++i) varied = provider.FetchQuote("MSFT")->price != first;
  EXPECT_TRUE(varied);
}

TEST(TestProviderTest, RawResponseIsJsonWithThePrice) {
  TestProvider provider(3);
  auto quote = provider.FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->raw_response.front(), '{');
  EXPECT_NE(quote->raw_response.find("\"symbol\":\"AAPL\""), std::string::npos);
}

TEST(TestProviderTest, RemembersAtMostMaxSymbols) {
  TestProvider provider(1, /*max_symbols=*/100);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(provider.FetchQuote(absl::StrCat("R", i)).ok());
  EXPECT_EQ(provider.tracked_symbols(), 100u);
}

TEST(TestProviderTest, DefaultBoundIsAHundredThousandSymbols) {
  TestProvider provider(1);
  for (int i = 0; i < 100100; ++i) ASSERT_TRUE(provider.FetchQuote(absl::StrCat("R", i)).ok());
  EXPECT_EQ(provider.tracked_symbols(), TestProvider::kDefaultMaxSymbols);
  EXPECT_EQ(TestProvider::kDefaultMaxSymbols, 100000u);
}

TEST(TestProviderTest, SymbolsInSteadyUseKeepTheirSequence) {
  // AAPL is fetched between every two other symbols, so it is never the least recent of three.
  TestProvider bounded(7, /*max_symbols=*/3);
  TestProvider unbounded(7);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(bounded.FetchQuote("AAPL")->price, unbounded.FetchQuote("AAPL")->price) << i;
    ASSERT_TRUE(bounded.FetchQuote(absl::StrCat("X", 2 * i)).ok());
    ASSERT_TRUE(bounded.FetchQuote(absl::StrCat("X", 2 * i + 1)).ok());
  }
  EXPECT_EQ(bounded.tracked_symbols(), 3u);
}

TEST(TestProviderTest, ForgottenSymbolStartsOverFromItsFirstPrice) {
  TestProvider provider(7, /*max_symbols=*/2);
  std::vector<double> first;
  for (int i = 0; i < 3; ++i) first.push_back(provider.FetchQuote("AAPL")->price);
  ASSERT_TRUE(provider.FetchQuote("MSFT").ok());
  ASSERT_TRUE(provider.FetchQuote("TSLA").ok());  // AAPL is now the least recent of three
  auto again = provider.FetchQuote("AAPL");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->price, first[0]);
  EXPECT_NE(again->raw_response.find("\"sequence\":0,"), std::string::npos);
  EXPECT_EQ(provider.FetchQuote("AAPL")->price, first[1]);
  // Still the seeded sequence of a fresh provider.
  TestProvider fresh(7);
  EXPECT_EQ(fresh.FetchQuote("AAPL")->price, first[0]);
}

TEST(TestProviderTest, SameSeedAndSameFetchesGiveTheSamePricesDespiteForgetting) {
  // 40 symbols through room for 10, in a fixed pseudo-random order: symbols are forgotten and
  // start over all the time, yet two providers with the same seed agree on every price.
  TestProvider a(5, /*max_symbols=*/10), b(5, /*max_symbols=*/10);
  uint64_t x = 12345;
  bool restarted = false;
  for (int i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::string symbol = absl::StrCat("S", (x >> 33) % 40);
    auto qa = a.FetchQuote(symbol);
    auto qb = b.FetchQuote(symbol);
    ASSERT_TRUE(qa.ok() && qb.ok());
    EXPECT_EQ(qa->price, qb->price) << i;
    restarted |= i > 100 && qa->raw_response.find("\"sequence\":0,") != std::string::npos;
    EXPECT_GE(qa->price, 98 - 0.005);
    EXPECT_LE(qa->price, 102 + 0.005);
  }
  EXPECT_TRUE(restarted);
  EXPECT_EQ(a.tracked_symbols(), 10u);
}

}  // namespace
}  // namespace marketdata
