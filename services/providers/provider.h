// PriceProvider: one source of market prices (the offline test provider, Alpha Vantage, ...).
//
// Failures are classified with canonical codes so every layer above can pass them on unchanged:
//   NOT_FOUND           the provider does not know the symbol
//   RESOURCE_EXHAUSTED  the provider (or our outbound limit for it) is rate limiting us
//   UNAVAILABLE         the provider is down, timed out or answered garbage
//   FAILED_PRECONDITION the provider is not configured (e.g. its API key is missing)
#ifndef MARKETDATA_SERVICES_PROVIDERS_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_PROVIDER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/domain/quote.h"

namespace marketdata {

class PriceProvider {
 public:
  virtual ~PriceProvider() = default;

  virtual std::string name() const = 0;
  // True when every setting the provider needs is present.
  virtual bool configured() const = 0;
  // `symbol` is already normalised. Thread-safe.
  virtual absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_PROVIDER_H_
