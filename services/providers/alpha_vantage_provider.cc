#include "services/providers/alpha_vantage_provider.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc/errors.h"
#include "services/providers/provider_outcome.h"
#include "services/providers/provider_reply.h"

namespace marketdata {
namespace {

constexpr char kName[] = "alpha_vantage";

// GLOBAL_QUOTE gives the trading day only. A past day's price is its close (16:00 in New York);
// for today the price is as of now.
absl::Time PricedAt(const Json& quote) {
  const absl::Time now = absl::Now();
  auto day = quote.find("07. latest trading day");
  if (day == quote.end() || !day->is_string()) return now;
  absl::CivilDay civil_day;
  if (!absl::ParseCivilTime(day->get<std::string>(), &civil_day)) return now;
  absl::TimeZone new_york;
  if (!absl::LoadTimeZone("America/New_York", &new_york)) {
    new_york = absl::FixedTimeZone(-5 * 60 * 60);
  }
  const absl::Time close = absl::FromCivil(absl::CivilSecond(civil_day) + 16 * 60 * 60, new_york);
  return std::min(close, now);
}

}  // namespace

AlphaVantageProvider::AlphaVantageProvider(HttpClient& http, std::string base_url,
                                           std::string api_key, absl::Duration timeout)
    : http_(http),
      base_url_(TrimBaseUrl(base_url)),
      api_key_(std::move(api_key)),
      timeout_(timeout) {}

absl::StatusOr<Quote> AlphaVantageProvider::FetchQuote(absl::string_view symbol) {
  return FetchQuoteBy(symbol, absl::InfiniteFuture());
}

absl::StatusOr<Quote> AlphaVantageProvider::FetchQuoteBy(absl::string_view symbol, absl::Time deadline) {
  if (!configured()) {
    return absl::UnavailableError(
        "provider alpha_vantage is not configured: set ALPHA_VANTAGE_API_KEY");
  }
  const std::string url =
      absl::StrCat(base_url_, "/query?function=GLOBAL_QUOTE&symbol=", UrlEncode(symbol),
                   "&apikey=", UrlEncode(api_key_));
  absl::StatusOr<absl::Duration> timeout = CallTimeout(kName, timeout_, deadline, absl::Now());
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<HttpResponse> response = http_.Get(url, *timeout);
  if (!response.ok()) {
    return Rephrased(response.status(),
                     absl::StrCat(kName, ": ", RedactSecret(response.status().message(),
                                                            api_key_)));
  }
  if (response->status == 429) {
    return ProviderRateLimited(kName, "HTTP 429");
  }
  if (response->status != 200) return UnexpectedHttpStatus(kName, response->status);

  absl::StatusOr<Json> reply = ParseReplyObject(kName, response->body);
  if (!reply.ok()) return reply.status();
  // Alpha Vantage reports its limits, and some key problems, as 200 with a Note or Information.
  for (const char* key : {"Note", "Information"}) {
    if (auto it = reply->find(key); it != reply->end()) {
      return WithRetryAdvice(absl::ResourceExhaustedError(absl::StrCat(
                                 "alpha_vantage rate limit reached: ",
                                 ProviderMessage(*it, api_key_))),
                             RetryAdvice{absl::Minutes(1), 0});
    }
  }
  if (auto error = reply->find("Error Message"); error != reply->end()) {
    // The same key carries "Invalid API call" for an unknown symbol and the key complaints.
    if (ProviderMessage(*error, api_key_).find("apikey") != std::string::npos) {
      return absl::UnavailableError("alpha_vantage rejected ALPHA_VANTAGE_API_KEY as invalid");
    }
    return absl::NotFoundError(absl::StrCat("alpha_vantage does not know symbol ", symbol));
  }
  auto quote = reply->find("Global Quote");
  if (quote == reply->end() || !quote->is_object()) {
    return UnreadableReply(kName, "no \"Global Quote\"");
  }
  if (quote->empty()) {
    return absl::NotFoundError(absl::StrCat("alpha_vantage does not know symbol ", symbol));
  }
  auto price_text = quote->find("05. price");
  double price = 0;
  if (price_text == quote->end() || !price_text->is_string() ||
      !absl::SimpleAtod(price_text->get<std::string>(), &price)) {
    return UnreadableReply(kName, "no readable \"05. price\"");
  }
  if (absl::Status ok = CheckPrice(kName, price); !ok.ok()) return ok;
  const absl::Time priced_at = PricedAt(*quote);
  if (absl::Status ok = CheckQuoteTime(kName, priced_at, absl::Now()); !ok.ok()) return ok;

  Quote out;
  out.symbol = std::string(symbol);
  out.price = price;
  out.timestamp = priced_at;
  out.provider = kName;
  out.raw_response = RedactedReply(response->body, *reply, api_key_);
  return out;
}

}  // namespace marketdata
