#include "services/providers/finnhub_provider.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "nlohmann/json.hpp"
#include "services/providers/fake_http_client.h"
#include "services/providers/fake_http_server.h"

namespace marketdata {
namespace {

constexpr char kKey[] = "fhkey_c9q1r2s3";

constexpr char kSuccess[] =
    R"({"c":261.74,"d":0.46,"dp":0.1761,"h":263.31,"l":260.68,"o":261.07,"pc":261.28,"t":1727380801})";
constexpr char kUnknownSymbol[] =
    R"({"c":0,"d":null,"dp":null,"h":0,"l":0,"o":0,"pc":0,"t":0})";
constexpr char kRateLimited[] = R"({"error":"API limit reached. Please try again later. Remaining Limit: 0"})";
constexpr char kInvalidKey[] = R"({"error":"Invalid API key"})";
constexpr char kNoAccess[] = R"({"error":"You don't have access to this resource."})";
constexpr char kHtml[] = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>";

bool IsJson(const std::string& text) {
  return !nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false).is_discarded();
}

absl::StatusCode CodeFor(long status, const std::string& body) {  // NOLINT
  FakeHttpClient http;
  http.Reply(status, body);
  FinnhubProvider provider(http, "https://fh.example", kKey);
  return provider.FetchQuote("AAPL").status().code();
}

TEST(FinnhubProviderTest, ParsesAQuote) {
  FakeHttpClient http;
  http.Reply(200, kSuccess);
  FinnhubProvider provider(http, "https://fh.example", kKey);
  auto quote = provider.FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->symbol, "AAPL");
  EXPECT_DOUBLE_EQ(quote->price, 261.74);
  EXPECT_EQ(quote->provider, "finnhub");
  EXPECT_EQ(quote->timestamp, absl::FromUnixSeconds(1727380801));
  EXPECT_EQ(quote->raw_response, kSuccess);
  ASSERT_EQ(http.urls().size(), 1u);
  EXPECT_EQ(http.urls()[0], "https://fh.example/api/v1/quote?symbol=AAPL&token=fhkey_c9q1r2s3");
}

TEST(FinnhubProviderTest, MissingTimestampMeansNow) {
  FakeHttpClient http;
  http.Reply(200, R"({"c":10.5,"t":0})");
  FinnhubProvider provider(http, "https://fh.example", kKey);
  const absl::Time before = absl::Now();
  auto quote = provider.FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_GE(quote->timestamp, before);
  EXPECT_LE(quote->timestamp, absl::Now());
}

TEST(FinnhubProviderTest, ClassifiesReplies) {
  EXPECT_EQ(CodeFor(200, kUnknownSymbol), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(200, R"({"c":null})"), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeFor(429, kRateLimited), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeFor(401, kInvalidKey), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(403, kNoAccess), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, kNoAccess), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(500, kSuccess), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(502, kHtml), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, kHtml), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, ""), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"d":1})"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"c":"261.74"})"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"c":-1.5})"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeFor(200, R"({"c":1e999})"), absl::StatusCode::kUnavailable);
}

TEST(FinnhubProviderTest, MessagesSayWhatHappened) {
  FakeHttpClient http;
  FinnhubProvider provider(http, "https://fh.example", kKey);
  http.Reply(401, kInvalidKey);
  auto invalid = provider.FetchQuote("AAPL").status();
  EXPECT_NE(invalid.message().find("FINNHUB_API_KEY"), absl::string_view::npos) << invalid;
  EXPECT_NE(invalid.message().find("invalid"), absl::string_view::npos) << invalid;
  http.Reply(302, "");
  EXPECT_NE(provider.FetchQuote("AAPL").status().message().find("302"), absl::string_view::npos);
  http.Reply(200, kHtml);
  EXPECT_NE(provider.FetchQuote("AAPL").status().message().find(
                "provider returned an unreadable reply"),
            absl::string_view::npos);
}

TEST(FinnhubProviderTest, UnconfiguredWithoutAKeyAndNeverCalls) {
  FakeHttpClient http;
  FinnhubProvider provider(http, "https://fh.example", "");
  EXPECT_FALSE(provider.configured());
  auto quote = provider.FetchQuote("AAPL");
  EXPECT_EQ(quote.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(quote.status().message(), "provider finnhub is not configured: set FINNHUB_API_KEY");
  EXPECT_TRUE(http.urls().empty());
}

TEST(FinnhubProviderTest, TheKeyNeverLeaks) {
  FakeHttpClient http;
  FinnhubProvider provider(http, "https://fh.example", kKey);
  const std::string echo = std::string("token=") + kKey;
  for (const auto& [status, body] : std::vector<std::pair<long, std::string>>{  // NOLINT
           {401, R"({"error":"Invalid API key )" + std::string(kKey) + R"("})"},
           {200, R"({"error":"bad request )" + echo + R"("})"},
           {429, R"({"error":"limit for )" + echo + R"("})"},
           {500, "<html>" + echo + "</html>"},
           {200, "<html>" + echo + "</html>"}}) {
    http.Reply(status, body);
    auto quote = provider.FetchQuote("AAPL");
    ASSERT_FALSE(quote.ok()) << body;
    EXPECT_EQ(quote.status().message().find(kKey), absl::string_view::npos) << quote.status();
  }
  http.Fail(absl::UnavailableError("GET https://fh.example/api/v1/quote?" + echo + " failed"));
  EXPECT_EQ(provider.FetchQuote("AAPL").status().message().find(kKey), absl::string_view::npos);

  http.Reply(200, R"({"c":261.74,"t":1727380801,"echo":")" + echo + R"("})");
  auto quote = provider.FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->raw_response.find(kKey), std::string::npos) << quote->raw_response;
  EXPECT_TRUE(IsJson(quote->raw_response)) << quote->raw_response;
  EXPECT_EQ(nlohmann::json::parse(quote->raw_response)["echo"], "token=***");
}

TEST(FinnhubProviderTest, OverHttpAgainstALocalServer) {
  FakeHttpServer server;
  server.Reply("/api/v1/quote", 200, kSuccess);
  CurlHttpClient http;
  FinnhubProvider provider(http, server.base_url(), kKey);
  auto quote = provider.FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_DOUBLE_EQ(quote->price, 261.74);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].query, "symbol=AAPL&token=fhkey_c9q1r2s3");

  server.Reply("/api/v1/quote", 429, kRateLimited);
  absl::Status limited = provider.FetchQuote("AAPL").status();
  EXPECT_EQ(limited.code(), absl::StatusCode::kResourceExhausted);
  // The client is told to retry in a minute (the provider counts its limit per minute).
  ASSERT_TRUE(RetryAdviceOf(limited).has_value());
  EXPECT_EQ(RetryAdviceOf(limited)->retry_after, absl::Minutes(1));
  server.Reply("/api/v1/quote", 401, kInvalidKey);
  EXPECT_EQ(provider.FetchQuote("AAPL").status().code(), absl::StatusCode::kUnavailable);
}

TEST(FinnhubProviderTest, SlowReplyTimesOutAsUnavailable) {
  FakeHttpServer server;
  server.Hang("/api/v1/quote");
  CurlHttpClient http;
  FinnhubProvider provider(http, server.base_url(), kKey, absl::Milliseconds(200));
  auto quote = provider.FetchQuote("AAPL");
  EXPECT_EQ(quote.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(quote.status().message().find(kKey), absl::string_view::npos) << quote.status();
}

TEST(FinnhubProviderTest, ConnectionRefusedIsUnavailable) {
  std::string base_url;
  {
    FakeHttpServer gone;
    base_url = gone.base_url();
  }
  CurlHttpClient http;
  FinnhubProvider provider(http, base_url, kKey);
  auto quote = provider.FetchQuote("AAPL");
  EXPECT_EQ(quote.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(quote.status().message().find(kKey), absl::string_view::npos) << quote.status();
}

}  // namespace
}  // namespace marketdata
