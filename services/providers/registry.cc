#include "services/providers/registry.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace marketdata {

void ProviderRegistry::Add(std::unique_ptr<PriceProvider> provider) {
  providers_.push_back(std::move(provider));
}

absl::StatusOr<PriceProvider*> ProviderRegistry::Find(absl::string_view name) const {
  std::string wanted = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  if (wanted.empty()) {
    wanted = std::string(absl::StripAsciiWhitespace(
        absl::string_view(default_provider_).substr(0, default_provider_.find(','))));
  }
  std::vector<std::string> known;
  for (const auto& provider : providers_) {
    if (provider->name() == wanted) return provider.get();
    known.push_back(provider->name());
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown provider \"",
                                                 absl::CEscape(name.substr(0, 32)),
                                                 "\"; available: ", absl::StrJoin(known, ", ")));
}

absl::StatusOr<std::vector<PriceProvider*>> ProviderRegistry::FindChain(
    absl::string_view names) const {
  if (absl::StripAsciiWhitespace(names).empty()) names = default_provider_;
  std::vector<PriceProvider*> chain;
  for (absl::string_view name : absl::StrSplit(names, ',')) {
    if (absl::StripAsciiWhitespace(name).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "provider \"", absl::CEscape(names.substr(0, 64)),
          "\" has an empty name: name providers separated by commas, e.g. yfinance,finnhub"));
    }
    absl::StatusOr<PriceProvider*> provider = Find(name);
    if (!provider.ok()) return provider.status();
    if (std::find(chain.begin(), chain.end(), *provider) == chain.end()) {
      chain.push_back(*provider);
    }
  }
  if (chain.size() > kMaxChain) {
    return absl::InvalidArgumentError(
        absl::StrCat("a fallback order names at most ", kMaxChain, " providers, got ",
                     chain.size()));
  }
  return chain;
}

std::string ProviderRegistry::ChainName(const std::vector<PriceProvider*>& chain) {
  return absl::StrJoin(chain, ",", [](std::string* out, const PriceProvider* provider) {
    out->append(provider->name());
  });
}

std::vector<PriceProvider*> ProviderRegistry::providers() const {
  std::vector<PriceProvider*> out;
  for (const auto& provider : providers_) out.push_back(provider.get());
  return out;
}

}  // namespace marketdata
