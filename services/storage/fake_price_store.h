// FakePriceStore: an in-memory PriceStore for tests. Numbers the prices it saves 1, 2, ... (the
// raw reply of each 100 more), keeps their quotes, and fails every save while told to. Saves
// asked for asynchronously are answered on the caller's thread, or on a thread of their own as
// the group-commit writer does. Thread-safe.
#ifndef MARKETDATA_SERVICES_STORAGE_FAKE_PRICE_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_FAKE_PRICE_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/storage/polling_job_store.h"
#include "services/storage/price_store.h"

namespace marketdata {

class FakePriceStore final : public PriceStore {
 public:
  enum class Async {
    kOnCallersThread,  // SavePriceAsync answers before it returns
    kOnOwnThread,      // each SavePriceAsync answers from a new thread
  };

  explicit FakePriceStore(Async async = Async::kOnCallersThread) : async_(async) {}
  ~FakePriceStore() override {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  absl::StatusOr<StoredPrice> SavePrice(const Quote& quote) override {
    absl::MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    const auto id = static_cast<int64_t>(saved_.size()) + 1;
    const bool ticked = quote.tick.has_value() && record_tick_;
    if (ticked) {
      // As in one transaction: the price is kept only if its tick record is.
      absl::StatusOr<bool> recorded = record_tick_(*quote.tick, quote.symbol, id);
      if (!recorded.ok()) return recorded.status();
      if (!*recorded) return TickRefusedError(*quote.tick, quote.symbol);
    }
    saved_.push_back(quote);
    StoredPrice stored;
    stored.quote = quote;
    stored.price_point_id = id;
    stored.raw_response_id = id + 100;
    stored.tick_recorded = ticked;
    return stored;
  }
  void SavePriceAsync(Quote quote, SaveDone done) override {
    if (async_ == Async::kOnCallersThread) {
      done(SavePrice(quote));
      return;
    }
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, quote = std::move(quote), done = std::move(done)] {
      done(SavePrice(quote));
    });
  }

  // Records the tick of every quote fetched for one with `record` (false: refused), as the
  // PostgreSQL store does in the price's transaction: a refused record refuses the price
  // (TickRefusedError).
  using TickRecorder =
      std::function<absl::StatusOr<bool>(const PollTick&, const std::string& symbol, int64_t id)>;
  void RecordTicksWith(TickRecorder record) {
    absl::MutexLock lock(&mu_);
    record_tick_ = std::move(record);
  }
  // The same through a job store's RecordTick.
  void RecordTicksIn(PollingJobStore* ticks) {
    RecordTicksWith([ticks](const PollTick& tick, const std::string& symbol, int64_t id) {
      return ticks->RecordTick(tick, symbol, id);
    });
  }
  // Every save answers `status` while it is not OK, and saves nothing.
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
  }
  // The quotes saved, in order.
  std::vector<Quote> saved() const {
    absl::MutexLock lock(&mu_);
    return saved_;
  }
  int saved_count() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(saved_.size());
  }

 private:
  const Async async_;
  mutable absl::Mutex mu_;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  TickRecorder record_tick_ ABSL_GUARDED_BY(mu_);
  std::vector<Quote> saved_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_FAKE_PRICE_STORE_H_
