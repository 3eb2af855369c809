#include "services/providers/yfinance_provider.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/providers/fake_http_client.h"
#include "services/providers/fake_http_server.h"

namespace marketdata {
namespace {

constexpr char kSuccess[] = R"({"chart":{"result":[{"meta":{"currency":"USD","symbol":"AAPL","exchangeName":"NMS","fullExchangeName":"NasdaqGS","instrumentType":"EQUITY","firstTradeDate":345479400,"regularMarketTime":1704495600,"hasPrePostMarketData":true,"gmtoffset":-18000,"timezone":"EST","exchangeTimezoneName":"America/New_York","regularMarketPrice":189.5,"chartPreviousClose":189.5,"previousClose":189.5,"scale":3,"priceHint":2,"dataGranularity":"1d","range":"1d"},"timestamp":[1704495600],"indicators":{"quote":[{"open":[189.3],"high":[190.0],"low":[188.2],"close":[189.5],"volume":[52000000]}]}}],"error":null}})";
constexpr char kNotFound[] = R"({"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}})";
constexpr char kOtherError[] = R"({"chart":{"result":null,"error":{"code":"Bad Request","description":"Invalid input - interval=1d is not supported"}}})";
constexpr char kTooManyRequests[] = "Too Many Requests\r\n";
constexpr char kHtml[] = "<html><head><title>Yahoo</title></head><body>Will be right back...</body></html>";

absl::StatusCode CodeFor(long status, const std::string& body) {  // NOLINT
  FakeHttpClient http;
  http.Reply(status, body);
  YFinanceProvider provider(http, "https://yf.example");
  return provider.FetchQuote("AAPL").status().code();
}

TEST(YFinanceProviderTest, ParsesAChart) {
  FakeHttpClient http;
  http.Reply(200, kSuccess);
  YFinanceProvider provider(http, "https://yf.example");
  EXPECT_TRUE(provider.configured());
  auto quote = provider.FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->symbol, "AAPL");
  EXPECT_DOUBLE_EQ(quote->price, 189.5);
  EXPECT_EQ(quote->provider, "yfinance");
  EXPECT_EQ(quote->timestamp, absl::FromUnixSeconds(1704495600));
  EXPECT_EQ(quote->raw_response, kSuccess);
  ASSERT_EQ(http.urls().size(), 1u);
  EXPECT_EQ(http.urls()[0], "https://yf.example/v8/finance/chart/AAPL?interval=1d&range=1d");
}

TEST(YFinanceProviderTest, EscapesTheSymbolInThePath) {
  FakeHttpClient http;
  http.Reply(200, kSuccess);
  YFinanceProvider provider(http, "https://yf.example");
  ASSERT_TRUE(provider.FetchQuote("^GSPC").ok());
  EXPECT_EQ(http.urls()[0], "https://yf.example/v8/finance/chart/%5EGSPC?interval=1d&range=1d");
}

TEST(YFinanceProviderTest, ClassifiesReplies) {
  EXPECT_EQ(CodeFor(404, kNotFound), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(404, kHtml), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(200, kNotFound), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(200, R"({"chart":{"result":[],"error":null}})"),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(400, kOtherError), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, kOtherError), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(429, kTooManyRequests), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeFor(500, kSuccess), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(503, kHtml), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, kHtml), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, ""), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"chart":{"result":[{"meta":{}}],"error":null}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"chart":{"result":[{"meta":{"regularMarketPrice":0}}]}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"chart":{"result":[{"meta":{"regularMarketPrice":-2}}]}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"chart":{"result":["x"]}})"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"chart":{"result":{"meta":1}}})"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"chart":[]})"), absl::StatusCode::kUnavailable);
}

TEST(YFinanceProviderTest, MessagesSayWhatHappened) {
  FakeHttpClient http;
  YFinanceProvider provider(http, "https://yf.example");
  http.Reply(400, kOtherError);
  EXPECT_NE(provider.FetchQuote("AAPL").status().message().find("400"), absl::string_view::npos);
  http.Reply(200, kOtherError);
  EXPECT_NE(provider.FetchQuote("AAPL").status().message().find("Invalid input"),
            absl::string_view::npos);
  http.Reply(200, kHtml);
  EXPECT_NE(provider.FetchQuote("AAPL").status().message().find(
                "provider returned an unreadable reply"),
            absl::string_view::npos);
}

TEST(YFinanceProviderTest, OverHttpAgainstALocalServer) {
  FakeHttpServer server;
  server.Reply("/v8/finance/chart/AAPL", 200, kSuccess);
  server.Reply("/v8/finance/chart/NOPE", 404, kNotFound);
  server.Reply("/v8/finance/chart/BUSY", 429, kTooManyRequests, "text/plain");
  CurlHttpClient http;
  YFinanceProvider provider(http, server.base_url());
  auto quote = provider.FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_DOUBLE_EQ(quote->price, 189.5);
  EXPECT_EQ(server.requests()[0].query, "interval=1d&range=1d");
  EXPECT_EQ(server.requests()[0].user_agent, "marketdata/1");
  EXPECT_EQ(provider.FetchQuote("NOPE").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(provider.FetchQuote("BUSY").status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(YFinanceProviderTest, SlowReplyTimesOutAsUnavailable) {
  FakeHttpServer server;
  server.Hang("/v8/finance/chart/AAPL");
  CurlHttpClient http;
  YFinanceProvider provider(http, server.base_url(), absl::Milliseconds(200));
  EXPECT_EQ(provider.FetchQuote("AAPL").status().code(), absl::StatusCode::kUnavailable);
}

TEST(YFinanceProviderTest, ConnectionRefusedIsUnavailable) {
  std::string base_url;
  {
    FakeHttpServer gone;
    base_url = gone.base_url();
  }
  CurlHttpClient http;
  YFinanceProvider provider(http, base_url);
  EXPECT_EQ(provider.FetchQuote("AAPL").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace marketdata
