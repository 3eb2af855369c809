// PriceWriter: group commit for SavePrice. Concurrent callers' prices are written together, one
// statement and one transaction per batch (raw replies, price points and outbox rows through
// unnest), and each caller gets its answer only after that commit. One commit per request would
// cap the request rate at the database's commit rate; a batch pays one fsync for all of them.
//
// SavePriceAsync hands the answer to a callback on the writer thread, so a request waiting for
// its commit holds no thread of its own.
#ifndef MARKETDATA_SERVICES_STORAGE_PRICE_WRITER_H_
#define MARKETDATA_SERVICES_STORAGE_PRICE_WRITER_H_

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/storage/database.h"
#include "services/storage/price_store.h"

namespace marketdata {

class PriceWriter final : public PriceStore {
 public:
  // `writers` threads each take whatever is waiting (up to `max_batch`) and write it. At most
  // `max_queued` prices wait; more fail at once with UNAVAILABLE rather than wait ever longer
  // (PostgreSQL slow or away).
  PriceWriter(Database& db, int writers = 2, size_t max_batch = 512, size_t max_queued = 50000);
  ~PriceWriter() override { Stop(); }

  // Writes everything already queued, then stops; later saves fail with UNAVAILABLE. Idempotent.
  void Stop();

  absl::StatusOr<StoredPrice> SavePrice(const Quote& quote) override;
  void SavePriceAsync(Quote quote, SaveDone done) override;

 private:
  struct Pending {
    Quote quote;
    SaveDone done;
  };
  void WriterLoop();
  void Write(std::vector<Pending>& batch);

  Database& db_;
  const size_t max_batch_;
  const size_t max_queued_;
  absl::Mutex mu_;
  absl::Mutex order_mu_;  // held by a writer from its statement to its last callback
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> writers_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_PRICE_WRITER_H_
