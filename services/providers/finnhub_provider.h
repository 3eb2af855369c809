// The `finnhub` provider: Finnhub's /api/v1/quote endpoint.
#ifndef MARKETDATA_SERVICES_PROVIDERS_FINNHUB_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_FINNHUB_PROVIDER_H_

#include <string>

#include "absl/time/time.h"
#include "services/providers/http_client.h"
#include "services/providers/provider.h"

namespace marketdata {

class FinnhubProvider final : public PriceProvider {
 public:
  // `base_url` e.g. "https://finnhub.io"; an empty `api_key` leaves the provider unconfigured.
  // `http` must outlive the provider.
  FinnhubProvider(HttpClient& http, std::string base_url, std::string api_key,
                  absl::Duration timeout = absl::Seconds(5));

  std::string name() const override { return "finnhub"; }
  bool configured() const override { return !api_key_.empty(); }
  absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) override;
  absl::StatusOr<Quote> FetchQuoteBy(absl::string_view symbol, absl::Time deadline) override;

 private:
  HttpClient& http_;
  const std::string base_url_;
  const std::string api_key_;
  const absl::Duration timeout_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_FINNHUB_PROVIDER_H_
