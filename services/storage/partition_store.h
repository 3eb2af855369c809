// Time partitions of the tables that grow with time: what exists, and the DDL that adds and
// removes them without stalling the writers.
#ifndef MARKETDATA_SERVICES_STORAGE_PARTITION_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_PARTITION_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/database.h"

namespace marketdata {

// One partition of a table partitioned by RANGE over a timestamp: [lower, upper). `lower` is
// empty for a partition that starts at MINVALUE (the table a database held before it was
// partitioned, attached whole).
struct TimePartition {
  std::string name;
  std::optional<absl::Time> lower;
  absl::Time upper;
  // Detached concurrently, but not finalized (the detach was interrupted).
  bool detach_pending = false;
};

// A partition of each time partition, by RANGE over an integer column: [lower, upper), either
// end open when unset. Lets one kind of row be removed before the others of the same time (the
// one-minute bars of a week, before its hourly ones).
struct SubPartition {
  std::string suffix;  // its name: the time partition's and this
  std::string column;
  std::optional<int64_t> lower;
  std::optional<int64_t> upper;
};

// The DDL one maintenance run needs, on one session that holds the maintenance lock.
class PartitionSession {
 public:
  virtual ~PartitionSession() = default;
  // The database's clock: rows are stamped with it, so partitions are planned by it.
  virtual absl::StatusOr<absl::Time> Now() = 0;
  // The partitions of `table`, oldest first.
  virtual absl::StatusOr<std::vector<TimePartition>> List(const std::string& table) = 0;
  // The time of the oldest price whose event the outbox still holds; none when it is empty.
  virtual absl::StatusOr<std::optional<absl::Time>> OldestOutboxPrice() = 0;
  // Makes and attaches the partition [lower, upper) of `table` (named after `lower`), itself cut
  // into `subs` when there are any.
  virtual absl::Status Create(const std::string& table, absl::Time lower, absl::Time upper,
                              const std::vector<SubPartition>& subs) = 0;
  // Detaches `partition` from `table` concurrently (writers never wait for it) and drops it.
  // Each step waits for its lock a short while only and is tried again, `retries` counting the
  // extra tries; an interrupted detach is finalized. ABORTED when the locks stayed taken.
  virtual absl::Status Drop(const std::string& table, const TimePartition& partition,
                            int* retries) = 0;
};

class PartitionStore {
 public:
  virtual ~PartitionStore() = default;
  // Runs `run` on a session holding the maintenance lock and returns true; returns false at
  // once, without running it, when another process holds the lock.
  virtual absl::StatusOr<bool> WithMaintenanceLock(
      const std::function<absl::Status(PartitionSession&)>& run) = 0;
  // The partitions of `table`, for metrics (any replica, no lock).
  virtual absl::StatusOr<std::vector<TimePartition>> List(const std::string& table) = 0;
};

struct PartitionDdlOptions {
  // How long each DDL statement waits for its lock before it gives up and is tried again, and
  // how often: a DDL statement waiting for a lock makes every later statement on the table
  // wait behind it, so it must never wait long.
  absl::Duration lock_timeout = absl::Milliseconds(200);
  int max_tries = 50;
  absl::Duration retry_pause = absl::Milliseconds(500);
};

class PostgresPartitionStore final : public PartitionStore {
 public:
  PostgresPartitionStore(Database& db, PartitionDdlOptions options = {})
      : db_(db), options_(options) {}

  absl::StatusOr<bool> WithMaintenanceLock(
      const std::function<absl::Status(PartitionSession&)>& run) override;
  absl::StatusOr<std::vector<TimePartition>> List(const std::string& table) override;

 private:
  Database& db_;
  const PartitionDdlOptions options_;
};

// The name of the partition of `table` that starts at `lower`: table_pYYYYMMDD_HHMMSS (UTC).
std::string PartitionName(const std::string& table, absl::Time lower);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_PARTITION_STORE_H_
