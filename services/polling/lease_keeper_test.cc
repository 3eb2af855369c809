#include "services/polling/lease_keeper.h"

#include "gtest/gtest.h"
#include "services/polling/fake_polling_job_store.h"

namespace marketdata {
namespace {

constexpr char kJob[] = "poll_0000abcd";

class LeaseKeeperTest : public ::testing::Test {
 protected:
  LeaseKeeperTest() {
    PollingJob job;
    job.job_id = kJob;
    job.config = JobConfig{{"AAPL"}, 60, "test"};
    job.next_run_at = now_;
    store_.Put(job);
  }

  // Claims the job for `owner` as the scheduler does and starts keeping its lease.
  LeaseKeeper::Token Claim() {
    const absl::Time claimed_at = now_;
    auto claimed = store_.ClaimDue("replica-a", 10, absl::ZeroDuration(), kLease);
    EXPECT_TRUE(claimed.ok());
    EXPECT_EQ(claimed->size(), 1u);
    return keeper_.Track(kJob, claimed_at);
  }

  void Advance(absl::Duration d) { now_ += d; }

  static constexpr absl::Duration kLease = absl::Seconds(30);
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  FakePollingJobStore store_{[this] { return now_; }};
  LeaseKeeper keeper_{store_, "replica-a", kLease, [this] { return now_; }};
};

TEST_F(LeaseKeeperTest, KeepsTheLeaseForARunMuchLongerThanTheLease) {
  const LeaseKeeper::Token token = Claim();
  // A run of four leases, with the renewal loop ticking every second.
  for (int second = 1; second <= 120; ++second) {
    Advance(absl::Seconds(1));
    EXPECT_EQ(keeper_.RenewDue(), 0);
    ASSERT_TRUE(keeper_.Held(token)) << "at " << second << " s";
    // Meanwhile the lease never runs out in the store, so no other replica can claim the job.
    ASSERT_GT(*store_.row(kJob)->lease_expires_at, now_);
    ASSERT_TRUE(store_.ClaimDue("replica-b", 10, absl::Hours(1), kLease)->empty());
  }
  // Renewed every third of the lease, not on every tick.
  EXPECT_EQ(store_.renewals(), 12);
  EXPECT_EQ(keeper_.renew_every(), absl::Seconds(10));
}

TEST_F(LeaseKeeperTest, WithoutRenewalsTheRunStopsWellBeforeTheLeaseRunsOut) {
  const LeaseKeeper::Token token = Claim();
  Advance(absl::Seconds(19));
  EXPECT_TRUE(keeper_.Held(token));
  Advance(absl::Seconds(1));
  EXPECT_FALSE(keeper_.Held(token));
  // The store still holds it for us: the last third is the margin for the step in progress.
  EXPECT_GT(*store_.row(kJob)->lease_expires_at, now_);
}

TEST_F(LeaseKeeperTest, AStoppedJobIsLostAtTheNextRenewal) {
  const LeaseKeeper::Token token = Claim();
  ASSERT_TRUE(store_.Stop(kJob).ok());
  EXPECT_TRUE(keeper_.Held(token));  // nobody has asked the store yet
  EXPECT_FALSE(keeper_.RenewNow(token));
  EXPECT_FALSE(keeper_.Held(token));
  // A lost lease is not renewed again.
  const int renewals = store_.renewals();
  Advance(absl::Seconds(10));
  EXPECT_EQ(keeper_.RenewDue(), 0);
  EXPECT_EQ(store_.renewals(), renewals);
}

TEST_F(LeaseKeeperTest, RenewDueReportsLeasesTakenOver) {
  const LeaseKeeper::Token token = Claim();
  ASSERT_TRUE(store_.ReleaseLeases("replica-a").ok());
  ASSERT_EQ(store_.ClaimDue("replica-b", 10, absl::Hours(1), kLease)->size(), 1u);
  Advance(absl::Seconds(10));
  EXPECT_EQ(keeper_.RenewDue(), 1);
  EXPECT_FALSE(keeper_.Held(token));
  EXPECT_EQ(store_.row(kJob)->lease_owner, "replica-b");
}

TEST_F(LeaseKeeperTest, FailedRenewalsAreRetriedAndProveNothing) {
  const LeaseKeeper::Token token = Claim();
  store_.FailRenewals(absl::UnavailableError("database away"));
  Advance(absl::Seconds(10));
  keeper_.RenewDue();
  EXPECT_EQ(store_.renewals(), 1);
  EXPECT_TRUE(keeper_.Held(token));
  Advance(absl::Seconds(2));
  keeper_.RenewDue();  // retried at the next tick, not a renewal period later
  EXPECT_EQ(store_.renewals(), 2);
  store_.FailRenewals(absl::OkStatus());
  Advance(absl::Seconds(2));
  keeper_.RenewDue();
  EXPECT_EQ(store_.renewals(), 3);
  Advance(absl::Seconds(19));
  EXPECT_TRUE(keeper_.Held(token));  // renewed 19 s ago, at 14 s
}

TEST_F(LeaseKeeperTest, ALeaseGivenUpIsNotTakenBackByALaterClaimOfTheSameReplica) {
  const LeaseKeeper::Token old_run = Claim();
  store_.FailRenewals(absl::UnavailableError("database away"));
  for (int i = 0; i < 31; ++i) {
    Advance(absl::Seconds(1));
    keeper_.RenewDue();
  }
  EXPECT_FALSE(keeper_.Held(old_run));
  // The lease ran out; this replica claims the job again for a new run.
  store_.FailRenewals(absl::OkStatus());
  const LeaseKeeper::Token new_run = Claim();
  Advance(absl::Seconds(10));
  keeper_.RenewDue();
  // The store cannot tell the two claims apart (same owner); the keeper does.
  EXPECT_TRUE(keeper_.Held(new_run));
  EXPECT_FALSE(keeper_.Held(old_run));
  EXPECT_FALSE(keeper_.RenewNow(old_run));
}

TEST_F(LeaseKeeperTest, ForgottenLeasesAreNotRenewed) {
  const LeaseKeeper::Token token = Claim();
  EXPECT_EQ(keeper_.kept(), 1);
  keeper_.Forget(token);
  EXPECT_EQ(keeper_.kept(), 0);
  EXPECT_FALSE(keeper_.Held(token));
  Advance(absl::Seconds(10));
  keeper_.RenewDue();
  EXPECT_EQ(store_.renewals(), 0);
}

}  // namespace
}  // namespace marketdata
