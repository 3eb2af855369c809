#include "services/lifecycle/partition_maintainer.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace marketdata {

namespace {

// Takes out of `drop` the partitions that may hold a price the outbox still holds (its event not
// yet taken by the broker); returns how many.
absl::StatusOr<int> KeepWhatTheOutboxHolds(PartitionSession& session,
                                           std::vector<TimePartition>& drop) {
  absl::StatusOr<std::optional<absl::Time>> oldest = session.OldestOutboxPrice();
  if (!oldest.ok()) return oldest.status();
  if (!oldest->has_value()) return 0;
  int held = 0;
  std::vector<TimePartition> rest;
  for (TimePartition& p : drop) {
    if (**oldest < p.upper) {
      ++held;
      spdlog::warn("partitions: keeping {} past its retention: the outbox still holds a price "
                   "of {} (the broker has not taken its event)",
                   p.name, absl::FormatTime(**oldest, absl::UTCTimeZone()));
    } else {
      rest.push_back(std::move(p));
    }
  }
  drop = std::move(rest);
  return held;
}

// Drops the sub-partitions past their own retention in the time partitions of `t` that stay.
absl::Status DropExpiredSubpartitions(PartitionSession& session, const MaintainedTable& t,
                                      const std::vector<TimePartition>& existing, absl::Time now,
                                      int64_t* dropped, int* retries) {
  for (const TimePartition& p : existing) {
    if (!p.lower.has_value() || p.detach_pending) continue;
    std::vector<const MaintainedTable::Sub*> expired;
    for (const MaintainedTable::Sub& sub : t.subpartitions) {
      if (sub.retention > absl::ZeroDuration() &&
          p.upper <= std::min(now - sub.retention, PartitionStart(now, t.policy.length))) {
        expired.push_back(&sub);
      }
    }
    if (expired.empty()) continue;
    absl::StatusOr<std::vector<TimePartition>> children = session.List(p.name);
    if (!children.ok()) return children.status();
    for (const MaintainedTable::Sub* sub : expired) {
      for (const TimePartition& child : *children) {
        if (child.name != p.name + sub->partition.suffix) continue;
        if (absl::Status s = session.Drop(p.name, child, retries); !s.ok()) return s;
        ++*dropped;
        spdlog::info("partitions: dropped {} (rows up to {}, retention {})", child.name,
                     absl::FormatTime(p.upper, absl::UTCTimeZone()),
                     absl::FormatDuration(sub->retention));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PartitionMaintainer::Maintain(PartitionSession& session) {
  absl::StatusOr<absl::Time> now = session.Now();
  if (!now.ok()) return now.status();
  absl::Status first_error;
  for (const MaintainedTable& t : tables_) {
    absl::StatusOr<std::vector<TimePartition>> existing = session.List(t.table);
    if (!existing.ok()) return existing.status();
    PartitionPlan plan = PlanPartitions(*existing, t.policy, *now);
    int held = 0;
    if (t.keep_while_outbox_holds && !plan.drop.empty()) {
      absl::StatusOr<int> kept = KeepWhatTheOutboxHolds(session, plan.drop);
      if (!kept.ok()) return kept.status();
      held = *kept;
    }
    int64_t created = 0, dropped = 0;
    int retries = 0;
    absl::Status status;
    // Made first: writes must never find their partition missing, drops can wait.
    std::vector<SubPartition> subs;
    for (const MaintainedTable::Sub& sub : t.subpartitions) subs.push_back(sub.partition);
    for (const auto& [lower, upper] : plan.create) {
      status = session.Create(t.table, lower, upper, subs);
      if (!status.ok()) break;
      ++created;
    }
    if (status.ok()) {
      status = DropExpiredSubpartitions(session, t, *existing, *now, &dropped, &retries);
    }
    for (const TimePartition& p : plan.drop) {
      if (!status.ok()) break;
      status = session.Drop(t.table, p, &retries);
      if (status.ok()) {
        ++dropped;
        spdlog::info("partitions: dropped {} (rows up to {}, retention {})", p.name,
                     absl::FormatTime(p.upper, absl::UTCTimeZone()),
                     absl::FormatDuration(t.policy.retention));
      }
    }
    absl::StatusOr<std::vector<TimePartition>> after = session.List(t.table);
    {
      absl::MutexLock lock(&mu_);
      TableStats& s = stats_.tables[t.table];
      s.created += created;
      s.dropped += dropped;
      s.held = held;
      stats_.drop_retries += retries;
      if (after.ok()) covered_until_[t.table] = CoveredUntil(*after);
    }
    if (created > 0) spdlog::info("partitions: made {} of {} ahead", created, t.table);
    if (!status.ok() && first_error.ok()) {
      first_error = absl::Status(status.code(), absl::StrCat(t.table, ": ", status.message()));
    }
  }
  return first_error;
}

absl::Status PartitionMaintainer::RunOnce() {
  absl::StatusOr<bool> held =
      store_.WithMaintenanceLock([this](PartitionSession& s) { return Maintain(s); });
  absl::Status status = held.status();
  if (held.ok() && !*held) {
    // Another replica maintains; what is ready ahead is read all the same.
    for (const MaintainedTable& t : tables_) {
      absl::StatusOr<std::vector<TimePartition>> existing = store_.List(t.table);
      if (!existing.ok()) {
        status = existing.status();
        continue;
      }
      absl::MutexLock lock(&mu_);
      covered_until_[t.table] = CoveredUntil(*existing);
    }
  }
  absl::MutexLock lock(&mu_);
  if (!status.ok()) {
    ++stats_.failures;
    spdlog::warn("partition maintenance failed: {}", status.ToString());
    return status;
  }
  if (held.ok() && *held) {
    ++stats_.runs;
    stats_.last_success = absl::Now();
  }
  return absl::OkStatus();
}

absl::Status PartitionMaintainer::EnsureReady(absl::Duration wait) {
  const absl::Time deadline = absl::Now() + wait;
  absl::Status last;
  while (true) {
    last = RunOnce();
    if (last.ok()) {
      bool ready = true;
      for (const auto& [table, s] : stats().tables) ready = ready && s.ahead >= 1;
      if (ready) return absl::OkStatus();
      last = absl::UnavailableError("no partition made ahead yet");
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return absl::UnavailableError(
      absl::StrCat("time partitions not ready after ", absl::FormatDuration(wait), ": ",
                   last.message()));
}

PartitionMaintainer::Stats PartitionMaintainer::stats() const {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  Stats out = stats_;
  for (const MaintainedTable& t : tables_) {
    TableStats& s = out.tables[t.table];
    auto covered = covered_until_.find(t.table);
    s.ahead = covered == covered_until_.end()
                  ? -1
                  : PartitionsAhead(covered->second, t.policy.length, now);
  }
  return out;
}

}  // namespace marketdata
