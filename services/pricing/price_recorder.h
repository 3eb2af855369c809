// PriceRecorder: the one path every new price takes — validate, fetch from the provider, store
// (raw reply + price point + outbox entry in one transaction), publish. Used by GetLatestPrice
// and by polling jobs alike. Concurrent requests for one symbol and provider share the next call
// and its stored price (SharedCalls): never one that began before they arrived.
#ifndef MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_
#define MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/logging/request_context.h"
#include "services/domain/acceptance_window.h"
#include "services/domain/quote.h"
#include "services/events/publisher.h"
#include "services/pricing/fetch_lanes.h"
#include "services/pricing/provider_shares.h"
#include "services/pricing/shared_calls.h"
#include "services/providers/registry.h"
#include "services/storage/price_store.h"

namespace marketdata {

class PriceRecorder {
 public:
  using RecordDone = std::function<void(absl::StatusOr<StoredPrice>)>;

  // `blocking_fetches` runs RecordAsync's fetches from providers that may block, each within its
  // lane's budget; null: they run on the calling thread.
  // `shares` (may be null: no shares) limits each API key to its share of a provider's limit.
  // `window`: the quote times that are stored; a quote outside it is answered all the same, but
  // neither stored nor published (counted in not_stored()).
  PriceRecorder(ProviderRegistry& providers, PriceStore& store, PriceEventPublisher& publisher,
                FetchLanes* blocking_fetches = nullptr, ProviderShares* shares = nullptr,
                AcceptanceWindow window = {})
      : providers_(providers),
        store_(store),
        publisher_(publisher),
        blocking_fetches_(blocking_fetches),
        shares_(shares),
        window_(window) {}

  // `symbol` and `provider` as the client sent them; an empty provider means the default. Fetches
  // on the calling thread and waits for the commit.
  // `key`: the API key the price is fetched for, if any (see ProviderShares).
  absl::StatusOr<StoredPrice> Record(absl::string_view symbol, absl::string_view provider,
                                     std::optional<int64_t> key = std::nullopt);

  // The same without holding the caller's thread: `done` runs once the price is committed and
  // published (or failed), usually on a storage thread; a validation error calls it at once.
  // `cancelled` (may be empty) is asked before a provider is called: a request its client gave
  // up on while it waited does no work (CANCELLED). When too many fetches already wait for the
  // provider's threads, the call fails at once with UNAVAILABLE; so does a fetch whose budget
  // ran out while it waited.
  void RecordAsync(absl::string_view symbol, absl::string_view provider, RecordDone done,
                   std::function<bool()> cancelled = {},
                   std::optional<int64_t> key = std::nullopt);

  int64_t recorded() const { return recorded_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  // Quotes answered but not stored, their time older than the window or ahead of it.
  int64_t not_stored(AcceptanceWindow::Verdict why) const {
    return (why == AcceptanceWindow::Verdict::kTooNew ? too_new_ : too_old_)
        .load(std::memory_order_relaxed);
  }

 private:
  struct Fetch {
    PriceProvider* provider;
    std::string symbol;
  };
  absl::StatusOr<Fetch> Resolve(absl::string_view symbol, absl::string_view provider);
  // The one path of both calls; `blocking_fetches` as in the constructor.
  void Start(absl::string_view symbol, absl::string_view provider, FetchLanes* blocking_fetches,
             RecordDone done, std::function<bool()> cancelled, std::optional<int64_t> key);
  // One provider call and its commit, shared by every request that joined it (SharedCalls):
  // `cancelled` tells whether all of them gave up.
  void Call(const Fetch& fetch, FetchLanes* blocking_fetches, std::function<bool()> cancelled,
            const RequestContext& origin, RecordDone done);
  void Store(absl::StatusOr<Quote> quote, RequestContext origin, RecordDone done);
  void Count(bool ok);

  ProviderRegistry& providers_;
  PriceStore& store_;
  PriceEventPublisher& publisher_;
  FetchLanes* const blocking_fetches_;
  ProviderShares* const shares_;
  SharedCalls shared_calls_;
  std::atomic<int64_t> recorded_{0};
  std::atomic<int64_t> failed_{0};
  const AcceptanceWindow window_;
  std::atomic<int64_t> too_old_{0};
  std::atomic<int64_t> too_new_{0};
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_
