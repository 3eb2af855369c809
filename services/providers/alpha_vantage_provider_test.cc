#include "services/providers/alpha_vantage_provider.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/providers/fake_http_client.h"
#include "services/providers/fake_http_server.h"

namespace marketdata {
namespace {

constexpr char kKey[] = "AVKEY9Z8Y7";

constexpr char kSuccess[] = R"({
    "Global Quote": {
        "01. symbol": "IBM",
        "02. open": "187.1500",
        "03. high": "189.3000",
        "04. low": "186.8600",
        "05. price": "189.1000",
        "06. volume": "3854539",
        "07. latest trading day": "2024-01-05",
        "08. previous close": "187.2100",
        "09. change": "1.8900",
        "10. change percent": "1.0096%"
    }
})";
constexpr char kUnknownSymbol[] = R"({
    "Global Quote": {}
})";
constexpr char kInvalidCall[] = R"({
    "Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for GLOBAL_QUOTE."
})";
constexpr char kNote[] = R"({
    "Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency."
})";
constexpr char kInformation[] = R"({
    "Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."
})";
constexpr char kInvalidKey[] = R"({
    "Error Message": "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
})";
constexpr char kHtml[] = "<html><head><title>502 Bad Gateway</title></head><body></body></html>";

bool IsJson(const std::string& text) {
  return !nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false).is_discarded();
}

absl::StatusCode CodeFor(long status, const std::string& body) {  // NOLINT
  FakeHttpClient http;
  http.Reply(status, body);
  AlphaVantageProvider provider(http, "https://av.example", kKey);
  return provider.FetchQuote("IBM").status().code();
}

TEST(AlphaVantageProviderTest, ParsesAGlobalQuote) {
  FakeHttpClient http;
  http.Reply(200, kSuccess);
  AlphaVantageProvider provider(http, "https://av.example/", kKey);
  auto quote = provider.FetchQuote("IBM");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->symbol, "IBM");
  EXPECT_DOUBLE_EQ(quote->price, 189.1);
  EXPECT_EQ(quote->provider, "alpha_vantage");
  EXPECT_EQ(quote->raw_response, kSuccess);
  // A past trading day is priced at its close, 16:00 New York (EST in January).
  EXPECT_EQ(quote->timestamp, absl::FromUnixSeconds(1704488400));
  ASSERT_EQ(http.urls().size(), 1u);
  EXPECT_EQ(http.urls()[0],
            "https://av.example/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=AVKEY9Z8Y7");
}

TEST(AlphaVantageProviderTest, TodaysQuoteIsNotInTheFuture) {
  FakeHttpClient http;
  const std::string today = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  http.Reply(200, R"({"Global Quote":{"05. price":"10.5","07. latest trading day":")" + today +
                      R"("}})");
  AlphaVantageProvider provider(http, "https://av.example", kKey);
  auto quote = provider.FetchQuote("IBM");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_LE(quote->timestamp, absl::Now());
}

TEST(AlphaVantageProviderTest, ClassifiesReplies) {
  EXPECT_EQ(CodeFor(200, kUnknownSymbol), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(200, kInvalidCall), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(200, kNote), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeFor(200, kInformation), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeFor(429, "{}"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeFor(200, kInvalidKey), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(500, kSuccess), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(503, kHtml), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, kHtml), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, ""), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, "[]"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"Global Quote": "IBM"})"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"Global Quote": {"05. price": 189.1}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"Global Quote": {"05. price": "n/a"}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"Global Quote": {"05. price": "0.0000"}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"Global Quote": {"05. price": "-3"}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"Global Quote": {"05. price": "inf"}})"),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"Global Quote": {"05. price": "nan"}})"),
            absl::StatusCode::kUnavailable);
}

TEST(AlphaVantageProviderTest, MessagesSayWhatHappened) {
  FakeHttpClient http;
  AlphaVantageProvider provider(http, "https://av.example", kKey);
  http.Reply(200, kHtml);
  EXPECT_NE(provider.FetchQuote("IBM").status().message().find(
                "provider returned an unreadable reply"),
            absl::string_view::npos);
  http.Reply(418, "{}");
  EXPECT_NE(provider.FetchQuote("IBM").status().message().find("418"), absl::string_view::npos);
  http.Reply(200, kInvalidKey);
  EXPECT_NE(provider.FetchQuote("IBM").status().message().find("ALPHA_VANTAGE_API_KEY"),
            absl::string_view::npos);
  http.Reply(200, kNote);
  EXPECT_NE(provider.FetchQuote("IBM").status().message().find("5 calls per minute"),
            absl::string_view::npos);
}

TEST(AlphaVantageProviderTest, UnconfiguredWithoutAKeyAndNeverCalls) {
  FakeHttpClient http;
  AlphaVantageProvider provider(http, "https://av.example", "");
  EXPECT_FALSE(provider.configured());
  auto quote = provider.FetchQuote("IBM");
  EXPECT_EQ(quote.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(quote.status().message(),
            "provider alpha_vantage is not configured: set ALPHA_VANTAGE_API_KEY");
  EXPECT_TRUE(http.urls().empty());
  EXPECT_TRUE(AlphaVantageProvider(http, "https://av.example", kKey).configured());
}

TEST(AlphaVantageProviderTest, TheKeyNeverLeaks) {
  FakeHttpClient http;
  AlphaVantageProvider provider(http, "https://av.example", kKey);
  const std::string echo = std::string("?apikey=") + kKey;
  for (const std::string& body :
       {R"({"Note": "limit reached for )" + echo + R"("})",
        R"({"Information": "key )" + std::string(kKey) + R"( is over its daily limit"})",
        R"({"Error Message": "Invalid API call )" + echo + R"("})",
        R"({"Error Message": "the parameter apikey )" + std::string(kKey) + R"( is invalid"})",
        "<html>" + echo + "</html>"}) {
    http.Reply(200, body);
    auto quote = provider.FetchQuote("IBM");
    ASSERT_FALSE(quote.ok()) << body;
    EXPECT_EQ(quote.status().message().find(kKey), absl::string_view::npos) << quote.status();
  }
  http.Fail(absl::UnavailableError(std::string("GET https://av.example/query") + echo +
                                   " failed"));
  EXPECT_EQ(provider.FetchQuote("IBM").status().message().find(kKey), absl::string_view::npos);

  http.Reply(200, R"({"Global Quote": {"05. price": "12.5", "request": "/query)" + echo +
                      R"(", "echo": "AVKEY9Z\u0038Y7"}})");
  auto quote = provider.FetchQuote("IBM");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->raw_response.find(kKey), std::string::npos) << quote->raw_response;
  EXPECT_TRUE(IsJson(quote->raw_response)) << quote->raw_response;
  auto stored = nlohmann::json::parse(quote->raw_response);
  EXPECT_EQ(stored["Global Quote"]["request"], "/query?apikey=***");
  EXPECT_EQ(stored["Global Quote"]["echo"], "***");
}

TEST(AlphaVantageProviderTest, OverHttpAgainstALocalServer) {
  FakeHttpServer server;
  server.Reply("/query", 200, kSuccess);
  CurlHttpClient http;
  AlphaVantageProvider provider(http, server.base_url(), kKey);
  auto quote = provider.FetchQuote("IBM");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_DOUBLE_EQ(quote->price, 189.1);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].query, "apikey=AVKEY9Z8Y7&function=GLOBAL_QUOTE&symbol=IBM");

  server.Reply("/query", 200, kInformation);
  EXPECT_EQ(provider.FetchQuote("IBM").status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(AlphaVantageProviderTest, SlowReplyTimesOutAsUnavailable) {
  FakeHttpServer server;
  server.Hang("/query");
  CurlHttpClient http;
  AlphaVantageProvider provider(http, server.base_url(), kKey, absl::Milliseconds(200));
  auto quote = provider.FetchQuote("IBM");
  EXPECT_EQ(quote.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(quote.status().message().find(kKey), absl::string_view::npos) << quote.status();
}

TEST(AlphaVantageProviderTest, ConnectionRefusedIsUnavailable) {
  std::string base_url;
  {
    FakeHttpServer gone;
    base_url = gone.base_url();
  }
  CurlHttpClient http;
  AlphaVantageProvider provider(http, base_url, kKey);
  auto quote = provider.FetchQuote("IBM");
  EXPECT_EQ(quote.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(quote.status().message().find(kKey), absl::string_view::npos) << quote.status();
}

}  // namespace
}  // namespace marketdata
