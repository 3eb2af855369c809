#include "services/pricing/price_recorder.h"

#include "services/domain/symbol.h"

namespace marketdata {

absl::StatusOr<StoredPrice> PriceRecorder::Record(absl::string_view raw_symbol,
                                                  absl::string_view provider_name) {
  absl::StatusOr<StoredPrice> stored = RecordOnce(raw_symbol, provider_name);
  (stored.ok() ? recorded_ : failed_).fetch_add(1, std::memory_order_relaxed);
  return stored;
}

absl::StatusOr<StoredPrice> PriceRecorder::RecordOnce(absl::string_view raw_symbol,
                                                      absl::string_view provider_name) {
  absl::StatusOr<std::string> symbol = NormalizeSymbol(raw_symbol);
  if (!symbol.ok()) return symbol.status();
  absl::StatusOr<PriceProvider*> provider = providers_.Find(provider_name);
  if (!provider.ok()) return provider.status();
  absl::StatusOr<Quote> quote = (*provider)->FetchQuote(*symbol);
  if (!quote.ok()) return quote.status();
  absl::StatusOr<StoredPrice> stored = store_.SavePrice(*quote);
  if (!stored.ok()) return stored.status();
  publisher_.Publish(*stored);
  return stored;
}

}  // namespace marketdata
