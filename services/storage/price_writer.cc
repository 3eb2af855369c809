#include "services/storage/price_writer.h"

#include <algorithm>
#include <utility>

#include "absl/synchronization/notification.h"

namespace marketdata {
namespace {

// True when PostgreSQL answered that it refused the statement, as opposed to an outage or a
// timeout after which the outcome of the commit is unknown.
bool IsRejectedStatement(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
      return false;
    default:
      return true;
  }
}

}  // namespace

PriceWriter::PriceWriter(Database& db, PriceWriterOptions options)
    : db_(db), options_(options) {
  writer_ = std::thread([this] { WriterLoop(); });
}

void PriceWriter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
}

absl::StatusOr<StoredPrice> PriceWriter::SavePrice(const Quote& quote) {
  absl::StatusOr<StoredPrice> result = absl::InternalError("not written");
  absl::Notification written;
  SavePriceAsync(quote, [&](absl::StatusOr<StoredPrice> stored) {
    result = std::move(stored);
    written.Notify();
  });
  written.WaitForNotification();
  return result;
}

void PriceWriter::SavePriceAsync(Quote quote, SaveDone done) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refused = absl::UnavailableError("shutting down");
    } else if (queue_.size() >= options_.max_queued) {
      refused = absl::UnavailableError("database busy: too many prices waiting to be written");
    } else {
      queue_.push_back(Pending{std::move(quote), std::move(done)});
      return;
    }
  }
  done(refused);
}

void PriceWriter::WriterLoop() {
  bool concurrent = false;  // the last batch held more than one price
  while (true) {
    std::vector<Pending> batch = TakeBatch(concurrent);
    if (batch.empty()) return;  // stopping, nothing left
    concurrent = batch.size() > 1;
    Write(batch);
  }
}

std::vector<PriceWriter::Pending> PriceWriter::TakeBatch(bool linger) {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](PriceWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
        return !w->queue_.empty() || w->stopping_;
      },
      this));
  if (linger && options_.linger > absl::ZeroDuration() && !stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](PriceWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
                               return w->queue_.size() >= w->options_.max_batch || w->stopping_;
                             },
                             this),
                         options_.linger);
  }
  std::vector<Pending> batch;
  while (!queue_.empty() && batch.size() < options_.max_batch) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

void PriceWriter::Write(std::vector<Pending>& batch) {
  // Consumers keep averages and bars per symbol in (timestamp, id) order, and an event that
  // arrives behind a later one costs them a repair. So ids follow timestamps within a batch, and
  // batches are written and handed on (published) one after another, by the one writer thread:
  // ids then reach the topic in increasing order. The statement's own lock does the same across
  // replicas.
  std::stable_sort(batch.begin(), batch.end(), [](const Pending& a, const Pending& b) {
    return a.quote.timestamp < b.quote.timestamp;
  });
  batches_.fetch_add(1, std::memory_order_relaxed);
  prices_written_.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
  std::vector<Quote> quotes;
  quotes.reserve(batch.size());
  for (const Pending& p : batch) quotes.push_back(p.quote);
  absl::StatusOr<std::vector<StoredPrice>> stored = SavePriceBatch(db_, quotes);
  if (!stored.ok() && batch.size() > 1 && IsRejectedStatement(stored.status())) {
    // The server refused the statement (so nothing of it was written), maybe for one bad quote:
    // it must not fail its neighbours, so write them one by one to find it. A lost connection
    // is different: the commit may have happened, and writing again would store every price
    // twice, so those calls fail as the batch did.
    for (Pending& p : batch) {
      absl::StatusOr<std::vector<StoredPrice>> one = SavePriceBatch(db_, {p.quote});
      p.done(one.ok() ? SavedOrRefused((*one)[0]) : absl::StatusOr<StoredPrice>(one.status()));
    }
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].done(stored.ok() ? SavedOrRefused((*stored)[i])
                              : absl::StatusOr<StoredPrice>(stored.status()));
  }
}

}  // namespace marketdata
