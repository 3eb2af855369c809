#include "services/storage/outbox_backlog.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

// Both parts stay small: the count stops at the limit, and the oldest row is the smallest
// price_point_id (ids are drawn in order), the first entry of the outbox's key; it carries when
// it was committed, so price_points is not read at all.
constexpr PreparedSql kReadBacklog = {"read_outbox_backlog", R"SQL(
SELECT (SELECT count(*) FROM (SELECT 1 FROM price_event_outbox LIMIT $1) AS capped),
       coalesce((SELECT extract(epoch FROM now() - enqueued_at) FROM price_event_outbox
                 ORDER BY price_point_id LIMIT 1), 0))SQL"};

}  // namespace

absl::StatusOr<OutboxBacklog> ReadOutboxBacklog(Database& db, absl::Duration statement_timeout) {
  constexpr absl::string_view kWhat = "reading the outbox backlog";
  absl::StatusOr<Database::Lease> lease = db.Acquire();
  if (!lease.ok()) return lease.status();
  const std::string timeout =
      absl::StrCat("SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = ",
                   std::max<int64_t>(1, absl::ToInt64Milliseconds(statement_timeout)));
  absl::StatusOr<PgResult> result = absl::InternalError("not read");
  absl::Status status = InTransaction(*lease, kWhat, [&] {
    if (absl::StatusOr<PgResult> set = lease->Exec(timeout, kWhat); !set.ok()) {
      return set.status();
    }
    result = lease->Run(kReadBacklog, SqlParams().Int(kOutboxBacklogCountLimit), kWhat);
    return result.status();
  });
  if (!status.ok()) return status;
  OutboxBacklog backlog;
  backlog.rows = result->int64(0, 0);
  backlog.oldest_age_seconds = result->float64(0, 1);
  return backlog;
}

OutboxBacklogMonitor::OutboxBacklogMonitor(Database& db, Options options)
    : db_(db), options_(options), loop_(options.period, [this] { Refresh(); }) {}

void OutboxBacklogMonitor::Refresh() {
  absl::StatusOr<OutboxBacklog> backlog = ReadOutboxBacklog(db_, options_.statement_timeout);
  if (!backlog.ok()) {
    spdlog::debug("outbox backlog not read: {}", backlog.status().ToString());
    return;
  }
  absl::MutexLock lock(&mu_);
  last_ = *backlog;
  read_at_ = absl::Now();
}

std::optional<OutboxBacklog> OutboxBacklogMonitor::last() const {
  absl::MutexLock lock(&mu_);
  if (absl::Now() - read_at_ > options_.max_age) return std::nullopt;
  return last_;
}

}  // namespace marketdata
