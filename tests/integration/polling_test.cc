// Polling jobs against a real PostgreSQL: the store's lease rules, and schedulers of several
// replicas sharing one jobs table.
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/testing/wait_for.h"
#include "services/events/fake_publisher.h"
#include "services/polling/scheduler.h"
#include "services/providers/fake_provider.h"
#include "services/providers/test_provider.h"
#include "services/storage/polling_job_store.h"
#include "services/storage/price_store.h"
#include "soci/soci.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

JobConfig Config(std::vector<std::string> symbols, int interval = 1) {
  return JobConfig{std::move(symbols), interval, "test"};
}

// A provider whose every quote takes `delay`, like a network provider retrying and timing out:
// with enough symbols a run lasts longer than its lease.
std::unique_ptr<FakeProvider> SlowProvider(absl::Duration delay) {
  auto provider = std::make_unique<FakeProvider>("slow");
  provider->set_call_takes(delay);
  return provider;
}

// `n` symbols S00, S01, ... for the slow provider, run once a minute.
JobConfig SlowConfig(int n) {
  JobConfig config{{}, 60, "slow"};
  for (int i = 0; i < n; ++i) config.symbols.push_back(absl::StrFormat("S%02d", i));
  return config;
}

// How often a wait asks the database again.
constexpr absl::Duration kPoll = absl::Milliseconds(20);

class PollingStoreTest : public ::testing::Test {
 protected:
  ScratchDatabase scratch_;
  std::unique_ptr<Database> db_ = scratch_.ConnectMigrated(4);
  PostgresPollingJobStore store_{*db_};
};

TEST_F(PollingStoreTest, CreateGetStop) {
  auto created = store_.Create("poll_0000000a", Config({"AAPL", "MSFT"}, 5));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->status, JobStatus::kAccepted);
  EXPECT_EQ(created->config.symbols, (std::vector<std::string>{"AAPL", "MSFT"}));
  EXPECT_EQ(created->config.interval_seconds, 5);
  EXPECT_FALSE(created->last_run_at.has_value());
  EXPECT_EQ(store_.Create("poll_0000000a", Config({"X"})).status().code(),
            absl::StatusCode::kAlreadyExists);

  auto got = store_.Get("poll_0000000a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->created_at, created->created_at);
  EXPECT_EQ(store_.Get("poll_ffffffff").status().code(), absl::StatusCode::kNotFound);

  auto stopped = store_.Stop("poll_0000000a");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->status, JobStatus::kStopped);
  EXPECT_EQ(store_.Stop("poll_0000000a")->status, JobStatus::kStopped);  // twice is harmless
  EXPECT_EQ(store_.Stop("poll_ffffffff").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PollingStoreTest, ListsNewestFirstWithFilterAndPages) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store_.Create("poll_0000000" + std::to_string(i), Config({"AAPL"})).ok());
  }
  ASSERT_TRUE(store_.Stop("poll_00000002").ok());
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = store_.List(JobFilter{}, 3, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& job : page->jobs) seen.push_back(job.job_id);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"poll_00000006", "poll_00000005", "poll_00000004",
                                            "poll_00000003", "poll_00000002", "poll_00000001",
                                            "poll_00000000"}));
  JobFilter stopped_only;
  stopped_only.status = JobStatus::kStopped;
  auto stopped = store_.List(stopped_only, 10, "");
  ASSERT_EQ(stopped->jobs.size(), 1u);
  EXPECT_EQ(stopped->jobs[0].job_id, "poll_00000002");
  EXPECT_EQ(store_.List(JobFilter{}, 3, "garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PollingStoreTest, JobsKeepTheirOwnerWhoseUsageIsCounted) {
  JobConfig alice = Config({"AAPL", "MSFT"});
  alice.owner_key_id = 7;
  JobConfig bob = Config({"IBM"});
  bob.owner_key_id = 8;
  ASSERT_TRUE(store_.Create("poll_000000b1", alice).ok());
  ASSERT_TRUE(store_.Create("poll_000000b2", alice).ok());
  ASSERT_TRUE(store_.Create("poll_000000b3", bob).ok());
  ASSERT_TRUE(store_.Create("poll_000000b4", Config({"ORCL"})).ok());  // made without a key
  absl::StatusOr<PollingJob> got = store_.Get("poll_000000b1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->config.owner_key_id, 7);
  EXPECT_FALSE(store_.Get("poll_000000b4")->config.owner_key_id.has_value());

  JobFilter alices;
  alices.owner_key_id = 7;
  absl::StatusOr<JobPage> page = store_.List(alices, 10, "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->jobs.size(), 2u);
  EXPECT_EQ(store_.List(JobFilter{}, 10, "")->jobs.size(), 4u);

  absl::StatusOr<JobUsage> usage = store_.ActiveUsage(7);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->jobs, 2);
  EXPECT_EQ(usage->symbols, 4);
  ASSERT_TRUE(store_.Stop("poll_000000b2").ok());  // stopped jobs no longer count
  EXPECT_EQ(store_.ActiveUsage(7)->jobs, 1);
  EXPECT_EQ(store_.ActiveUsage(7)->symbols, 2);
  EXPECT_EQ(store_.ActiveUsage(99)->jobs, 0);
}

TEST_F(PollingStoreTest, LeasesAreExclusiveAndStoppedJobsAreNeverClaimed) {
  ASSERT_TRUE(store_.Create("poll_000000a1", Config({"AAPL"})).ok());
  ASSERT_TRUE(store_.Create("poll_000000a2", Config({"MSFT"})).ok());
  ASSERT_TRUE(store_.Stop("poll_000000a2").ok());

  auto first = store_.ClaimDue("replica-a", 10, absl::Milliseconds(100), absl::Seconds(30));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].job_id, "poll_000000a1");
  EXPECT_EQ((*first)[0].status, JobStatus::kRunning);
  EXPECT_TRUE(store_.ClaimDue("replica-b", 10, absl::Milliseconds(100), absl::Seconds(30))
                  ->empty());

  // A run recorded by a replica that lost the lease is ignored.
  JobRunResult result{absl::Now(), absl::Now() + absl::Seconds(1), 0, ""};
  ASSERT_TRUE(store_.CompleteRun("poll_000000a1", "replica-b", result).ok());
  EXPECT_EQ(store_.Get("poll_000000a1")->run_count, 0);
  // The owner records it; the next tick is claimable once due.
  result.errors = 2;
  result.last_error = "MSFT: boom";
  ASSERT_TRUE(store_.CompleteRun("poll_000000a1", "replica-a", result).ok());
  auto job = store_.Get("poll_000000a1");
  EXPECT_EQ(job->run_count, 1);
  EXPECT_EQ(job->error_count, 2);
  EXPECT_EQ(job->last_error, "MSFT: boom");
  EXPECT_EQ(job->status, JobStatus::kRunning);
  EXPECT_TRUE(job->last_run_at.has_value());

  // Stopped while running: the run's completion does not revive it.
  auto again = store_.ClaimDue("replica-b", 10, absl::Seconds(2), absl::Seconds(30));
  ASSERT_EQ(again->size(), 1u);
  ASSERT_TRUE(store_.Stop("poll_000000a1").ok());
  ASSERT_TRUE(store_.CompleteRun("poll_000000a1", "replica-b", result).ok());
  EXPECT_EQ(store_.Get("poll_000000a1")->status, JobStatus::kStopped);
  EXPECT_TRUE(store_.ClaimDue("replica-b", 10, absl::Hours(1), absl::Seconds(30))->empty());
}

TEST_F(PollingStoreTest, OnlyTheHolderRenewsALeaseAndOnlyWhileItHoldsIt) {
  ASSERT_TRUE(store_.Create("poll_000000a3", Config({"AAPL"})).ok());
  ASSERT_EQ(store_.ClaimDue("replica-a", 10, absl::Seconds(1), absl::Seconds(1))->size(), 1u);
  EXPECT_FALSE(*store_.RenewLease("poll_000000a3", "replica-b", absl::Minutes(10)));
  EXPECT_FALSE(*store_.RenewLease("poll_ffffffff", "replica-a", absl::Minutes(10)));
  // Renewed past the one-second claim: after it would have run out, nobody else can claim it.
  EXPECT_TRUE(*store_.RenewLease("poll_000000a3", "replica-a", absl::Minutes(10)));
  absl::SleepFor(absl::Milliseconds(1500));
  EXPECT_TRUE(store_.ClaimDue("replica-b", 10, absl::Hours(1), absl::Seconds(30))->empty());

  // A lease that ran out is not renewed, even when nobody has claimed the job yet.
  ASSERT_TRUE(*store_.RenewLease("poll_000000a3", "replica-a", absl::Milliseconds(200)));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_FALSE(*store_.RenewLease("poll_000000a3", "replica-a", absl::Minutes(10)));
  ASSERT_EQ(store_.ClaimDue("replica-b", 10, absl::Hours(1), absl::Seconds(30))->size(), 1u);
  EXPECT_FALSE(*store_.RenewLease("poll_000000a3", "replica-a", absl::Minutes(10)));
  EXPECT_TRUE(*store_.RenewLease("poll_000000a3", "replica-b", absl::Minutes(10)));

  // A stopped job has no lease to renew.
  ASSERT_TRUE(store_.Stop("poll_000000a3").ok());
  EXPECT_FALSE(*store_.RenewLease("poll_000000a3", "replica-b", absl::Minutes(10)));
}

TEST_F(PollingStoreTest, ReleasedLeasesAreClaimableAtOnce) {
  ASSERT_TRUE(store_.Create("poll_000000b1", Config({"AAPL"})).ok());
  ASSERT_EQ(store_.ClaimDue("host:1", 10, absl::Seconds(1), absl::Minutes(10))->size(), 1u);
  EXPECT_TRUE(store_.ClaimDue("host:2", 10, absl::Seconds(1), absl::Minutes(10))->empty());
  ASSERT_TRUE(store_.ReleaseLeases("host:1").ok());
  EXPECT_EQ(store_.ClaimDue("host:2", 10, absl::Seconds(1), absl::Minutes(10))->size(), 1u);
}

TEST_F(PollingStoreTest, MarkFailedRecordsWhy) {
  ASSERT_TRUE(store_.Create("poll_000000c1", JobConfig{{"AAPL"}, 1, "gone"}).ok());
  ASSERT_EQ(store_.ClaimDue("r", 10, absl::Seconds(1), absl::Seconds(30))->size(), 1u);
  ASSERT_TRUE(store_.MarkFailed("poll_000000c1", "r", "unknown provider \"gone\"").ok());
  auto job = store_.Get("poll_000000c1");
  EXPECT_EQ(job->status, JobStatus::kFailed);
  EXPECT_EQ(job->last_error, "unknown provider \"gone\"");
  EXPECT_TRUE(store_.ClaimDue("r", 10, absl::Hours(1), absl::Seconds(30))->empty());
}

// The rows of price_points and price_event_outbox of `symbol`.
std::pair<int, int> PriceRows(Database& db, const std::string& symbol) {
  auto lease = MustAcquire(db);
  int points = 0, outbox = 0;
  *lease << "SELECT count(*) FROM price_points WHERE symbol = :s", soci::use(symbol),
      soci::into(points);
  *lease << "SELECT count(*) FROM price_event_outbox WHERE symbol = :s", soci::use(symbol),
      soci::into(outbox);
  return {points, outbox};
}

Quote TickQuote(const std::string& symbol, std::optional<PollTick> tick) {
  Quote q;
  q.symbol = symbol;
  q.price = 10;
  q.timestamp = absl::Now();
  q.provider = "test";
  q.raw_response = "{}";
  q.tick = std::move(tick);
  return q;
}

TEST_F(PollingStoreTest, ATickHoldsOnePriceOfASymbolAndOnlyItsLeaseHolderWritesIt) {
  ASSERT_TRUE(store_.Create("poll_000000h1", Config({"TA", "TB", "TC"})).ok());
  std::vector<PollingJob> claimed =
      *store_.ClaimDue("replica-a", 1, absl::Seconds(1), absl::Seconds(30));
  ASSERT_EQ(claimed.size(), 1u);
  const PollTick tick{"poll_000000h1", claimed[0].next_run_at, "replica-a"};
  PostgresPriceStore prices(*db_);

  absl::StatusOr<StoredPrice> first = prices.SavePrice(TickQuote("TA", tick));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->tick_recorded);
  EXPECT_GT(first->price_point_id, 0);
  // The second price of the tick's TA is refused, and nothing of it is written.
  absl::StatusOr<StoredPrice> second = prices.SavePrice(TickQuote("TA", tick));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(RefusedTick(second.status()).has_value());
  EXPECT_EQ(PriceRows(*db_, "TA"), std::make_pair(1, 1));

  // In one batch: the tick's TB twice (one kept), a price of no tick, and another replica's
  // write of the tick's TC (refused: it holds no lease).
  const PollTick other{"poll_000000h1", tick.tick_at, "replica-b"};
  absl::StatusOr<std::vector<StoredPrice>> batch = SavePriceBatch(
      *db_, {TickQuote("TB", tick), TickQuote("TB", tick), TickQuote("TX", std::nullopt),
             TickQuote("TC", other)});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(((*batch)[0].price_point_id > 0) + ((*batch)[1].price_point_id > 0), 1);
  EXPECT_TRUE(SavedOrRefused((*batch)[2]).ok());
  EXPECT_FALSE((*batch)[2].tick_recorded);
  EXPECT_TRUE(RefusedTick(SavedOrRefused((*batch)[3]).status()).has_value());
  EXPECT_EQ(PriceRows(*db_, "TB"), std::make_pair(1, 1));
  EXPECT_EQ(PriceRows(*db_, "TX"), std::make_pair(1, 1));
  EXPECT_EQ(PriceRows(*db_, "TC"), std::make_pair(0, 0));

  // A price another request stored is recorded once, by the holder only.
  EXPECT_FALSE(*store_.RecordTick(other, "TC", (*batch)[2].price_point_id));
  EXPECT_TRUE(*store_.RecordTick(tick, "TC", (*batch)[2].price_point_id));
  EXPECT_FALSE(*store_.RecordTick(tick, "TC", (*batch)[2].price_point_id));
  std::vector<std::string> recorded = *store_.TickSymbols("poll_000000h1", tick.tick_at);
  EXPECT_EQ(std::set<std::string>(recorded.begin(), recorded.end()),
            (std::set<std::string>{"TA", "TB", "TC"}));

  // Once the run is recorded the tick is over: its records go, and a late write is refused.
  JobRunResult result{absl::Now(), absl::Now() + absl::Seconds(1), 0, ""};
  ASSERT_TRUE(store_.CompleteRun("poll_000000h1", "replica-a", result).ok());
  EXPECT_TRUE(store_.TickSymbols("poll_000000h1", tick.tick_at)->empty());
  EXPECT_TRUE(RefusedTick(prices.SavePrice(TickQuote("TA", tick)).status()).has_value());
  EXPECT_EQ(PriceRows(*db_, "TA"), std::make_pair(1, 1));

  // The next tick's records go with its run too: the job keeps none once its runs completed.
  std::vector<PollingJob> again =
      *store_.ClaimDue("replica-b", 1, absl::Seconds(5), absl::Seconds(30));
  ASSERT_EQ(again.size(), 1u);
  const PollTick next{"poll_000000h1", again[0].next_run_at, "replica-b"};
  ASSERT_NE(next.tick_at, tick.tick_at);
  ASSERT_TRUE(prices.SavePrice(TickQuote("TA", next))->tick_recorded);
  JobRunResult next_result{absl::Now(), next.tick_at + absl::Seconds(1), 0, ""};
  ASSERT_TRUE(store_.CompleteRun("poll_000000h1", "replica-b", next_result).ok());
  auto lease = MustAcquire(*db_);
  int left = -1;
  *lease << "SELECT count(*) FROM polling_tick_prices WHERE job_id = 'poll_000000h1'",
      soci::into(left);
  EXPECT_EQ(left, 0);
}

TEST_F(PollingStoreTest, AHolderWhoseLeaseRanOutCannotWriteItsTick) {
  ASSERT_TRUE(store_.Create("poll_000000h2", Config({"TD"})).ok());
  std::vector<PollingJob> claimed =
      *store_.ClaimDue("replica-a", 1, absl::Seconds(1), absl::Milliseconds(200));
  ASSERT_EQ(claimed.size(), 1u);
  const PollTick tick{"poll_000000h2", claimed[0].next_run_at, "replica-a"};
  // The replica froze: its lease ran out in the database, nobody has claimed the job yet.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto lease = MustAcquire(*db_);
        int n = 0;
        *lease << "SELECT count(*) FROM polling_jobs WHERE job_id = 'poll_000000h2' "
                  "AND lease_expires_at <= now()",
            soci::into(n);
        return n > 0;
      },
      absl::Seconds(10), kPoll));
  PostgresPriceStore prices(*db_);
  EXPECT_TRUE(RefusedTick(prices.SavePrice(TickQuote("TD", tick)).status()).has_value());
  EXPECT_FALSE(*store_.RecordTick(tick, "TD", 0));
  EXPECT_EQ(PriceRows(*db_, "TD"), std::make_pair(0, 0));
  // Nor record its run: the next claim completes the tick.
  JobRunResult result{absl::Now(), absl::Now() + absl::Seconds(1), 0, ""};
  ASSERT_TRUE(store_.CompleteRun("poll_000000h2", "replica-a", result).ok());
  EXPECT_EQ(store_.Get("poll_000000h2")->run_count, 0);
  EXPECT_EQ(store_.Get("poll_000000h2")->next_run_at, tick.tick_at);
  // Stopped jobs take their records with them.
  ASSERT_TRUE(store_.Stop("poll_000000h2").ok());
  EXPECT_TRUE(store_.TickSymbols("poll_000000h2", tick.tick_at)->empty());
}

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() {
    providers_.Add(std::make_unique<TestProvider>(7));
    providers_.Add(SlowProvider(absl::Milliseconds(250)));
  }

  std::unique_ptr<PollingScheduler> Replica(const std::string& id,
                                            absl::Duration lease = absl::Seconds(30)) {
    SchedulerOptions options;
    options.instance_id = id;
    options.runners = 4;
    options.lease = lease;
    return std::make_unique<PollingScheduler>(jobs_, recorder_, providers_, options);
  }

  int SlowPricePoints() {
    auto lease = MustAcquire(*db_);
    int n = 0;
    *lease << "SELECT count(*) FROM price_points WHERE provider = 'slow'", soci::into(n);
    return n;
  }

  // Whether the job is leased with a lease that already ran out in the database.
  bool LeaseLapsed(const std::string& job_id) {
    auto lease = MustAcquire(*db_);
    int n = 0;
    *lease << "SELECT count(*) FROM polling_jobs WHERE job_id = :id AND lease_owner IS NOT NULL "
              "AND lease_expires_at <= now()",
        soci::use(job_id), soci::into(n);
    return n > 0;
  }

  int PricePoints(const std::string& symbol) {
    auto lease = MustAcquire(*db_);
    int n = 0;
    *lease << "SELECT count(*) FROM price_points WHERE symbol = :s", soci::use(symbol),
        soci::into(n);
    return n;
  }

  ScratchDatabase scratch_;
  std::unique_ptr<Database> db_ = scratch_.ConnectMigrated(12);
  PostgresPollingJobStore jobs_{*db_};
  PostgresPriceStore prices_{*db_};
  FakePublisher publisher_;
  ProviderRegistry providers_{"test"};
  PriceRecorder recorder_{providers_, prices_, publisher_};
};

TEST_F(SchedulerTest, TwoReplicasRunEachTickExactlyOnceOnTheGrid) {
  auto job = jobs_.Create("poll_000000d1", Config({"PA", "PB", "PC"}, 1));
  ASSERT_TRUE(job.ok());
  auto a = Replica("replica-a");
  auto b = Replica("replica-b");
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return jobs_.Get("poll_000000d1")->run_count >= 4; },
                      absl::Seconds(20), kPoll));
  ASSERT_TRUE(jobs_.Stop("poll_000000d1").ok());
  a->Stop();
  b->Stop();
  const auto final_job = jobs_.Get("poll_000000d1");
  // Every tick fetched every symbol once: as many price points per symbol as runs.
  for (const char* symbol : {"PA", "PB", "PC"}) {
    EXPECT_EQ(PricePoints(symbol), final_job->run_count) << symbol;
  }
  EXPECT_EQ(final_job->error_count, 0);
  // Runs started on the one-second grid from the creation time, not drifting.
  auto lease = MustAcquire(*db_);
  soci::rowset<double> offsets =
      (lease->prepare << "SELECT extract(epoch FROM ts - (SELECT created_at FROM polling_jobs "
                         "WHERE job_id = 'poll_000000d1')) FROM price_points WHERE symbol = 'PA' "
                         "ORDER BY ts");
  std::set<long> ticks;
  for (double offset : offsets) {
    const double fraction = offset - static_cast<long>(offset);
    EXPECT_LT(fraction, 0.5) << "run started " << offset << " s after creation";
    ticks.insert(static_cast<long>(offset));
  }
  EXPECT_EQ(static_cast<int>(ticks.size()), final_job->run_count) << "a tick ran twice";
  EXPECT_LT(a->lag().p99 + b->lag().p99, absl::Milliseconds(500));
}

TEST_F(SchedulerTest, RestartedReplicaResumesItsJobsAtOnce) {
  ASSERT_TRUE(jobs_.Create("poll_000000e1", Config({"PR"}, 1)).ok());
  // A replica claimed the job with a long lease and died without finishing.
  ASSERT_EQ(jobs_.ClaimDue("host:50051", 10, absl::Seconds(1), absl::Hours(1))->size(), 1u);
  auto restarted = Replica("host:50051");
  restarted->Start();
  EXPECT_TRUE(WaitFor([&] { return jobs_.Get("poll_000000e1")->run_count >= 2; },
                      absl::Seconds(10), kPoll));
  restarted->Stop();
}

TEST_F(SchedulerTest, StoppedJobIsNeverClaimedAgain) {
  ASSERT_TRUE(jobs_.Create("poll_000000f1", Config({"PS"}, 1)).ok());
  auto replica = Replica("replica-s");
  replica->Start();
  ASSERT_TRUE(WaitFor([&] { return jobs_.Get("poll_000000f1")->run_count >= 1; },
                      absl::Seconds(10), kPoll));
  ASSERT_TRUE(jobs_.Stop("poll_000000f1").ok());
  replica->Stop();
  const int runs = jobs_.Get("poll_000000f1")->run_count;
  // Far past its next tick, nothing claims it.
  auto other = Replica("replica-t");
  EXPECT_EQ(other->ClaimOnce(), 0);
  EXPECT_TRUE(jobs_.ClaimDue("anyone", 10, absl::Hours(24), absl::Seconds(1))->empty());
  EXPECT_EQ(jobs_.Get("poll_000000f1")->run_count, runs);
  EXPECT_EQ(PricePoints("PS"), runs);
}

TEST_F(SchedulerTest, RenewalKeepsTheLeaseAcrossARunLongerThanTheLease) {
  // 12 quotes of 250 ms: a run of three seconds, twice the lease.
  ASSERT_TRUE(jobs_.Create("poll_000000g1", SlowConfig(12)).ok());
  auto a = Replica("replica-a", absl::Milliseconds(1500));
  auto b = Replica("replica-b", absl::Milliseconds(1500));
  a->Start();
  b->Start();
  bool lapsed = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        lapsed |= LeaseLapsed("poll_000000g1");
        return jobs_.Get("poll_000000g1")->run_count >= 1;
      },
      absl::Seconds(20), kPoll));
  a->Stop();
  b->Stop();
  EXPECT_FALSE(lapsed) << "the lease ran out while the run was in progress";
  const auto job = jobs_.Get("poll_000000g1");
  EXPECT_EQ(job->run_count, 1);
  EXPECT_EQ(job->error_count, 0);
  // The other replica never ran the tick a second time.
  for (const std::string& symbol : job->config.symbols) {
    EXPECT_EQ(PricePoints(symbol), 1) << symbol;
  }
}

TEST_F(SchedulerTest, JobStoppedDuringARunStopsFetchingAndIsNotRecorded) {
  ASSERT_TRUE(jobs_.Create("poll_000000g2", SlowConfig(20)).ok());
  auto replica = Replica("replica-g", absl::Milliseconds(1500));
  replica->Start();
  ASSERT_TRUE(WaitFor([&] { return SlowPricePoints() >= 1; }, absl::Seconds(10), kPoll));
  ASSERT_TRUE(jobs_.Stop("poll_000000g2").ok());
  replica->Stop();  // waits for the run in progress
  // The run noticed at its next renewal (every 500 ms, two quotes) and fetched no more.
  EXPECT_LT(SlowPricePoints(), 20);
  const auto job = jobs_.Get("poll_000000g2");
  EXPECT_EQ(job->status, JobStatus::kStopped);
  EXPECT_EQ(job->run_count, 0);
  EXPECT_FALSE(job->last_run_at.has_value());
  EXPECT_TRUE(jobs_.ClaimDue("anyone", 10, absl::Hours(24), absl::Seconds(1))->empty());
}

TEST_F(SchedulerTest, ATickBegunByADeadReplicaIsCompletedWithOnlyTheMissingSymbols) {
  ASSERT_TRUE(jobs_.Create("poll_000000i1", Config({"QA", "QB", "QC", "QD", "QE", "QF"}, 60)).ok());
  std::vector<PollingJob> claimed =
      *jobs_.ClaimDue("replica-dead", 1, absl::Seconds(1), absl::Seconds(2));
  ASSERT_EQ(claimed.size(), 1u);
  const PollTick tick{"poll_000000i1", claimed[0].next_run_at, "replica-dead"};
  for (const char* symbol : {"QA", "QB", "QC"}) {
    ASSERT_TRUE(recorder_.Record(symbol, "test", std::nullopt, absl::ZeroDuration(), tick).ok());
  }
  // It died; once its lease runs out another replica takes the tick over.
  auto b = Replica("replica-b");
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return jobs_.Get("poll_000000i1")->run_count >= 1; },
                      absl::Seconds(20), kPoll));
  b->Stop();
  for (const char* symbol : {"QA", "QB", "QC", "QD", "QE", "QF"}) {
    EXPECT_EQ(PricePoints(symbol), 1) << symbol;
  }
  EXPECT_EQ(jobs_.Get("poll_000000i1")->error_count, 0);
  EXPECT_EQ(b->refused_writes(), 0);
  // The dead replica's late write of the tick, had it only frozen, is refused.
  absl::StatusOr<StoredPrice> late =
      recorder_.Record("QD", "test", std::nullopt, absl::ZeroDuration(), tick);
  EXPECT_TRUE(RefusedTick(late.status()).has_value());
  EXPECT_EQ(PricePoints("QD"), 1);
}

TEST_F(SchedulerTest, JobWithAProviderThisProcessLacksFails) {
  ASSERT_TRUE(jobs_.Create("poll_000000f2", JobConfig{{"AAPL"}, 1, "retired"}).ok());
  auto replica = Replica("replica-f");
  replica->Start();
  EXPECT_TRUE(WaitFor([&] { return jobs_.Get("poll_000000f2")->status == JobStatus::kFailed; },
                      absl::Seconds(10), kPoll));
  replica->Stop();
  EXPECT_NE(jobs_.Get("poll_000000f2")->last_error.find("unknown provider"), std::string::npos);
}

}  // namespace
}  // namespace marketdata
