// PartitionMaintainer: keeps the time-partitioned tables' partitions made ahead and removes
// those past their retention. Any number of replicas run it; a database lock lets one at a time
// change anything, and every replica reads how many partitions are ready ahead.
#ifndef MARKETDATA_SERVICES_LIFECYCLE_PARTITION_MAINTAINER_H_
#define MARKETDATA_SERVICES_LIFECYCLE_PARTITION_MAINTAINER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/lifecycle/partition_plan.h"
#include "services/storage/partition_store.h"

namespace marketdata {

struct MaintainedTable {
  std::string table;
  PartitionPolicy policy;
  // A partition that may hold a price the outbox still holds (its event not yet published) is
  // not dropped until the outbox moved past it.
  bool keep_while_outbox_holds = false;
  // Each time partition is cut further into these (none: it is not), each removed once the time
  // partition's end is its own retention old (zero: kept with the time partition).
  struct Sub {
    SubPartition partition;
    absl::Duration retention;
  };
  std::vector<Sub> subpartitions;
};

class PartitionMaintainer {
 public:
  // `clock` reads the time the partitions ahead are counted from (tests give their own).
  PartitionMaintainer(PartitionStore& store, std::vector<MaintainedTable> tables,
                      std::function<absl::Time()> clock = absl::Now)
      : store_(store), tables_(std::move(tables)), clock_(std::move(clock)) {}

  // One run. With the lock: makes what is missing, then drops what has expired, table by
  // table; without it (another replica runs): only reads the partitions. Either way the
  // partitions ready ahead are known afterwards.
  absl::Status RunOnce();

  // Runs until every table has a partition ready after the one holding now, for at most
  // `wait` (another replica may be making them): a process that writes calls it before it
  // serves. UNAVAILABLE with the last failure when the time is up.
  absl::Status EnsureReady(absl::Duration wait);

  struct TableStats {
    // Partitions after the one holding now, by the clock when stats() is called (so it falls
    // should maintenance stop altogether); -1 before the partitions were first read.
    int ahead = -1;
    int64_t created = 0;
    int64_t dropped = 0;
    // Partitions past their retention kept at the last run, for the outbox (see
    // MaintainedTable::keep_while_outbox_holds).
    int held = 0;
  };
  struct Stats {
    std::map<std::string, TableStats> tables;
    absl::Time last_success = absl::InfinitePast();  // of a run that held the lock
    int64_t runs = 0;                                // runs that held the lock
    int64_t failures = 0;
    int64_t drop_retries = 0;  // lock timeouts of the detach and drop statements
  };
  Stats stats() const;

  const std::vector<MaintainedTable>& tables() const { return tables_; }

 private:
  absl::Status Maintain(PartitionSession& session);

  PartitionStore& store_;
  const std::vector<MaintainedTable> tables_;
  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  // The end of each table's newest partition, as last read.
  std::map<std::string, absl::Time> covered_until_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_LIFECYCLE_PARTITION_MAINTAINER_H_
