#include "services/storage/raw_replies.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

std::string YahooLike(const std::string& symbol, double price) {
  return R"({"chart":{"result":[{"meta":{"currency":"USD","symbol":")" + symbol +
         R"(","exchangeName":"NMS","fullExchangeName":"NasdaqGS","instrumentType":"EQUITY",)"
         R"("firstTradeDate":345479400,"regularMarketTime":1704495600,"gmtoffset":-18000,)"
         R"("timezone":"EST","exchangeTimezoneName":"America/New_York","regularMarketPrice":)" +
         std::to_string(price) +
         R"(,"chartPreviousClose":189.5,"previousClose":189.5,"scale":3,"priceHint":2,)"
         R"("currentTradingPeriod":{"pre":{"timezone":"EST","start":1704445200,"end":1704465000,)"
         R"("gmtoffset":-18000},"regular":{"timezone":"EST","start":1704465000,"end":1704488400,)"
         R"("gmtoffset":-18000}},"dataGranularity":"1d","range":"1d","validRanges":["1d","5d",)"
         R"("1mo","3mo","6mo","1y","2y","5y","10y","ytd","max"]},"timestamp":[1704495600],)"
         R"("indicators":{"quote":[{"close":[189.5]}]}}],"error":null}})";
}

TEST(RawRepliesTest, RoundTrip) {
  const std::vector<RawReply> replies = {
      {"AAPL", "yfinance", absl::FromUnixMicros(1767225600123456), YahooLike("AAPL", 189.5)},
      {"BRK.B", "test", absl::FromUnixMicros(-5), R"({"price":1})"},
      {"X", "finnhub", absl::UnixEpoch(), ""},
  };
  absl::StatusOr<std::vector<RawReply>> back = DecodeRawReplies(EncodeRawReplies(replies));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, replies);
  absl::StatusOr<std::vector<RawReply>> none = DecodeRawReplies(EncodeRawReplies({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// The point of the format: a write's replies together cost a fraction of one reply each.
TEST(RawRepliesTest, AWritesRepliesShareTheirBytes) {
  std::vector<RawReply> one = {{"S0", "yfinance", absl::Now(), YahooLike("S0", 100)}};
  const size_t single = EncodeRawReplies(one).size();
  EXPECT_LT(single, one[0].reply.size());
  std::vector<RawReply> many;
  for (int i = 0; i < 32; ++i) {
    const std::string symbol = "S" + std::to_string(i);
    many.push_back({symbol, "yfinance", absl::Now(), YahooLike(symbol, 100 + i * 0.37)});
  }
  const size_t together = EncodeRawReplies(many).size();
  EXPECT_LT(together / many.size(), many[0].reply.size() / 5)
      << together << " bytes for " << many.size() << " replies of " << many[0].reply.size();
}

TEST(RawRepliesTest, ACorruptValueIsAnErrorNotACrash) {
  const std::string good = EncodeRawReplies({{"A", "test", absl::Now(), "{}"}});
  for (const std::string& bad :
       {std::string(), std::string("\x02", 1), good.substr(0, good.size() - 3),
        std::string(1, '\x01') + "not zlib at all", good + "trailing"}) {
    absl::StatusOr<std::vector<RawReply>> r = DecodeRawReplies(bad);
    if (bad == good + "trailing" && r.ok()) continue;  // zlib stops at the stream's end
    EXPECT_FALSE(r.ok()) << bad.size();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace marketdata
