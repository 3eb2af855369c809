// Which time partitions a table needs now: made ahead of the rows that will land in them, and
// removed whole once every row in them is older than the table's retention. Pure: the clock and
// the partitions that exist are inputs.
#ifndef MARKETDATA_SERVICES_LIFECYCLE_PARTITION_PLAN_H_
#define MARKETDATA_SERVICES_LIFECYCLE_PARTITION_PLAN_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "services/storage/partition_store.h"

namespace marketdata {

struct PartitionPolicy {
  // Length of a partition; partitions start at whole multiples of it since the epoch (a day:
  // UTC midnight).
  absl::Duration length = absl::Hours(24);
  // Partitions that exist after the one holding `now`.
  int ahead = 3;
  // How far before `now` rows may still land: partitions are made back to the one holding
  // now - behind (a table whose rows are stamped with the database's clock needs one partition
  // back, for the clocks of the processes to differ).
  absl::Duration behind = absl::ZeroDuration();
  // A partition is removed once its upper bound is this much in the past; zero keeps all.
  absl::Duration retention = absl::ZeroDuration();
};

struct PartitionPlan {
  std::vector<std::pair<absl::Time, absl::Time>> create;  // [lower, upper), oldest first
  std::vector<TimePartition> drop;                        // oldest first
};

// `existing` as the catalog lists it. Partitions are made from the end of the newest one (or,
// in a table without any, from the partition holding now - max(behind, length)) up to `ahead`
// partitions after the one holding `now`. Rows never carry a time further back, so nothing can
// land in a gap there. Dropped: every partition whose upper bound
// is at least `retention` before `now`; never one that `now` or a later time falls in.
PartitionPlan PlanPartitions(const std::vector<TimePartition>& existing,
                             const PartitionPolicy& policy, absl::Time now);

// Partition lengths covered after the one holding `now` (partitions are contiguous; a table
// attached whole counts up to its end): how long writes can go on should no more be made (an
// alert watches it).
int PartitionsAhead(const std::vector<TimePartition>& existing, absl::Duration length,
                    absl::Time now);
// The same from the end of the newest partition.
int PartitionsAhead(absl::Time covered_until, absl::Duration length, absl::Time now);
// The end of the newest partition (pending detaches left out); InfinitePast when none.
absl::Time CoveredUntil(const std::vector<TimePartition>& existing);

// The start of the partition holding `t`.
absl::Time PartitionStart(absl::Time t, absl::Duration length);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_LIFECYCLE_PARTITION_PLAN_H_
