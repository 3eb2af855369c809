// PriceRecorder: the one path every new price takes — validate, fetch from the provider, store
// (raw reply + price point + outbox entry in one transaction), publish. Used by GetLatestPrice
// and by polling jobs alike. Every provider call is made to count:
//   - concurrent requests for one symbol and provider share the next call and its stored price
//     (SharedCalls): never one that began before they arrived;
//   - a request that accepts a quote up to `max_age` old, or a provider whose refresh floor
//     (PriceProvider::min_refresh) says so, is answered from the newest quote in memory
//     (RecentQuotes) without calling the provider nor storing a new price;
//   - a request may name a fallback order ("yfinance,finnhub"): when a provider fails, is out
//     of quota or its circuit is open, the next one is asked; the answer names who answered.
#ifndef MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_
#define MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/logging/request_context.h"
#include "services/domain/acceptance_window.h"
#include "services/domain/quote.h"
#include "services/events/publisher.h"
#include "services/pricing/fetch_lanes.h"
#include "services/pricing/provider_shares.h"
#include "services/pricing/recent_quotes.h"
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
  // `max_age`: a quote fetched at most this long ago is good enough (0: one fetched after the
  // request arrived); at most kMaxAge, else INVALID_ARGUMENT.
  // `tick`: the polling tick the price is for. A new price is then stored only with the tick's
  // record (see PollTick), else the call fails with TickRefusedError; a request that shared
  // such a refused call makes a call of its own.
  absl::StatusOr<StoredPrice> Record(absl::string_view symbol, absl::string_view provider,
                                     std::optional<int64_t> key = std::nullopt,
                                     absl::Duration max_age = absl::ZeroDuration(),
                                     std::optional<PollTick> tick = std::nullopt);

  // The same without holding the caller's thread: `done` runs once the price is committed and
  // published (or failed), usually on a storage thread; a validation error calls it at once.
  // `cancelled` (may be empty) is asked before a provider is called: a request its client gave
  // up on while it waited does no work (CANCELLED). When too many fetches already wait for the
  // provider's threads, the call fails at once with UNAVAILABLE; so does a fetch whose budget
  // ran out while it waited.
  void RecordAsync(absl::string_view symbol, absl::string_view provider, RecordDone done,
                   std::function<bool()> cancelled = {},
                   std::optional<int64_t> key = std::nullopt,
                   absl::Duration max_age = absl::ZeroDuration());

  static constexpr absl::Duration kMaxAge = absl::Hours(24);

  int64_t recorded() const { return recorded_.load(std::memory_order_relaxed); }
  // Provider calls made, requests that shared another request's call, requests answered from a
  // recent quote, and fallbacks to the next provider of an order.
  int64_t calls() const { return shared_calls_.calls(); }
  int64_t shared() const { return shared_calls_.shared(); }
  int64_t reused() const { return reused_.load(std::memory_order_relaxed); }
  int64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  // Quotes answered but not stored, their time older than the window or ahead of it.
  int64_t not_stored(AcceptanceWindow::Verdict why) const {
    return (why == AcceptanceWindow::Verdict::kTooNew ? too_new_ : too_old_)
        .load(std::memory_order_relaxed);
  }

 private:
  // One request on its way through its providers' order.
  struct Attempt;
  void Start(absl::string_view symbol, absl::string_view provider, FetchLanes* blocking_fetches,
             RecordDone done, std::function<bool()> cancelled, std::optional<int64_t> key,
             absl::Duration max_age, std::optional<PollTick> tick = std::nullopt);
  // Asks the attempt's current provider: a recent quote, a shared call or a new one; on a
  // provider's failure, the next provider of the order.
  void Try(std::shared_ptr<Attempt> attempt);
  void Answered(std::shared_ptr<Attempt> attempt, absl::StatusOr<StoredPrice> result);
  // One provider call and its commit, shared by every request that joined it (SharedCalls):
  // `cancelled` tells whether all of them gave up.
  // `key` names the call's provider and symbol (SharedCalls, RecentQuotes).
  // `tick`: the polling tick of the request that made the call, if any.
  void Call(PriceProvider* provider, const std::string& key, const std::string& symbol,
            FetchLanes* blocking_fetches, std::function<bool()> cancelled,
            const RequestContext& origin, std::optional<PollTick> tick, RecordDone done);
  void Store(const std::string& key, absl::StatusOr<Quote> quote, absl::Time fetched_at,
             RequestContext origin, std::optional<PollTick> tick, RecordDone done);
  void Count(bool ok);

  ProviderRegistry& providers_;
  PriceStore& store_;
  PriceEventPublisher& publisher_;
  FetchLanes* const blocking_fetches_;
  ProviderShares* const shares_;
  SharedCalls shared_calls_;
  RecentQuotes recent_;
  std::atomic<int64_t> reused_{0};
  std::atomic<int64_t> fallbacks_{0};
  std::atomic<int64_t> recorded_{0};
  std::atomic<int64_t> failed_{0};
  const AcceptanceWindow window_;
  std::atomic<int64_t> too_old_{0};
  std::atomic<int64_t> too_new_{0};
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PRICING_PRICE_RECORDER_H_
