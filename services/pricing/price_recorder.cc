#include "services/pricing/price_recorder.h"

#include <utility>

#include "services/domain/symbol.h"

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
                                                  absl::string_view provider_name) {
  absl::StatusOr<StoredPrice> stored = RecordOnce(raw_symbol, provider_name);
  Count(stored.ok());
  return stored;
}

absl::StatusOr<StoredPrice> PriceRecorder::RecordOnce(absl::string_view raw_symbol,
                                                      absl::string_view provider_name) {
  absl::StatusOr<Fetch> fetch = Resolve(raw_symbol, provider_name);
  if (!fetch.ok()) return fetch.status();
  absl::StatusOr<Quote> quote = fetch->provider->FetchQuote(fetch->symbol);
  if (!quote.ok()) return quote.status();
  absl::StatusOr<StoredPrice> stored = store_.SavePrice(*quote);
  if (!stored.ok()) return stored.status();
  publisher_.Publish(*stored);
  return stored;
}

void PriceRecorder::RecordAsync(absl::string_view raw_symbol, absl::string_view provider_name,
                                RecordDone done) {
  absl::StatusOr<Fetch> fetch = Resolve(raw_symbol, provider_name);
  if (!fetch.ok()) {
    Count(false);
    done(fetch.status());
    return;
  }
  if (blocking_fetches_ != nullptr && fetch->provider->may_block()) {
    blocking_fetches_->Schedule([this, fetch = *std::move(fetch), done = std::move(done)]() mutable {
      Store(fetch.provider->FetchQuote(fetch.symbol), std::move(done));
    });
    return;
  }
  Store(fetch->provider->FetchQuote(fetch->symbol), std::move(done));
}

void PriceRecorder::Store(absl::StatusOr<Quote> quote, RecordDone done) {
  if (!quote.ok()) {
    Count(false);
    done(quote.status());
    return;
  }
  store_.SavePriceAsync(*std::move(quote),
                        [this, done = std::move(done)](absl::StatusOr<StoredPrice> stored) {
                          if (stored.ok()) publisher_.Publish(*stored);
                          Count(stored.ok());
                          done(std::move(stored));
                        });
}

}  // namespace marketdata
