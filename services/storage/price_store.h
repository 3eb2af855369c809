// PriceStore: durable storage of prices. Saving a price writes the raw reply, the price point and
// its outbox entry in one transaction, so a committed price is always eventually published.
#ifndef MARKETDATA_SERVICES_STORAGE_PRICE_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_PRICE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/domain/quote.h"
#include "services/storage/database.h"

namespace marketdata {

class PriceStore {
 public:
  using SaveDone = std::function<void(absl::StatusOr<StoredPrice>)>;

  virtual ~PriceStore() = default;
  virtual absl::StatusOr<StoredPrice> SavePrice(const Quote& quote) = 0;
  // Calls `done` once the price is committed (or failed), possibly on another thread. The default
  // saves synchronously on the caller's thread.
  virtual void SavePriceAsync(Quote quote, SaveDone done) { done(SavePrice(quote)); }
};

struct PriceQuery {
  std::string symbol;
  std::string provider;  // empty: every provider
  std::optional<absl::Time> start;  // inclusive
  std::optional<absl::Time> end;    // exclusive
  int limit = 100;
  std::string page_token;
};

struct PricePage {
  std::vector<StoredPrice> prices;  // newest first
  std::string next_page_token;      // empty on the last page
};

// Stored prices, read back.
class PriceHistory {
 public:
  virtual ~PriceHistory() = default;
  // INVALID_ARGUMENT for a malformed page token.
  virtual absl::StatusOr<PricePage> ListPrices(const PriceQuery& query) = 0;
};

// Prices whose event is not yet acknowledged by the broker.
class PriceOutbox {
 public:
  virtual ~PriceOutbox() = default;
  // Claims up to `limit` entries that are due, hiding them from other claimers for `lease`.
  virtual absl::StatusOr<std::vector<StoredPrice>> ClaimDue(int limit, absl::Duration lease) = 0;
  // Forgets entries whose events the broker acknowledged.
  virtual absl::Status Acknowledge(const std::vector<int64_t>& price_point_ids) = 0;
};

// Writes quotes in one statement and one transaction (raw replies, price points and outbox rows);
// results in the order of `quotes`. A quote of a polling tick whose record the database refused
// (see PollTick) is not written: its result has price_point_id 0 and tick_recorded false, which
// SavedOrRefused turns into the error its caller gets.
absl::StatusOr<std::vector<StoredPrice>> SavePriceBatch(Database& db,
                                                        const std::vector<Quote>& quotes);

// A price of a polling tick that was not stored because the tick already has one for the symbol,
// or its lease is no longer held by the quote's owner: ABORTED, marked with the tick's key.
absl::Status TickRefusedError(const PollTick& tick, absl::string_view symbol);
// The key of the tick whose write `status` refused; nullopt for any other status.
std::optional<std::string> RefusedTick(const absl::Status& status);
std::string TickKey(const PollTick& tick);
// One result of SavePriceBatch as its caller's answer: the price, or TickRefusedError.
absl::StatusOr<StoredPrice> SavedOrRefused(const StoredPrice& saved);

class PostgresPriceStore final : public PriceStore, public PriceOutbox, public PriceHistory {
 public:
  explicit PostgresPriceStore(Database& db) : db_(db) {}

  absl::StatusOr<StoredPrice> SavePrice(const Quote& quote) override;
  absl::StatusOr<std::vector<StoredPrice>> ClaimDue(int limit, absl::Duration lease) override;
  absl::Status Acknowledge(const std::vector<int64_t>& price_point_ids) override;
  absl::StatusOr<PricePage> ListPrices(const PriceQuery& query) override;

 private:
  Database& db_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_PRICE_STORE_H_
