#include "services/providers/provider_reply.h"

#include <limits>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

bool IsJson(const std::string& text) {
  return !Json::parse(text, nullptr, /*allow_exceptions=*/false).is_discarded();
}

TEST(ParseReplyObjectTest, AcceptsObjectsOnly) {
  EXPECT_TRUE(ParseReplyObject("p", R"({"a":1})").ok());
  for (const char* bad : {"", "<html><body>502 Bad Gateway</body></html>", "[1,2]", "42",
                          R"({"a":)", "\xff\xfe", "{\"a\":\"\xc3\x28\"}"}) {
    auto parsed = ParseReplyObject("p", bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(parsed.status().message().find("provider returned an unreadable reply"),
              absl::string_view::npos);
  }
}

TEST(ParseReplyObjectTest, DeepNestingDoesNotCrash) {
  std::string deep(100000, '[');
  EXPECT_FALSE(ParseReplyObject("p", deep).ok());
}

TEST(RedactSecretTest, ReplacesEveryOccurrence) {
  EXPECT_EQ(RedactSecret("k=KEY&x=KEY", "KEY"), "k=***&x=***");
  EXPECT_EQ(RedactSecret("nothing", ""), "nothing");
}

TEST(RedactedReplyTest, KeepsTheTextWhenTheSecretIsAbsent) {
  const std::string body = R"({"z":1, "a":"x"})";
  EXPECT_EQ(RedactedReply(body, Json::parse(body), "KEY"), body);
}

TEST(RedactedReplyTest, ReplacesThePlainSecret) {
  const std::string body = R"({"url":"https://x/?apikey=KEY123","KEY123":1})";
  const std::string out = RedactedReply(body, Json::parse(body), "KEY123");
  EXPECT_EQ(out, R"({"url":"https://x/?apikey=***","***":1})");
}

TEST(RedactedReplyTest, RemovesAnEscapedSecretAndStaysJson) {
  // "K\u0045Y" is KEY once decoded: a text replacement would miss it.
  const std::string body = R"({"echo":"K\u0045Y","b":2})";
  const std::string out = RedactedReply(body, Json::parse(body), "KEY");
  ASSERT_TRUE(IsJson(out)) << out;
  EXPECT_EQ(out.find("KEY"), std::string::npos);
  EXPECT_EQ(Json::parse(out)["echo"], "***");
  EXPECT_EQ(Json::parse(out)["b"], 2);
}

TEST(RedactedReplyTest, SecretThatLooksLikeSyntaxStaysJson) {
  const std::string body = R"({"a":"b"})";
  const std::string out = RedactedReply(body, Json::parse(body), "\"");
  EXPECT_TRUE(IsJson(out)) << out;
}

TEST(ProviderMessageTest, RedactsTruncatesAndDropsControlCharacters) {
  EXPECT_EQ(ProviderMessage(Json("bad key KEY\n"), "KEY"), "bad key ***");
  EXPECT_EQ(ProviderMessage(Json(std::string(500, 'x')), "").size(), 203u);
  EXPECT_EQ(ProviderMessage(Json::parse(R"({"code":"X"})"), ""), R"({"code":"X"})");
}

TEST(CheckPriceTest, OnlyFinitePositivePrices) {
  EXPECT_TRUE(CheckPrice("p", 0.01).ok());
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(CheckPrice("p", bad).code(), absl::StatusCode::kUnavailable) << bad;
  }
}

TEST(CallTimeoutTest, IsTheTimeoutCutToWhatIsLeft) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(*CallTimeout("p", absl::Seconds(2), absl::InfiniteFuture(), now), absl::Seconds(2));
  EXPECT_EQ(*CallTimeout("p", absl::Seconds(2), now + absl::Milliseconds(300), now),
            absl::Milliseconds(300));
  absl::StatusOr<absl::Duration> none = CallTimeout("p", absl::Seconds(2), now, now);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("deadline had passed"), std::string::npos);
}

TEST(UnexpectedHttpStatusTest, NamesTheStatus) {
  EXPECT_NE(UnexpectedHttpStatus("p", 503).message().find("down (HTTP 503)"), std::string::npos);
  EXPECT_NE(UnexpectedHttpStatus("p", 418).message().find("418"), std::string::npos);
  EXPECT_EQ(UnexpectedHttpStatus("p", 418).code(), absl::StatusCode::kUnavailable);
}

TEST(ParseReplyObjectTest, ANulCharacterMakesTheReplyUnreadable) {
  // jsonb cannot store it: the price would fail as an internal error.
  auto parsed = ParseReplyObject("p", R"({"c":1,"x":"a\u0000b"})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kUnavailable);
}

TEST(ProviderMessageTest, CutsAtACharacterBoundary) {
  const std::string message = std::string(199, 'a') + "\xc3\xa9";  // "é" across the cut
  const std::string out = ProviderMessage(Json(message), "");
  EXPECT_EQ(out, std::string(199, 'a') + "...");
}

TEST(ProviderMessageTest, AKeyWithAControlCharacterInsideIsStillRedacted) {
  EXPECT_EQ(ProviderMessage(Json("limit reached for AVKE\tY9Z8Y7"), "AVKEY9Z8Y7"),
            "limit reached for ***");
}

TEST(RedactedReplyTest, AnEscapeThatSpellsTheKeyAgainWithholdsTheReply) {
  const std::string body = R"({"c":1,"x":"\fhkey_c9q1r2s3"})";
  auto parsed = ParseReplyObject("p", body);
  ASSERT_TRUE(parsed.ok());
  const std::string stored = RedactedReply(body, *parsed, "fhkey_c9q1r2s3");
  EXPECT_EQ(stored.find("fhkey_c9q1r2s3"), std::string::npos) << stored;
}

TEST(CheckQuoteTimeTest, OnlyTimesTheConsumerTakes) {
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  EXPECT_TRUE(CheckQuoteTime("p", now, now).ok());
  EXPECT_TRUE(CheckQuoteTime("p", now + absl::Hours(23), now).ok());
  EXPECT_FALSE(CheckQuoteTime("p", now + absl::Hours(25), now).ok());
  EXPECT_FALSE(CheckQuoteTime("p", absl::UnixEpoch(), now).ok());
  EXPECT_FALSE(CheckQuoteTime("p", absl::FromUnixSeconds(99999999999), now).ok());
}

TEST(TrimBaseUrlTest, DropsTrailingSlashes) {
  EXPECT_EQ(TrimBaseUrl("http://h:1//"), "http://h:1");
  EXPECT_EQ(TrimBaseUrl("http://h:1/v"), "http://h:1/v");
}

}  // namespace
}  // namespace marketdata
