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

  // The provider called `name` (case-insensitive); an empty name means the default provider.
  // An unknown name is INVALID_ARGUMENT listing the known ones.
  absl::StatusOr<PriceProvider*> Find(absl::string_view name) const;

  const std::string& default_provider() const { return default_provider_; }
  std::vector<PriceProvider*> providers() const;

 private:
  std::string default_provider_;
  std::vector<std::unique_ptr<PriceProvider>> providers_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_REGISTRY_H_
