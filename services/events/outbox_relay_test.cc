#include "services/events/outbox_relay.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/testing/fake_clock.h"
#include "services/domain/test_prices.h"
#include "services/events/fake_publisher.h"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

class FakeOutbox : public PriceOutbox {
 public:
  absl::StatusOr<std::vector<StoredPrice>> ClaimDue(int limit, absl::Duration lease) override {
    if (!down.ok()) return down;
    leases.push_back(lease);
    std::vector<StoredPrice> out;
    for (int64_t id : pending) {
      if (static_cast<int>(out.size()) == limit) break;
      out.push_back(TestPrice("AAPL", id, 100, absl::FromUnixSeconds(1700000000)));
    }
    return out;
  }
  absl::Status Acknowledge(const std::vector<int64_t>& ids) override {
    if (!down.ok()) return down;
    for (int64_t id : ids) pending.erase(id);
    return absl::OkStatus();
  }
  std::set<int64_t> pending;
  absl::Status down;  // every call fails with it while not OK
  std::vector<absl::Duration> leases;  // of each claim
};

TEST(OutboxRelayTest, RepublishesDueEntriesAndForgetsAcknowledgedOnes) {
  FakeOutbox outbox;
  outbox.pending = {1, 2, 3};
  FakePublisher publisher;
  OutboxRelay relay(outbox, publisher, {});
  EXPECT_EQ(relay.RunOnce(), 3);
  EXPECT_EQ(publisher.published_ids(), (std::vector<int64_t>{1, 2, 3}));
  relay.RunOnce();  // acknowledges what the first pass delivered
  EXPECT_TRUE(outbox.pending.empty());
}

TEST(OutboxRelayTest, AcknowledgementsTheDatabaseMissedAreRecordedOnceItIsBack) {
  FakeOutbox outbox;
  outbox.pending = {1, 2, 3};
  FakePublisher publisher;
  OutboxRelay relay(outbox, publisher, {});
  // Published and acknowledged, while the database is away: nothing can be deleted.
  publisher.AddAcknowledged(1);
  publisher.AddAcknowledged(2);
  outbox.down = absl::UnavailableError("database unavailable");
  relay.RunOnce();
  relay.RunOnce();
  EXPECT_EQ(outbox.pending, (std::set<int64_t>{1, 2, 3}));
  // Back: the kept acknowledgements are recorded before anything is claimed, so only the entry
  // the broker never acknowledged is published again.
  outbox.down = absl::OkStatus();
  relay.RunOnce();
  EXPECT_EQ(outbox.pending, (std::set<int64_t>{3}));
  EXPECT_EQ(publisher.published_ids(), (std::vector<int64_t>{3}));
}

// Captures what the relay logs, to count lines.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10000)) {
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }

  int Count(const std::string& text) const {
    int n = 0;
    for (const std::string& line : sink_->last_formatted()) {
      if (line.find(text) != std::string::npos) ++n;
    }
    return n;
  }
  int Lines() const { return static_cast<int>(sink_->last_formatted().size()); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Runs the relay's passes every `step` for `duration`, as its loop would; returns the clock
// times at which it published something.
std::vector<absl::Time> RunFor(OutboxRelay& relay, FakeClock& clock, absl::Duration duration,
                               absl::Duration step = absl::Milliseconds(10)) {
  std::vector<absl::Time> attempts;
  for (absl::Duration t; t < duration; t += step) {
    if (relay.RunOnce() > 0) attempts.push_back(clock.Now());
    clock.Advance(step);
  }
  return attempts;
}

TEST(OutboxRelayTest, KeepsEntriesTheBrokerNeverAcknowledged) {
  FakeOutbox outbox;
  outbox.pending = {5};
  FakePublisher publisher;
  publisher.set_acknowledge(false);
  FakeClock clock;
  OutboxRelay relay(outbox, publisher, {}, clock.AsFunction());
  relay.RunOnce();
  relay.RunOnce();
  EXPECT_EQ(outbox.pending, std::set<int64_t>{5});
  // The second pass waits for the broker to answer the first instead of publishing again.
  EXPECT_EQ(publisher.published_count(), 1u);
  clock.Advance(absl::Seconds(5));
  relay.RunOnce();  // nothing acknowledged in time: the broker is taken as unreachable
  EXPECT_TRUE(relay.broker_unreachable());
  clock.Advance(absl::Milliseconds(100));
  EXPECT_EQ(relay.RunOnce(), 1);  // first retry
  EXPECT_EQ(outbox.pending, std::set<int64_t>{5});
}

TEST(OutboxRelayTest, BacksOffExponentiallyWhileTheBrokerIsUnreachable) {
  FakeOutbox outbox;
  for (int64_t i = 0; i < 5000; ++i) outbox.pending.insert(i);
  FakePublisher publisher;
  publisher.set_acknowledge(false);
  FakeClock clock;
  const absl::Time start = clock.Now();
  OutboxRelayOptions options;
  options.batch_size = 1000;
  OutboxRelay relay(outbox, publisher, options, clock.AsFunction());
  std::vector<absl::Time> attempts = RunFor(relay, clock, absl::Minutes(2));

  // One full batch, then nothing until the broker has had `ack_timeout` to answer.
  ASSERT_GE(attempts.size(), 2u);
  EXPECT_EQ(attempts[0], start);
  EXPECT_EQ(publisher.published_count() - attempts.size() + 1, 1000u)
      << "after the first batch, every retry republishes a single entry";
  // Then retries 100 ms after giving up, and each wait twice the one before, up to 1 s.
  EXPECT_EQ(attempts[1] - attempts[0], absl::Seconds(5) + absl::Milliseconds(100));
  std::vector<absl::Duration> waits;
  for (size_t i = 2; i < attempts.size(); ++i) waits.push_back(attempts[i] - attempts[i - 1]);
  const std::vector<absl::Duration> expected = {absl::Milliseconds(200), absl::Milliseconds(400),
                                                absl::Milliseconds(800), absl::Seconds(1),
                                                absl::Seconds(1)};
  ASSERT_GE(waits.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(waits[i], expected[i]) << "wait " << i;
  for (size_t i = expected.size(); i < waits.size(); ++i) EXPECT_EQ(waits[i], absl::Seconds(1));
  EXPECT_EQ(relay.backoff(), absl::Seconds(1));
  // About one attempt a second (a single entry each) instead of one per pass.
  EXPECT_LT(attempts.size(), 130u);
  // The first claim holds its batch for the full lease; a probe's lease ends when the next
  // attempt is due, so no entry stays hidden for long once the broker is back.
  ASSERT_EQ(outbox.leases.size(), attempts.size());
  EXPECT_EQ(outbox.leases[0], options.lease);
  for (size_t i = 1; i + 1 < attempts.size(); ++i) {
    EXPECT_EQ(outbox.leases[i], attempts[i + 1] - attempts[i]) << "probe " << i;
  }
}

TEST(OutboxRelayTest, BrokerBackResetsTheBackoffAndRelaysInFullBatchesAgain) {
  FakeOutbox outbox;
  for (int64_t i = 0; i < 5000; ++i) outbox.pending.insert(i);
  FakePublisher publisher;
  publisher.set_acknowledge(false);
  FakeClock clock;
  OutboxRelayOptions options;
  options.batch_size = 100;
  OutboxRelay relay(outbox, publisher, options, clock.AsFunction());
  RunFor(relay, clock, absl::Minutes(1));
  ASSERT_TRUE(relay.broker_unreachable());
  ASSERT_EQ(relay.backoff(), options.max_backoff);

  // The broker comes back: the next retry is acknowledged, and the pass that sees it resumes.
  publisher.set_acknowledge(true);
  const size_t published = publisher.published_count();
  for (int pass = 0; pass < 2000 && relay.broker_unreachable(); ++pass) {
    relay.RunOnce();
    clock.Advance(absl::Milliseconds(10));
  }
  EXPECT_FALSE(relay.broker_unreachable());
  EXPECT_EQ(relay.backoff(), absl::ZeroDuration());
  EXPECT_EQ(publisher.published_count() - published, 1u + 100u);
  // Full batches again, one per pass, as fast as the broker acknowledges them.
  std::vector<absl::Time> attempts = RunFor(relay, clock, absl::Milliseconds(50));
  EXPECT_EQ(attempts.size(), 5u);
  EXPECT_EQ(publisher.published_count() - published, 1u + 100u + 500u);

  // When it goes away again, the backoff starts over from its initial value.
  publisher.set_acknowledge(false);
  RunFor(relay, clock, absl::Seconds(5) + absl::Milliseconds(20));
  EXPECT_TRUE(relay.broker_unreachable());
  EXPECT_EQ(relay.backoff(), absl::Milliseconds(100));
}

TEST(OutboxRelayTest, LogsOneLinePerChangeOfStateNotPerMessageOrAttempt) {
  CapturedLog log;
  FakeOutbox outbox;
  for (int64_t i = 0; i < 5000; ++i) outbox.pending.insert(i);
  FakePublisher publisher;
  publisher.set_acknowledge(false);
  FakeClock clock;
  OutboxRelayOptions options;
  options.batch_size = 1000;
  OutboxRelay relay(outbox, publisher, options, clock.AsFunction());
  RunFor(relay, clock, absl::Minutes(2));
  EXPECT_EQ(log.Count("broker unreachable, 1000 entries waiting; retrying with backoff"), 1);
  // The first batch was logged when it was republished; none of the retries is.
  EXPECT_EQ(log.Count("republished"), 1);
  EXPECT_EQ(log.Lines(), 2);

  publisher.set_acknowledge(true);
  RunFor(relay, clock, absl::Seconds(11));
  EXPECT_EQ(log.Count("broker back, relayed 1"), 1);
  EXPECT_EQ(log.Count("broker unreachable"), 1);
}

TEST(OutboxRelayTest, AnyAcknowledgementShowsTheBrokerIsReachable) {
  FakeOutbox outbox;
  for (int64_t i = 0; i < 50; ++i) outbox.pending.insert(i);
  FakePublisher publisher;
  publisher.set_acknowledge(false);
  FakeClock clock;
  OutboxRelayOptions options;
  options.batch_size = 10;
  OutboxRelay relay(outbox, publisher, options, clock.AsFunction());
  EXPECT_EQ(relay.RunOnce(), 10);
  // The republished batch is slow, but a fresh event (published by a request) got through.
  publisher.AddAcknowledged(1000);
  clock.Advance(absl::Milliseconds(200));
  EXPECT_EQ(relay.RunOnce(), 10);
  // Nothing heard since the second batch: the relay waits for it.
  clock.Advance(absl::Milliseconds(200));
  EXPECT_EQ(relay.RunOnce(), 0);
  EXPECT_FALSE(relay.broker_unreachable());
}

// A backlog drains at the broker's pace, not one batch per interval: after a full batch the next
// pass comes at once, and claims again as soon as anything of the last batch is acknowledged.
TEST(OutboxRelayTest, ABacklogDrainsAtTheBrokersPace) {
  FakeOutbox outbox;
  for (int64_t i = 1; i <= 25; ++i) outbox.pending.insert(i);
  FakePublisher publisher;
  FakeClock clock;
  OutboxRelayOptions options;
  options.batch_size = 10;
  OutboxRelay relay(outbox, publisher, options, clock.AsFunction());
  EXPECT_EQ(relay.NextWait(), options.interval);  // nothing claimed yet
  EXPECT_EQ(relay.RunOnce(), 10);
  EXPECT_EQ(relay.NextWait(), options.catch_up_interval);
  EXPECT_EQ(relay.RunOnce(), 10);  // the first batch was acknowledged: the next is claimed
  EXPECT_EQ(relay.NextWait(), options.catch_up_interval);
  EXPECT_EQ(relay.RunOnce(), 5);   // the rest: a part batch ends the catch-up
  EXPECT_EQ(relay.NextWait(), options.interval);
  relay.RunOnce();
  EXPECT_TRUE(outbox.pending.empty());
}

TEST(OutboxRelayTest, ClaimsInBatches) {
  FakeOutbox outbox;
  for (int64_t i = 0; i < 25; ++i) outbox.pending.insert(i);
  FakePublisher publisher;
  OutboxRelayOptions options;
  options.batch_size = 10;
  OutboxRelay relay(outbox, publisher, options);
  EXPECT_EQ(relay.RunOnce(), 10);
}

}  // namespace
}  // namespace marketdata
