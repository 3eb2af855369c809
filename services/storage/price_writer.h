// PriceWriter: group commit for SavePrice. Concurrent callers' prices are written together, one
// statement and one transaction per batch (raw replies, price points and outbox rows through
// unnest), and each caller gets its answer only after that commit. One commit per request would
// cap the request rate at the database's commit rate; a batch pays one fsync for all of them.
//
// SavePriceAsync hands the answer to a callback on the writer thread, so a request waiting for
// its commit holds no thread of its own.
//
// One thread writes: it takes what waits only when it is ready to write it, so everything that
// arrived during one commit goes into the next. A commit's fixed cost (an fsync and a round trip,
// several hundred microseconds of CPU on small machines) is shared by the whole batch, which
// makes the batch size the main lever of the database's cost per price. `linger` lets the writer
// wait a little longer for more prices, but only while requests come in concurrently (its last
// batch held more than one): a lone request never waits.
#ifndef MARKETDATA_SERVICES_STORAGE_PRICE_WRITER_H_
#define MARKETDATA_SERVICES_STORAGE_PRICE_WRITER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/storage/database.h"
#include "services/storage/price_store.h"

namespace marketdata {

struct PriceWriterOptions {
  size_t max_batch = 512;  // most prices in one statement
  // Most prices waiting; more fail at once with UNAVAILABLE rather than wait ever longer
  // (PostgreSQL slow or away).
  size_t max_queued = 50000;
  // How long the writer waits for more prices while requests arrive concurrently (see the top of
  // this file); zero: it writes what waits at once.
  absl::Duration linger = absl::ZeroDuration();
};

class PriceWriter final : public PriceStore {
 public:
  // The writer takes whatever is waiting (up to `max_batch`) and writes it.
  explicit PriceWriter(Database& db, PriceWriterOptions options = {});
  ~PriceWriter() override { Stop(); }

  // Writes everything already queued, then stops; later saves fail with UNAVAILABLE. Idempotent.
  void Stop();

  absl::StatusOr<StoredPrice> SavePrice(const Quote& quote) override;
  void SavePriceAsync(Quote quote, SaveDone done) override;

  // Batches written and the prices they held: their ratio is the mean batch size.
  int64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  int64_t prices_written() const { return prices_written_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    Quote quote;
    SaveDone done;
  };
  void WriterLoop();
  // The next batch, once one waits; empty when stopping with nothing left.
  std::vector<Pending> TakeBatch(bool linger);
  void Write(std::vector<Pending>& batch);

  Database& db_;
  const PriceWriterOptions options_;
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> prices_written_{0};
  std::thread writer_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_PRICE_WRITER_H_
