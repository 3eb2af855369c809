#include "services/providers/finnhub_provider.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/providers/provider_outcome.h"
#include "services/providers/provider_reply.h"

namespace marketdata {
namespace {

constexpr char kName[] = "finnhub";

}  // namespace

FinnhubProvider::FinnhubProvider(HttpClient& http, std::string base_url, std::string api_key,
                                 absl::Duration timeout)
    : http_(http),
      base_url_(TrimBaseUrl(base_url)),
      api_key_(std::move(api_key)),
      timeout_(timeout) {}

absl::StatusOr<Quote> FinnhubProvider::FetchQuote(absl::string_view symbol) {
  return FetchQuoteBy(symbol, absl::InfiniteFuture());
}

absl::StatusOr<Quote> FinnhubProvider::FetchQuoteBy(absl::string_view symbol, absl::Time deadline) {
  if (!configured()) {
    return absl::UnavailableError("provider finnhub is not configured: set FINNHUB_API_KEY");
  }
  const std::string url = absl::StrCat(base_url_, "/api/v1/quote?symbol=", UrlEncode(symbol),
                                       "&token=", UrlEncode(api_key_));
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
  if (response->status == 401 || response->status == 403) {
    return absl::UnavailableError(absl::StrCat("finnhub rejected FINNHUB_API_KEY as invalid (HTTP ",
                                               response->status, ")"));
  }
  if (response->status != 200) return UnexpectedHttpStatus(kName, response->status);

  absl::StatusOr<Json> reply = ParseReplyObject(kName, response->body);
  if (!reply.ok()) return reply.status();
  if (auto error = reply->find("error"); error != reply->end()) {
    return absl::UnavailableError(
        absl::StrCat("finnhub answered an error: ", ProviderMessage(*error, api_key_)));
  }
  auto current = reply->find("c");
  if (current == reply->end()) return UnreadableReply(kName, "no current price \"c\"");
  // An unknown symbol comes back as all zeros (and sometimes nulls).
  if (current->is_null()) {
    return absl::NotFoundError(absl::StrCat("finnhub does not know symbol ", symbol));
  }
  if (!current->is_number()) return UnreadableReply(kName, "\"c\" is not a number");
  const double price = current->get<double>();
  if (price == 0) {
    return absl::NotFoundError(absl::StrCat("finnhub does not know symbol ", symbol));
  }
  if (absl::Status ok = CheckPrice(kName, price); !ok.ok()) return ok;

  absl::Time timestamp = absl::Now();
  if (auto t = reply->find("t"); t != reply->end() && t->is_number()) {
    const double seconds = t->get<double>();
    if (std::isfinite(seconds) && seconds > 0 && seconds < 1e11) {
      timestamp = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
    }
  }
  if (absl::Status ok = CheckQuoteTime(kName, timestamp, absl::Now()); !ok.ok()) return ok;

  Quote out;
  out.symbol = std::string(symbol);
  out.price = price;
  out.timestamp = timestamp;
  out.provider = kName;
  out.raw_response = RedactedReply(response->body, *reply, api_key_);
  return out;
}

}  // namespace marketdata
