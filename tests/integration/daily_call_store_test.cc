// PostgresDailyCallLedger against a real PostgreSQL: processes taking calls of one provider's day
// at once never count more than its limit, and each provider and day has its own count.
#include "services/storage/daily_call_store.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/storage/migrations.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::ScratchDatabase;

const absl::Time kDay = absl::FromCivil(absl::CivilDay(2026, 12, 6), absl::UTCTimeZone());

class DailyCallStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two pools, as two replicas of mds-api have.
    for (auto* db : {&first_, &second_}) {
      auto connected = Database::Connect(scratch_.url(), 4, absl::Seconds(10));
      ASSERT_TRUE(connected.ok()) << connected.status();
      *db = *std::move(connected);
    }
    ASSERT_TRUE(ApplyMigrations(*first_, EmbeddedMigrations()).ok());
  }
  ScratchDatabase scratch_;
  std::unique_ptr<Database> first_;
  std::unique_ptr<Database> second_;
};

TEST_F(DailyCallStoreTest, ReplicasTakingAtOnceNeverCountMoreThanTheLimit) {
  PostgresDailyCallLedger a(*first_);
  PostgresDailyCallLedger b(*second_);
  std::atomic<int> granted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      PostgresDailyCallLedger& ledger = t % 2 == 0 ? a : b;
      for (int i = 0; i < 10; ++i) {
        absl::StatusOr<DailyCallLedger::Take> take = ledger.TakeCall("alpha_vantage", kDay, 25);
        ASSERT_TRUE(take.ok()) << take.status();
        (take->granted ? granted : refused)++;
        EXPECT_LE(take->used, 25);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(granted.load(), 25);
  EXPECT_EQ(refused.load(), 55);
  EXPECT_EQ(*a.Used("alpha_vantage", kDay), 25);
  absl::StatusOr<DailyCallLedger::Take> after = b.TakeCall("alpha_vantage", kDay, 25);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->granted);
  EXPECT_EQ(after->used, 25);
}

TEST_F(DailyCallStoreTest, EachProviderAndDayCountsApart) {
  PostgresDailyCallLedger ledger(*first_);
  EXPECT_EQ(*ledger.Used("finnhub", kDay), 0);
  ASSERT_TRUE(ledger.TakeCall("finnhub", kDay, 2)->granted);
  ASSERT_TRUE(ledger.TakeCall("finnhub", kDay, 2)->granted);
  EXPECT_FALSE(ledger.TakeCall("finnhub", kDay, 2)->granted);
  // The next day, and another provider, start from nothing.
  EXPECT_EQ(ledger.TakeCall("finnhub", kDay + absl::Hours(24), 2)->used, 1);
  EXPECT_EQ(ledger.TakeCall("yfinance", kDay, 2)->used, 1);
  EXPECT_EQ(*ledger.Used("finnhub", kDay), 2);
  // A limit raised later lets more through the same day.
  EXPECT_TRUE(ledger.TakeCall("finnhub", kDay, 3)->granted);
}

}  // namespace
}  // namespace marketdata
