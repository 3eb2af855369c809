// The offline `test` provider: plausible prices without any network, deterministic when seeded.
#ifndef MARKETDATA_SERVICES_PROVIDERS_TEST_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_TEST_PROVIDER_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/providers/provider.h"

namespace marketdata {

class TestProvider final : public PriceProvider {
 public:
  // The provider counts the calls for each symbol it has seen, for every symbol a client asks
  // for; without a bound, requests for ever new symbols would grow that without end.
  static constexpr size_t kDefaultMaxSymbols = 100000;

  // With a seed, the n-th price of a symbol is the same in every run, as long as the symbol is
  // among the `max_symbols` most recently fetched ones. A symbol that dropped out of those is
  // forgotten and starts over from its first price (call 0) when fetched again, so with more
  // symbols than that in play the prices depend on the order of all fetches: still the same in
  // runs that fetch in the same order, and always within 2% of the base price. Without a seed,
  // prices vary from run to run.
  explicit TestProvider(std::optional<uint64_t> seed, size_t max_symbols = kDefaultMaxSymbols);

  std::string name() const override { return "test"; }
  bool configured() const override { return true; }
  absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) override;
  bool may_block() const override { return false; }

  // The price around which a symbol varies (AAPL 180, MSFT 420, ..., 100 otherwise).
  static double BasePrice(absl::string_view symbol);

  // How many symbols the provider currently keeps a call count for.
  size_t tracked_symbols() const;

 private:
  struct Calls {
    std::string symbol;
    uint64_t count = 0;
  };
  // The number of this call for `symbol` (0 for the first), counting it.
  uint64_t NextCall(absl::string_view symbol) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t seed_;
  const size_t max_symbols_;
  mutable absl::Mutex mu_;
  // Most recently fetched first; the least recently fetched symbol is forgotten first, so the
  // symbols in steady use (polled ones) keep their sequence.
  std::list<Calls> recent_ ABSL_GUARDED_BY(mu_);
  // Keys view the symbols in `recent_`, whose nodes never move.
  absl::flat_hash_map<absl::string_view, std::list<Calls>::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_TEST_PROVIDER_H_
