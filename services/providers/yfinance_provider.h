// The `yfinance` provider: Yahoo Finance's chart endpoint (no API key).
#ifndef MARKETDATA_SERVICES_PROVIDERS_YFINANCE_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_YFINANCE_PROVIDER_H_

#include <string>

#include "absl/time/time.h"
#include "services/providers/http_client.h"
#include "services/providers/provider.h"

namespace marketdata {

class YFinanceProvider final : public PriceProvider {
 public:
  // `base_url` e.g. "https://query1.finance.yahoo.com". `http` must outlive the provider.
  YFinanceProvider(HttpClient& http, std::string base_url,
                   absl::Duration timeout = absl::Seconds(5));

  std::string name() const override { return "yfinance"; }
  bool configured() const override { return true; }
  absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) override;
  absl::StatusOr<Quote> FetchQuoteBy(absl::string_view symbol, absl::Time deadline) override;

 private:
  HttpClient& http_;
  const std::string base_url_;
  const absl::Duration timeout_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_YFINANCE_PROVIDER_H_
