#include "services/providers/test_provider.h"

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

}  // namespace
}  // namespace marketdata
