// ProviderRegistry: the providers this process can use, looked up by name.
#ifndef MARKETDATA_SERVICES_PROVIDERS_REGISTRY_H_
#define MARKETDATA_SERVICES_PROVIDERS_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/providers/provider.h"

namespace marketdata {

class ProviderRegistry {
 public:
  explicit ProviderRegistry(std::string default_provider)
      : default_provider_(std::move(default_provider)) {}

  void Add(std::unique_ptr<PriceProvider> provider);

  // The provider called `name` (case-insensitive); an empty name means the default provider (the
  // first of the default order when that is a chain).
  // An unknown name is INVALID_ARGUMENT listing the known ones.
  absl::StatusOr<PriceProvider*> Find(absl::string_view name) const;

  // A fallback order: provider names separated by commas ("yfinance,finnhub"), each looked up
  // as by Find, duplicates dropped; empty means the default, itself a name or an order. At most
  // kMaxChain providers; INVALID_ARGUMENT naming the fault otherwise.
  static constexpr size_t kMaxChain = 4;
  absl::StatusOr<std::vector<PriceProvider*>> FindChain(absl::string_view names) const;

  // "yfinance,finnhub": how a chain is named in jobs and messages.
  static std::string ChainName(const std::vector<PriceProvider*>& chain);

  const std::string& default_provider() const { return default_provider_; }
  std::vector<PriceProvider*> providers() const;

 private:
  std::string default_provider_;
  std::vector<std::unique_ptr<PriceProvider>> providers_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_REGISTRY_H_
