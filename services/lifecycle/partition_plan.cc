#include "services/lifecycle/partition_plan.h"

#include <algorithm>

namespace marketdata {

absl::Time PartitionStart(absl::Time t, absl::Duration length) {
  const absl::Duration since_epoch = t - absl::UnixEpoch();
  absl::Duration rest = since_epoch % length;
  if (rest < absl::ZeroDuration()) rest += length;
  return t - rest;
}

PartitionPlan PlanPartitions(const std::vector<TimePartition>& existing,
                             const PartitionPolicy& policy, absl::Time now) {
  PartitionPlan plan;
  const absl::Time current = PartitionStart(now, policy.length);
  const absl::Time end = current + policy.length * (policy.ahead + 1);
  absl::Time from = PartitionStart(now - std::max(policy.behind, policy.length), policy.length);
  for (const TimePartition& p : existing) {
    if (p.detach_pending) continue;  // on its way out
    from = std::max(from, p.upper);
  }
  while (from < end) {
    // The first one may start off the grid (after a table attached whole); it ends on it.
    const absl::Time upper = PartitionStart(from, policy.length) + policy.length;
    plan.create.emplace_back(from, upper);
    from = upper;
  }
  if (policy.retention > absl::ZeroDuration()) {
    const absl::Time cutoff = std::min(now - policy.retention, current);
    for (const TimePartition& p : existing) {
      if (p.upper <= cutoff) plan.drop.push_back(p);
    }
  }
  return plan;
}

absl::Time CoveredUntil(const std::vector<TimePartition>& existing) {
  absl::Time covered = absl::InfinitePast();
  for (const TimePartition& p : existing) {
    if (!p.detach_pending) covered = std::max(covered, p.upper);
  }
  return covered;
}

int PartitionsAhead(absl::Time covered_until, absl::Duration length, absl::Time now) {
  const absl::Time next = PartitionStart(now, length) + length;
  if (covered_until <= next) return 0;
  absl::Duration rest;
  return static_cast<int>(absl::IDivDuration(covered_until - next, length, &rest));
}

int PartitionsAhead(const std::vector<TimePartition>& existing, absl::Duration length,
                    absl::Time now) {
  return PartitionsAhead(CoveredUntil(existing), length, now);
}

}  // namespace marketdata
