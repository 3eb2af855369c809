#include "services/lifecycle/partition_maintainer.h"

#include <map>

#include "absl/time/clock.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

// Partitions kept in memory; the lock may be held by "another replica".
class FakePartitions final : public PartitionStore, public PartitionSession {
 public:
  absl::StatusOr<bool> WithMaintenanceLock(
      const std::function<absl::Status(PartitionSession&)>& run) override {
    if (held_elsewhere) return false;
    absl::Status s = run(*this);
    if (!s.ok()) return s;
    return true;
  }
  absl::StatusOr<std::vector<TimePartition>> List(const std::string& table) override {
    return tables[table];
  }
  absl::StatusOr<absl::Time> Now() override { return now; }
  absl::StatusOr<std::optional<absl::Time>> OldestOutboxPrice() override { return outbox_oldest; }
  absl::Status Create(const std::string& table, absl::Time lower, absl::Time upper,
                      const std::vector<SubPartition>& subs) override {
    if (!create_error.ok()) return create_error;
    const std::string name = PartitionName(table, lower);
    tables[table].push_back({name, lower, upper});
    for (const SubPartition& sub : subs) tables[name].push_back({name + sub.suffix, {}, upper});
    return absl::OkStatus();
  }
  absl::Status Drop(const std::string& table, const TimePartition& p, int* retries) override {
    *retries += retries_per_drop;
    auto& list = tables[table];
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->name == p.name) {
        list.erase(it);
        break;
      }
    }
    return absl::OkStatus();
  }

  std::map<std::string, std::vector<TimePartition>> tables;
  // Replicas without the lock read by their own clock.
  absl::Time now = absl::Now();
  bool held_elsewhere = false;
  int retries_per_drop = 0;
  absl::Status create_error;
  std::optional<absl::Time> outbox_oldest;
};

MaintainedTable Raw(absl::Duration retention) {
  PartitionPolicy p;
  p.length = absl::Minutes(1);
  p.ahead = 3;
  p.retention = retention;
  return {"raw_market_data", p};
}

TEST(PartitionMaintainerTest, MakesAheadThenDropsAsTimePasses) {
  FakePartitions fake;
  PartitionMaintainer maintainer(fake, {Raw(absl::Minutes(2))}, [&fake] { return fake.now; });
  EXPECT_EQ(maintainer.stats().tables.at("raw_market_data").ahead, -1);
  ASSERT_TRUE(maintainer.RunOnce().ok());
  EXPECT_EQ(fake.tables["raw_market_data"].size(), 5u);
  PartitionMaintainer::Stats s = maintainer.stats();
  EXPECT_EQ(s.tables.at("raw_market_data").ahead, 3);
  EXPECT_EQ(s.tables.at("raw_market_data").created, 5);
  EXPECT_EQ(s.runs, 1);
  EXPECT_GT(s.last_success, absl::InfinitePast());

  fake.now += absl::Minutes(10);
  fake.retries_per_drop = 2;
  ASSERT_TRUE(maintainer.RunOnce().ok());
  s = maintainer.stats();
  EXPECT_EQ(s.tables.at("raw_market_data").ahead, 3);
  // Of the 5 old and 10 new ones, those ending two minutes or more before now are gone.
  for (const TimePartition& p : fake.tables["raw_market_data"]) {
    EXPECT_GT(p.upper, fake.now - absl::Minutes(2)) << p.name;
  }
  EXPECT_GT(s.tables.at("raw_market_data").dropped, 0);
  EXPECT_EQ(s.drop_retries, 2 * s.tables.at("raw_market_data").dropped);
}

TEST(PartitionMaintainerTest, AnotherReplicaHoldingTheLockChangesNothingButIsStillWatched) {
  FakePartitions fake;
  fake.held_elsewhere = true;
  fake.tables["raw_market_data"] = {
      {"a", fake.now + absl::Minutes(1), fake.now + absl::Minutes(2)}};
  PartitionMaintainer maintainer(fake, {Raw(absl::Minutes(2))}, [&fake] { return fake.now; });
  ASSERT_TRUE(maintainer.RunOnce().ok());
  EXPECT_EQ(fake.tables["raw_market_data"].size(), 1u);
  const PartitionMaintainer::Stats s = maintainer.stats();
  EXPECT_EQ(s.runs, 0);
  EXPECT_EQ(s.last_success, absl::InfinitePast());
  EXPECT_EQ(s.tables.at("raw_market_data").ahead, 1);
  // Should no replica make more, the count falls as time passes.
  fake.now += absl::Minutes(2);
  EXPECT_EQ(maintainer.stats().tables.at("raw_market_data").ahead, 0);
}

TEST(PartitionMaintainerTest, AFailureIsCountedAndReported) {
  FakePartitions fake;
  fake.create_error = absl::UnavailableError("database unavailable");
  PartitionMaintainer maintainer(fake, {Raw(absl::Minutes(2))});
  EXPECT_EQ(maintainer.RunOnce().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(maintainer.stats().failures, 1);
  EXPECT_EQ(maintainer.stats().last_success, absl::InfinitePast());
}

TEST(PartitionMaintainerTest, KeepsPricePartitionsTheOutboxStillNeeds) {
  FakePartitions fake;
  MaintainedTable prices = Raw(absl::Minutes(2));
  prices.table = "price_points";
  prices.keep_while_outbox_holds = true;
  PartitionMaintainer maintainer(fake, {prices}, [&fake] { return fake.now; });
  ASSERT_TRUE(maintainer.RunOnce().ok());
  const absl::Time first_upper = fake.tables["price_points"].front().upper;
  // An unpublished price in the oldest partition, whose retention then passes.
  fake.outbox_oldest = first_upper - absl::Seconds(1);
  fake.now += absl::Minutes(4);
  ASSERT_TRUE(maintainer.RunOnce().ok());
  EXPECT_EQ(fake.tables["price_points"].front().upper, first_upper);
  EXPECT_GE(maintainer.stats().tables.at("price_points").held, 1);
  // Published: it goes.
  fake.outbox_oldest.reset();
  ASSERT_TRUE(maintainer.RunOnce().ok());
  EXPECT_GT(fake.tables["price_points"].front().upper, first_upper);
  EXPECT_EQ(maintainer.stats().tables.at("price_points").held, 0);
}

// Bars: a week's partition holds every interval; its one-minute bars go after their retention,
// the others stay.
TEST(PartitionMaintainerTest, DropsASubPartitionPastItsOwnRetentionAndKeepsTheRest) {
  FakePartitions fake;
  MaintainedTable bars = Raw(absl::ZeroDuration());
  bars.table = "bars";
  bars.subpartitions = {{{"_1m", "interval_seconds", 60, 61}, absl::Minutes(2)},
                        {{"_rest", "interval_seconds", 61, std::nullopt}, absl::ZeroDuration()}};
  PartitionMaintainer maintainer(fake, {bars}, [&fake] { return fake.now; });
  ASSERT_TRUE(maintainer.RunOnce().ok());
  const TimePartition first = fake.tables["bars"].front();
  ASSERT_EQ(fake.tables[first.name].size(), 2u);
  fake.now += absl::Minutes(4);
  ASSERT_TRUE(maintainer.RunOnce().ok());
  // The week stays, with its other bars; its one-minute bars are gone.
  EXPECT_EQ(fake.tables["bars"].front().name, first.name);
  ASSERT_EQ(fake.tables[first.name].size(), 1u);
  EXPECT_EQ(fake.tables[first.name][0].name, first.name + "_rest");
  EXPECT_GE(maintainer.stats().tables.at("bars").dropped, 1);
}

}  // namespace
}  // namespace marketdata
