#include "services/storage/price_writer.h"

#include "absl/synchronization/notification.h"

namespace marketdata {
struct PriceWriter::Pending {
  const Quote* quote;
  absl::StatusOr<StoredPrice> result = absl::InternalError("not written");
  absl::Notification done;
};

PriceWriter::PriceWriter(Database& db, int writers, size_t max_batch)
    : db_(db), max_batch_(max_batch) {
  for (int i = 0; i < writers; ++i) writers_.emplace_back([this] { WriterLoop(); });
}

PriceWriter::~PriceWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : writers_) t.join();
}

absl::StatusOr<StoredPrice> PriceWriter::SavePrice(const Quote& quote) {
  Pending pending{&quote};
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("shutting down");
    queue_.push_back(&pending);
  }
  pending.done.WaitForNotification();
  return std::move(pending.result);
}

void PriceWriter::WriterLoop() {
  while (true) {
    std::vector<Pending*> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PriceWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
            return !w->queue_.empty() || w->stopping_;
          },
          this));
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    std::vector<Quote> quotes;
    quotes.reserve(batch.size());
    for (Pending* p : batch) quotes.push_back(*p->quote);
    absl::StatusOr<std::vector<StoredPrice>> stored = SavePriceBatch(db_, quotes);
    if (!stored.ok() && batch.size() > 1) {
      // One bad quote must not fail its neighbours: write them one by one to find it.
      for (Pending* p : batch) {
        absl::StatusOr<std::vector<StoredPrice>> one = SavePriceBatch(db_, {*p->quote});
        p->result = one.ok() ? absl::StatusOr<StoredPrice>((*one)[0])
                             : absl::StatusOr<StoredPrice>(one.status());
        p->done.Notify();
      }
      continue;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->result = stored.ok() ? absl::StatusOr<StoredPrice>((*stored)[i])
                                     : absl::StatusOr<StoredPrice>(stored.status());
      batch[i]->done.Notify();
    }
  }
}

}  // namespace marketdata
