// PriceRecorder: the one path every new price takes — validate, fetch from the provider, store
// (raw reply + price point + outbox entry in one transaction), publish. Used by GetLatestPrice
// and by polling jobs alike.
#ifndef MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_
#define MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_

#include <atomic>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/domain/quote.h"
#include "services/events/publisher.h"
#include "services/providers/registry.h"
#include "services/storage/price_store.h"

namespace marketdata {

class PriceRecorder {
 public:
  PriceRecorder(ProviderRegistry& providers, PriceStore& store, PriceEventPublisher& publisher)
      : providers_(providers), store_(store), publisher_(publisher) {}

  // `symbol` and `provider` as the client sent them; an empty provider means the default.
  absl::StatusOr<StoredPrice> Record(absl::string_view symbol, absl::string_view provider);

  int64_t recorded() const { return recorded_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  absl::StatusOr<StoredPrice> RecordOnce(absl::string_view symbol, absl::string_view provider);

  ProviderRegistry& providers_;
  PriceStore& store_;
  PriceEventPublisher& publisher_;
  std::atomic<int64_t> recorded_{0};
  std::atomic<int64_t> failed_{0};
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_
