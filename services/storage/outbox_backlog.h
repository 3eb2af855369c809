// OutboxBacklog: how much of price_event_outbox the broker has not acknowledged yet, for
// mds_outbox_backlog_rows and mds_outbox_oldest_age_seconds. The table is read on a background
// thread every couple of seconds with a bounded query under a short statement timeout, so a
// scrape only reads the last value: it costs the database nothing extra, never waits for it, and
// never takes a session from a request.
#ifndef MARKETDATA_SERVICES_STORAGE_OUTBOX_BACKLOG_H_
#define MARKETDATA_SERVICES_STORAGE_OUTBOX_BACKLOG_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/runtime/periodic_loop.h"
#include "services/storage/database.h"

namespace marketdata {

struct OutboxBacklog {
  // Rows waiting, counted up to kOutboxBacklogCountLimit (beyond, the count stays there).
  int64_t rows = 0;
  // Since the oldest waiting price was stored; 0 when none waits.
  double oldest_age_seconds = 0;
};

inline constexpr int64_t kOutboxBacklogCountLimit = 1000000;

// One reading, in a transaction with `statement_timeout`.
absl::StatusOr<OutboxBacklog> ReadOutboxBacklog(Database& db, absl::Duration statement_timeout);

class OutboxBacklogMonitor {
 public:
  struct Options {
    absl::Duration period = absl::Seconds(2);
    absl::Duration statement_timeout = absl::Seconds(1);
    // A reading older than this (the database has been unreachable since) is not reported.
    absl::Duration max_age = absl::Seconds(30);
  };

  OutboxBacklogMonitor(Database& db, Options options);
  explicit OutboxBacklogMonitor(Database& db) : OutboxBacklogMonitor(db, Options()) {}

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

  // The latest reading, unless none succeeded within max_age.
  std::optional<OutboxBacklog> last() const;

 private:
  void Refresh();

  Database& db_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::optional<OutboxBacklog> last_ ABSL_GUARDED_BY(mu_);
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  PeriodicLoop loop_;  // last: stopped before the rest goes
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_OUTBOX_BACKLOG_H_
