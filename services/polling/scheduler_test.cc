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

}  // namespace
}  // namespace marketdata
