// The scheduler against an in-memory job store: leases kept across long runs, and stopped jobs.
// Runs take real (short) time here, so the waits are generous and the checks are on outcomes,
// not on exact timing.
#include "services/polling/scheduler.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "services/common/testing/wait_for.h"
#include "services/events/fake_publisher.h"
#include "services/polling/fake_polling_job_store.h"
#include "services/providers/fake_provider.h"
#include "services/storage/fake_price_store.h"

namespace marketdata {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

class SchedulerTest : public ::testing::Test {
 protected:
  explicit SchedulerTest(absl::Duration fetch_delay = absl::Milliseconds(100)) {
    // Every quote takes `fetch_delay`, like a network provider having a bad day.
    auto provider = std::make_unique<FakeProvider>("slow");
    provider->set_call_takes(fetch_delay);
    provider_ = provider.get();
    providers_.Add(std::move(provider));
    prices_.RecordTicksIn(&store_);
  }

  // A job of `symbols` symbols, due at `first_run`, that runs once a minute.
  void AddJob(const std::string& job_id, int symbols, absl::Time first_run) {
    PollingJob job;
    job.job_id = job_id;
    for (int i = 0; i < symbols; ++i) job.config.symbols.push_back(absl::StrFormat("S%02d", i));
    job.config.interval_seconds = 60;
    job.config.provider = "slow";
    job.created_at = absl::Now();
    job.next_run_at = first_run;
    store_.Put(job);
  }

  std::unique_ptr<PollingScheduler> Replica(const std::string& id, absl::Duration lease) {
    SchedulerOptions options;
    options.instance_id = id;
    options.runners = 2;
    options.claim_interval = absl::Milliseconds(10);
    options.lookahead = absl::Seconds(2);
    options.lease = lease;
    return std::make_unique<PollingScheduler>(store_, recorder_, providers_, options);
  }

  FakePollingJobStore store_;
  ProviderRegistry providers_{"slow"};
  FakeProvider* provider_;
  FakePriceStore prices_;
  FakePublisher publisher_;
  PriceRecorder recorder_{providers_, prices_, publisher_};
};

TEST_F(SchedulerTest, RunLongerThanItsLeaseKeepsItAndIsRecordedOnce) {
  // 30 fetches of 100 ms: a run of about three seconds on a lease of 1.5 s.
  AddJob("poll_00000001", 30, absl::Now());
  auto a = Replica("replica-a", absl::Milliseconds(1500));
  auto b = Replica("replica-b", absl::Milliseconds(1500));
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return store_.row("poll_00000001")->job.run_count >= 1; }, kWait));
  a->Stop();
  b->Stop();
  const auto row = store_.row("poll_00000001");
  EXPECT_EQ(row->job.run_count, 1);
  EXPECT_EQ(row->job.error_count, 0);
  // Exactly one replica fetched every symbol once: the other never got the job.
  EXPECT_EQ(provider_->calls(), 30);
  EXPECT_EQ(store_.completions_after_expiry(), 0);
  EXPECT_GE(store_.renewals(), 3);  // at the start, then every 500 ms
}

TEST_F(SchedulerTest, EveryRunsLagGoesIntoTheHistogram) {
  AddJob("poll_00000002", 1, absl::Now() + absl::Milliseconds(200));
  auto a = Replica("replica-a", absl::Seconds(10));
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return store_.row("poll_00000002")->job.run_count >= 1; }, kWait));
  a->Stop();
  const HistogramSnapshot lag = a->lag_histogram().Snapshot();
  EXPECT_EQ(lag.count, 1u);
  EXPECT_GE(lag.sum, 0);
  EXPECT_LT(lag.sum, 1);  // the runner waited for the tick: started at most 50 ms after it
  EXPECT_EQ(lag.count, static_cast<uint64_t>(a->lag().runs));
}

TEST_F(SchedulerTest, JobStoppedBetweenClaimAndTickNeverRuns) {
  AddJob("poll_00000002", 3, absl::Now() + absl::Seconds(1));
  auto a = Replica("replica-a", absl::Seconds(30));
  a->Start();
  // Claimed ahead of its tick; stopped (by any replica) before the tick comes.
  ASSERT_TRUE(
      WaitFor([&] { return store_.row("poll_00000002")->lease_owner == "replica-a"; }, kWait));
  ASSERT_TRUE(store_.Stop("poll_00000002").ok());
  // At the tick the run asks the store first, and learns the job is stopped.
  ASSERT_TRUE(WaitFor([&] { return store_.renewals() >= 1; }, kWait));
  a->Stop();
  EXPECT_EQ(provider_->calls(), 0);
  const auto row = store_.row("poll_00000002");
  EXPECT_EQ(row->job.status, JobStatus::kStopped);
  EXPECT_EQ(row->job.run_count, 0);
}

TEST_F(SchedulerTest, JobStoppedDuringItsRunStopsFetchingAndIsNotRecorded) {
  AddJob("poll_00000003", 30, absl::Now());
  auto a = Replica("replica-a", absl::Milliseconds(1500));
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return provider_->calls() >= 2; }, kWait));
  ASSERT_TRUE(store_.Stop("poll_00000003").ok());
  a->Stop();  // waits for the run to end
  // Noticed at the next renewal (within about 500 ms, five fetches), long before the 30th.
  EXPECT_LT(provider_->calls(), 20);
  const auto row = store_.row("poll_00000003");
  EXPECT_EQ(row->job.status, JobStatus::kStopped);
  EXPECT_EQ(row->job.run_count, 0);
  EXPECT_FALSE(row->job.last_run_at.has_value());
  // And it is never claimed again.
  EXPECT_TRUE(store_.ClaimDue("anyone", 10, absl::Hours(24), absl::Seconds(1))->empty());
}

TEST_F(SchedulerTest, RunThatCannotRenewStopsBeforeItsLeaseRunsOut) {
  AddJob("poll_00000004", 30, absl::Now());
  auto a = Replica("replica-a", absl::Milliseconds(1500));
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return provider_->calls() >= 2; }, kWait));
  // The database goes away for renewals; from now on the lease in the store only runs out.
  store_.FailRenewals(absl::UnavailableError("database away"));
  const absl::Time lease_ends = *store_.row("poll_00000004")->lease_expires_at;
  a->Stop();
  EXPECT_LT(provider_->calls(), 30);
  EXPECT_EQ(store_.row("poll_00000004")->job.run_count, 0);
  // No fetch started once another replica could have claimed the job.
  EXPECT_LT(provider_->last_fetch_started(), lease_ends);
}

TEST_F(SchedulerTest, RunThatCompletesAnInterruptedTickFetchesOnlyTheMissingSymbols) {
  AddJob("poll_00000005", 20, absl::Now());
  // A replica claimed the tick, stored the prices of 8 symbols, and died: its lease runs out.
  std::vector<PollingJob> claimed =
      *store_.ClaimDue("replica-dead", 1, absl::Seconds(1), absl::Seconds(3));
  ASSERT_EQ(claimed.size(), 1u);
  const PollTick tick{"poll_00000005", claimed[0].next_run_at, "replica-dead"};
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(recorder_.Record(absl::StrFormat("S%02d", i), "slow", std::nullopt,
                                 absl::ZeroDuration(), tick)
                    .ok());
  }
  ASSERT_EQ(provider_->calls(), 8);
  auto b = Replica("replica-b", absl::Seconds(10));
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return store_.row("poll_00000005")->job.run_count >= 1; }, kWait));
  b->Stop();
  // Only the 12 missing symbols were fetched, and the tick holds one price of each of the 20.
  EXPECT_EQ(provider_->calls(), 20);
  EXPECT_EQ(prices_.saved_count(), 20);
  int of_tick = 0;
  for (const auto& [key, id] : store_.tick_records()) {
    if (std::get<1>(key) == tick.tick_at) ++of_tick;
  }
  EXPECT_EQ(of_tick, 20);
  EXPECT_EQ(store_.row("poll_00000005")->job.error_count, 0);
  EXPECT_EQ(b->refused_writes(), 0);
}

TEST_F(SchedulerTest, LateWriteOfARunThatLostItsLeaseIsRefusedAndNotStored) {
  AddJob("poll_00000006", 3, absl::Now());
  std::vector<PollingJob> claimed =
      *store_.ClaimDue("replica-frozen", 1, absl::Seconds(1), absl::Milliseconds(200));
  ASSERT_EQ(claimed.size(), 1u);
  const PollTick frozen{"poll_00000006", claimed[0].next_run_at, "replica-frozen"};
  // The frozen replica's lease runs out; another takes the job and runs the tick to its end.
  auto b = Replica("replica-b", absl::Seconds(10));
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return store_.row("poll_00000006")->job.run_count >= 1; }, kWait));
  b->Stop();
  ASSERT_EQ(prices_.saved_count(), 3);
  // It wakes up and writes the price it was fetching: refused, nothing stored.
  absl::StatusOr<StoredPrice> late =
      recorder_.Record("S00", "slow", std::nullopt, absl::ZeroDuration(), frozen);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(RefusedTick(late.status()).has_value());
  EXPECT_EQ(prices_.saved_count(), 3);
  // And a second write of the tick by the replica that holds it is refused too.
  std::vector<PollingJob> next = *store_.ClaimDue("replica-c", 1, absl::Hours(1), absl::Seconds(10));
  ASSERT_EQ(next.size(), 1u);
  const PollTick current{"poll_00000006", next[0].next_run_at, "replica-c"};
  ASSERT_TRUE(recorder_.Record("S01", "slow", std::nullopt, absl::ZeroDuration(), current).ok());
  absl::StatusOr<StoredPrice> twice =
      recorder_.Record("S01", "slow", std::nullopt, absl::ZeroDuration(), current);
  EXPECT_TRUE(RefusedTick(twice.status()).has_value());
  EXPECT_EQ(prices_.saved_count(), 4);
}

TEST_F(SchedulerTest, TicksOfTwoJobsSharingACallEachRecordThePrice) {
  // Two jobs polling one symbol at the same tick share the call (TickShareWindow): one stored
  // price, recorded by both ticks.
  const absl::Time tick = absl::Now() + absl::Milliseconds(300);
  AddJob("poll_00000007", 1, tick);
  AddJob("poll_00000008", 1, tick);
  auto a = Replica("replica-a", absl::Seconds(10));
  a->Start();
  ASSERT_TRUE(WaitFor([&] {
    return store_.row("poll_00000007")->job.run_count >= 1 &&
           store_.row("poll_00000008")->job.run_count >= 1;
  }, kWait));
  a->Stop();
  std::vector<int64_t> ids;
  for (const auto& [key, id] : store_.tick_records()) ids.push_back(id);
  ASSERT_EQ(ids.size(), 2u);
  // Almost always one call; on a machine so busy that the second run starts more than the
  // share window after the first, two calls, each its own tick's price. Never a price no tick
  // names, nor a tick without its price.
  EXPECT_EQ(prices_.saved_count(), ids[0] == ids[1] ? 1 : 2);
  EXPECT_EQ(provider_->calls(), prices_.saved_count());
  EXPECT_EQ(a->refused_writes(), 0);
}

}  // namespace
}  // namespace marketdata
