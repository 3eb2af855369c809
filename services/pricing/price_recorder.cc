#include "services/pricing/price_recorder.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/domain/symbol.h"
#include "spdlog/spdlog.h"

namespace marketdata {

void PriceRecorder::Count(bool ok) {
  (ok ? recorded_ : failed_).fetch_add(1, std::memory_order_relaxed);
}

absl::StatusOr<PriceRecorder::Fetch> PriceRecorder::Resolve(absl::string_view raw_symbol,
                                                            absl::string_view provider_name) {
  absl::StatusOr<std::string> symbol = NormalizeSymbol(raw_symbol);
  if (!symbol.ok()) return symbol.status();
  absl::StatusOr<PriceProvider*> provider = providers_.Find(provider_name);
  if (!provider.ok()) return provider.status();
  return Fetch{*provider, *std::move(symbol)};
}

absl::StatusOr<StoredPrice> PriceRecorder::Record(absl::string_view raw_symbol,
                                                  absl::string_view provider_name,
                                                  std::optional<int64_t> key) {
  // The caller's own thread may block: it fetches itself and waits for the commit.
  absl::StatusOr<StoredPrice> result = absl::InternalError("not recorded");
  absl::Notification recorded;
  Start(raw_symbol, provider_name, /*blocking_fetches=*/nullptr,
        [&](absl::StatusOr<StoredPrice> stored) {
          result = std::move(stored);
          recorded.Notify();
        },
        /*cancelled=*/{}, key);
  recorded.WaitForNotification();
  return result;
}

void PriceRecorder::RecordAsync(absl::string_view raw_symbol, absl::string_view provider_name,
                                RecordDone done, std::function<bool()> cancelled,
                                std::optional<int64_t> key) {
  Start(raw_symbol, provider_name, blocking_fetches_, std::move(done), std::move(cancelled), key);
}

void PriceRecorder::Start(absl::string_view raw_symbol, absl::string_view provider_name,
                          FetchLanes* blocking_fetches, RecordDone done,
                          std::function<bool()> cancelled, std::optional<int64_t> key) {
  absl::StatusOr<Fetch> fetch = Resolve(raw_symbol, provider_name);
  if (fetch.ok() && key.has_value() && shares_ != nullptr) {
    if (absl::Status s = shares_->Take(*key, *fetch->provider); !s.ok()) fetch = s;
  }
  if (!fetch.ok()) {
    Count(false);
    done(fetch.status());
    return;
  }
  // The request's ids go along to the lane thread and the storage thread, on the price itself
  // (the ids of the request that started a shared call).
  RequestContext origin = CurrentRequestContext();
  const std::string shared_key = absl::StrCat(fetch->provider->name(), "/", fetch->symbol);
  shared_calls_.Join(
      shared_key, std::move(done), std::move(cancelled),
      [this, fetch = *std::move(fetch), blocking_fetches, origin = std::move(origin)](
          std::function<bool()> abandoned, SharedCalls::Done finish) {
        Call(fetch, blocking_fetches, std::move(abandoned), origin, std::move(finish));
      });
}

void PriceRecorder::Call(const Fetch& fetch, FetchLanes* blocking_fetches,
                         std::function<bool()> cancelled, const RequestContext& origin,
                         RecordDone done) {
  if (blocking_fetches != nullptr && fetch.provider->may_block()) {
    auto shared_done = std::make_shared<RecordDone>(std::move(done));
    const std::string lane = fetch.provider->name();
    FetchLanes::Fetch work = [this, fetch, shared_done, cancelled = std::move(cancelled),
                              origin](absl::Time deadline) mutable {
      ScopedRequestContext scope(origin);
      if (cancelled && cancelled()) {
        Count(false);
        (*shared_done)(absl::CancelledError("the client gave up before the provider was called"));
        return;
      }
      if (absl::Now() >= deadline) {
        Count(false);
        (*shared_done)(absl::UnavailableError(absl::StrCat(
            fetch.provider->name(),
            " is busy: no fetch thread became free within the deadline; retry later")));
        return;
      }
      absl::StatusOr<Quote> quote = fetch.provider->FetchQuoteBy(fetch.symbol, deadline);
      Store(std::move(quote), std::move(origin), std::move(*shared_done));
    };
    if (!blocking_fetches->TrySchedule(lane, std::move(work))) {
      Count(false);
      (*shared_done)(absl::UnavailableError(absl::StrCat(
          "too many requests are waiting for provider ", lane, "; retry later")));
    }
    return;
  }
  absl::StatusOr<Quote> quote = fetch.provider->FetchQuote(fetch.symbol);
  Store(std::move(quote), origin, std::move(done));
}

void PriceRecorder::Store(absl::StatusOr<Quote> quote, RequestContext origin, RecordDone done) {
  if (!quote.ok()) {
    Count(false);
    done(quote.status());
    return;
  }
  quote->origin = std::move(origin);
  if (const AcceptanceWindow::Verdict verdict = window_.Judge(quote->timestamp, absl::Now());
      verdict != AcceptanceWindow::Verdict::kStore) {
    // The caller gets the quote; no stored price is made of it (ids 0), and no event.
    (verdict == AcceptanceWindow::Verdict::kTooOld ? too_old_ : too_new_)
        .fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("{} {} at {}: answered, not stored ({})", quote->provider, quote->symbol,
                  absl::FormatTime(quote->timestamp, absl::UTCTimeZone()),
                  std::string(VerdictName(verdict)));
    StoredPrice answered;
    answered.quote = *std::move(quote);
    done(std::move(answered));
    return;
  }
  store_.SavePriceAsync(*std::move(quote),
                        [this, done = std::move(done)](absl::StatusOr<StoredPrice> stored) {
                          // Runs on a storage thread: its lines name the request too.
                          std::optional<ScopedRequestContext> scope;
                          if (stored.ok()) scope.emplace(stored->quote.origin);
                          if (stored.ok()) publisher_.Publish(*stored);
                          Count(stored.ok());
                          done(std::move(stored));
                        });
}

}  // namespace marketdata
