#include "services/providers/registry.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace marketdata {

void ProviderRegistry::Add(std::unique_ptr<PriceProvider> provider) {
  providers_.push_back(std::move(provider));
}

absl::StatusOr<PriceProvider*> ProviderRegistry::Find(absl::string_view name) const {
  std::string wanted = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  if (wanted.empty()) wanted = default_provider_;
  std::vector<std::string> known;
  for (const auto& provider : providers_) {
    if (provider->name() == wanted) return provider.get();
    known.push_back(provider->name());
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown provider \"",
                                                 absl::CEscape(name.substr(0, 32)),
                                                 "\"; available: ", absl::StrJoin(known, ", ")));
}

std::vector<PriceProvider*> ProviderRegistry::providers() const {
  std::vector<PriceProvider*> out;
  for (const auto& provider : providers_) out.push_back(provider.get());
  return out;
}

}  // namespace marketdata
