// Stored prices for tests: one way to make the domain value that handlers, stores and codecs
// take, instead of a helper per test file.
#ifndef MARKETDATA_SERVICES_DOMAIN_TEST_PRICES_H_
#define MARKETDATA_SERVICES_DOMAIN_TEST_PRICES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/domain/quote.h"

namespace marketdata {

// A price of `symbol` from the test provider, stored with price point id `id` (and raw response
// id `id`), priced at `at`.
inline StoredPrice TestPrice(std::string symbol, int64_t id, double price, absl::Time at,
                             std::optional<double> volume = std::nullopt) {
  StoredPrice p;
  p.quote.symbol = std::move(symbol);
  p.quote.price = price;
  p.quote.timestamp = at;
  p.quote.provider = "test";
  p.quote.volume = volume;
  p.price_point_id = id;
  p.raw_response_id = id;
  return p;
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_TEST_PRICES_H_
