#include "services/providers/yfinance_provider.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/providers/provider_outcome.h"
#include "services/providers/provider_reply.h"

namespace marketdata {
namespace {

constexpr char kName[] = "yfinance";

absl::Status NotFound(absl::string_view symbol) {
  return absl::NotFoundError(absl::StrCat("yfinance does not know symbol ", symbol));
}

// Yahoo's error object: {"code":"Not Found","description":"No data found, ..."}.
absl::Status ChartError(const Json& error, absl::string_view symbol) {
  auto code = error.find("code");
  if (error.is_object() && code != error.end() && code->is_string() &&
      code->get<std::string>() == "Not Found") {
    return NotFound(symbol);
  }
  return absl::UnavailableError(
      absl::StrCat("yfinance answered an error: ", ProviderMessage(error, "")));
}

}  // namespace

YFinanceProvider::YFinanceProvider(HttpClient& http, std::string base_url, absl::Duration timeout)
    : http_(http), base_url_(TrimBaseUrl(base_url)), timeout_(timeout) {}

absl::StatusOr<Quote> YFinanceProvider::FetchQuote(absl::string_view symbol) {
  return FetchQuoteBy(symbol, absl::InfiniteFuture());
}

absl::StatusOr<Quote> YFinanceProvider::FetchQuoteBy(absl::string_view symbol, absl::Time deadline) {
  const std::string url = absl::StrCat(base_url_, "/v8/finance/chart/", UrlEncode(symbol),
                                       "?interval=1d&range=1d");
  absl::StatusOr<absl::Duration> timeout = CallTimeout(kName, timeout_, deadline, absl::Now());
  if (!timeout.ok()) return timeout.status();
  absl::StatusOr<HttpResponse> response = http_.Get(url, *timeout);
  if (!response.ok()) {
    return Rephrased(response.status(), absl::StrCat(kName, ": ", response.status().message()));
  }
  if (response->status == 404) return NotFound(symbol);
  if (response->status == 429) {
    return ProviderRateLimited(kName, "HTTP 429");
  }
  if (response->status != 200) return UnexpectedHttpStatus(kName, response->status);

  absl::StatusOr<Json> reply = ParseReplyObject(kName, response->body);
  if (!reply.ok()) return reply.status();
  auto chart = reply->find("chart");
  if (chart == reply->end() || !chart->is_object()) return UnreadableReply(kName, "no \"chart\"");
  if (auto error = chart->find("error"); error != chart->end() && !error->is_null()) {
    return ChartError(*error, symbol);
  }
  auto result = chart->find("result");
  if (result == chart->end() || result->is_null() || (result->is_array() && result->empty())) {
    return NotFound(symbol);
  }
  if (!result->is_array() || !result->front().is_object()) {
    return UnreadableReply(kName, "\"chart.result\" is not a list of objects");
  }
  const Json& first = result->front();
  auto meta = first.find("meta");
  if (meta == first.end() || !meta->is_object()) return UnreadableReply(kName, "no \"meta\"");
  auto price = meta->find("regularMarketPrice");
  if (price == meta->end() || !price->is_number()) {
    return UnreadableReply(kName, "no \"regularMarketPrice\"");
  }
  if (absl::Status ok = CheckPrice(kName, price->get<double>()); !ok.ok()) return ok;

  absl::Time timestamp = absl::Now();
  if (auto t = meta->find("regularMarketTime"); t != meta->end() && t->is_number()) {
    const double seconds = t->get<double>();
    if (std::isfinite(seconds) && seconds > 0 && seconds < 1e11) {
      timestamp = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
    }
  }
  if (absl::Status ok = CheckQuoteTime(kName, timestamp, absl::Now()); !ok.ok()) return ok;

  Quote out;
  out.symbol = std::string(symbol);
  out.price = price->get<double>();
  out.timestamp = timestamp;
  out.provider = kName;
  out.raw_response = response->body;
  return out;
}

}  // namespace marketdata
