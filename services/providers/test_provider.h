// The offline `test` provider: plausible prices without any network, deterministic when seeded.
#ifndef MARKETDATA_SERVICES_PROVIDERS_TEST_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_TEST_PROVIDER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/providers/provider.h"

namespace marketdata {

class TestProvider final : public PriceProvider {
 public:
  // With a seed, the n-th price of a symbol is the same in every run. Without one, prices vary
  // from run to run.
  explicit TestProvider(std::optional<uint64_t> seed);

  std::string name() const override { return "test"; }
  bool configured() const override { return true; }
  absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) override;
  bool may_block() const override { return false; }

  // The price around which a symbol varies (AAPL 180, MSFT 420, ..., 100 otherwise).
  static double BasePrice(absl::string_view symbol);

 private:
  const uint64_t seed_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_TEST_PROVIDER_H_
