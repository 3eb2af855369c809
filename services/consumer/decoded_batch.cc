#include "services/consumer/decoded_batch.h"

#include "absl/status/statusor.h"
#include "services/events/price_event.h"

namespace marketdata {

DecodedBatch DecodeBatch(const std::vector<ConsumedRecord>& records, absl::Time now,
                         absl::Duration late_window) {
  DecodedBatch out;
  out.prices.reserve(records.size());
  out.sources.reserve(records.size());
  for (const ConsumedRecord& r : records) {
    absl::StatusOr<StoredPrice> price = DecodePriceEvent(r.value, r.headers.content_type, now);
    if (!price.ok()) {
      out.rejected.emplace_back(&r, std::string(price.status().message()));
      continue;
    }
    if (late_window > absl::ZeroDuration() && price->quote.timestamp < now - late_window) {
      ++out.sealed;
      continue;
    }
    price->quote.origin = r.headers.origin;
    out.prices.push_back(*std::move(price));
    out.sources.push_back(&r);
  }
  return out;
}

}  // namespace marketdata
