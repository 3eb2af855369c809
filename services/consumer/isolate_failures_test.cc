#include "services/consumer/isolate_failures.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/domain/test_prices.h"

namespace marketdata {
namespace {

std::vector<StoredPrice> Events(int n) {
  std::vector<StoredPrice> events;
  for (int i = 0; i < n; ++i) {
    events.push_back(TestPrice("AAPL", i + 1, 100 + i, absl::FromUnixSeconds(1700000000 + i)));
  }
  return events;
}

// Stands in for the processor and the store: refuses any part holding a poisoned price point, as
// a database refusing one row fails its whole statement, and records what it wrote.
struct FakeWriter {
  absl::Status Write(const std::vector<StoredPrice>& part) {
    ++calls;
    if (calls == fail_transiently_at_call) return absl::UnavailableError("database down");
    for (const StoredPrice& e : part) {
      if (poisoned.count(e.price_point_id) > 0) {
        return absl::InternalError("database error: saving moving averages");
      }
    }
    for (const StoredPrice& e : part) written.push_back(e.price_point_id);
    return absl::OkStatus();
  }
  EventsProcessor Processor() {
    return [this](const std::vector<StoredPrice>& part) { return Write(part); };
  }

  std::set<int64_t> poisoned;
  int fail_transiently_at_call = 0;
  int calls = 0;
  std::vector<int64_t> written;
};

std::vector<int64_t> Ids(const std::vector<int64_t>& all, const std::set<int64_t>& without) {
  std::vector<int64_t> out;
  for (int64_t id : all) {
    if (without.count(id) == 0) out.push_back(id);
  }
  return out;
}

std::vector<int64_t> Range(int n) {
  std::vector<int64_t> out;
  for (int i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

TEST(IsolateFailingEventsTest, AHealthyBatchIsWrittenInOneCall) {
  FakeWriter writer;
  auto failed = IsolateFailingEvents(Events(50), writer.Processor());
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_TRUE(failed->empty());
  EXPECT_EQ(writer.calls, 1);
  EXPECT_EQ(writer.written, Range(50));
}

TEST(IsolateFailingEventsTest, FindsThePoisonedEventsAndWritesEveryOtherOnceInOrder) {
  const int n = 1000;
  FakeWriter writer;
  writer.poisoned = {4, 517, 518, 1000};
  auto failed = IsolateFailingEvents(Events(n), writer.Processor());
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(failed->size(), 4u);
  const size_t expected[] = {3, 516, 517, 999};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*failed)[i].index, expected[i]);
    EXPECT_TRUE(absl::IsInternal((*failed)[i].status)) << (*failed)[i].status;
  }
  EXPECT_EQ(writer.written, Ids(Range(n), writer.poisoned));
  // Halving: each bad event costs about two attempts per level, not one per event of the batch.
  EXPECT_LE(writer.calls, 1 + 4 * 2 * static_cast<int>(std::ceil(std::log2(n))));
}

TEST(IsolateFailingEventsTest, ASingleBadEventIsReturnedAlone) {
  FakeWriter writer;
  writer.poisoned = {1};
  auto failed = IsolateFailingEvents(Events(1), writer.Processor());
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].index, 0u);
  EXPECT_TRUE(writer.written.empty());
}

// When nothing gets through, the store is at fault, not the events: none is blamed (parking them
// all would empty the partition onto the dead-letter topic).
TEST(IsolateFailingEventsTest, EveryEventFailingAloneBlamesNone) {
  FakeWriter writer;
  writer.poisoned = {1, 2, 3, 4, 5, 6, 7};
  auto failed = IsolateFailingEvents(Events(7), writer.Processor());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(writer.written.empty());
}

// A failure only the whole batch meets (too large a statement, say) blames no event.
TEST(IsolateFailingEventsTest, ABatchThatFailsOnlyAsAWholeIsWrittenInParts) {
  FakeWriter writer;
  EventsProcessor process = [&writer](const std::vector<StoredPrice>& part) {
    if (part.size() > 8) return absl::InvalidArgumentError("statement too large");
    return writer.Write(part);
  };
  auto failed = IsolateFailingEvents(Events(30), process);
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_TRUE(failed->empty());
  EXPECT_EQ(writer.written, Range(30));
}

// The database going away in the middle says nothing about the events: nothing is blamed and
// the caller retries the search later.
TEST(IsolateFailingEventsTest, ATransientFailureStopsTheSearchWithoutBlamingAnyEvent) {
  for (int at = 1; at <= 6; ++at) {
    FakeWriter writer;
    writer.poisoned = {3};
    writer.fail_transiently_at_call = at;
    auto failed = IsolateFailingEvents(Events(16), writer.Processor());
    EXPECT_TRUE(absl::IsUnavailable(failed.status())) << "at call " << at;
  }
}

TEST(IsolateFailingEventsTest, CancellationStopsTheSearch) {
  int calls = 0;
  EventsProcessor process = [&calls](const std::vector<StoredPrice>&) {
    return ++calls == 1 ? absl::InternalError("refused") : absl::CancelledError("stopping");
  };
  auto failed = IsolateFailingEvents(Events(16), process);
  EXPECT_TRUE(absl::IsCancelled(failed.status())) << failed.status();
  EXPECT_EQ(calls, 2);
}

TEST(IsolateFailingEventsTest, NoEventsNoCalls) {
  FakeWriter writer;
  auto failed = IsolateFailingEvents({}, writer.Processor());
  ASSERT_TRUE(failed.ok());
  EXPECT_TRUE(failed->empty());
  EXPECT_EQ(writer.calls, 0);
}

TEST(IsTransientFailureTest, OnlyFailuresThatHealByThemselves) {
  EXPECT_TRUE(IsTransientFailure(absl::UnavailableError("")));
  EXPECT_TRUE(IsTransientFailure(absl::DeadlineExceededError("")));
  EXPECT_TRUE(IsTransientFailure(absl::AbortedError("")));
  EXPECT_FALSE(IsTransientFailure(absl::OkStatus()));
  EXPECT_FALSE(IsTransientFailure(absl::InternalError("")));
  EXPECT_FALSE(IsTransientFailure(absl::InvalidArgumentError("")));
  EXPECT_FALSE(IsTransientFailure(absl::AlreadyExistsError("")));
  EXPECT_FALSE(IsTransientFailure(absl::CancelledError("")));
}

}  // namespace
}  // namespace marketdata
