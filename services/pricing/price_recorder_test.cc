// PriceRecorder with the store, the publisher and the providers faked: what is stored and
// published, on which thread a fetch runs, and how failures come back.
#include "services/pricing/price_recorder.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/synchronization/blocking_counter.h"
#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/wait_for.h"
#include "services/events/fake_publisher.h"
#include "services/providers/fake_provider.h"
#include "services/storage/fake_price_store.h"

namespace marketdata {
namespace {

FetchLaneOptions Lanes(int threads, size_t max_queued, absl::Duration budget) {
  FetchLaneOptions options;
  options.threads = threads;
  options.max_queued = max_queued;
  options.budget = budget;
  return options;
}

class PriceRecorderTest : public ::testing::Test {
 protected:
  PriceRecorderTest() : registry_("inline") {
    auto down = std::make_unique<FakeProvider>("down");
    down->set_may_block(false);
    down->Fail(absl::UnavailableError("connection refused"));
    down_ = down.get();
    registry_.Add(std::move(down));
    auto inline_provider = std::make_unique<FakeProvider>("inline");
    inline_provider->set_may_block(false);
    inline_provider->set_price(12.5);
    auto network = std::make_unique<FakeProvider>("network");
    network->set_price(12.5);
    inline_ = inline_provider.get();
    network_ = network.get();
    registry_.Add(std::move(inline_provider));
    registry_.Add(std::move(network));
  }

  absl::StatusOr<StoredPrice> RecordAsync(absl::string_view symbol, absl::string_view provider,
                                          PriceRecorder& recorder,
                                          std::function<bool()> cancelled = {},
                                          absl::Duration max_age = absl::ZeroDuration()) {
    absl::StatusOr<StoredPrice> result = absl::InternalError("no answer");
    absl::Notification answered;
    recorder.RecordAsync(
        symbol, provider,
        [&](absl::StatusOr<StoredPrice> stored) {
          result = std::move(stored);
          answered.Notify();
        },
        std::move(cancelled), std::nullopt, max_age);
    EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return result;
  }

  // A request for AAPL from the network provider, its call held for 300 ms, under way (on a
  // fetch thread) when this returns.
  struct Pending {
    absl::Notification done;
    absl::StatusOr<StoredPrice> result = absl::InternalError("no answer");
  };
  std::unique_ptr<Pending> StartSlowCall(PriceRecorder& recorder) {
    network_->set_call_takes(absl::Milliseconds(300));
    auto pending = std::make_unique<Pending>();
    recorder.RecordAsync("AAPL", "network", [p = pending.get()](absl::StatusOr<StoredPrice> s) {
      p->result = std::move(s);
      p->done.Notify();
    });
    EXPECT_TRUE(WaitFor([&] { return network_->calls() == 1; }));
    return pending;
  }

  ProviderRegistry registry_;
  FakeProvider* inline_;
  FakeProvider* network_;
  FakeProvider* down_;
  // Saves on a thread of its own, as the group-commit writer does.
  FakePriceStore store_{FakePriceStore::Async::kOnOwnThread};
  FakePublisher publisher_;
  FetchLanes pool_{Lanes(2, 8, absl::Seconds(30))};
};

TEST_F(PriceRecorderTest, AsyncStoresThenPublishesTheNormalisedSymbol) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  absl::StatusOr<StoredPrice> stored = RecordAsync(" aapl ", "", recorder);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->quote.symbol, "AAPL");
  EXPECT_EQ(stored->quote.provider, "inline");
  EXPECT_EQ(stored->price_point_id, 1);
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].price_point_id, 1);
  EXPECT_EQ(recorder.recorded(), 1);
  EXPECT_EQ(recorder.failed(), 0);
}

// A quote older than the late window, or further ahead than the partitions made, is answered but
// neither stored nor published, and counted by its reason.
TEST_F(PriceRecorderTest, QuotesOutsideTheWindowAreAnsweredNotStored) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_, nullptr,
                         AcceptanceWindow{absl::Hours(1), absl::Minutes(3)});
  inline_->set_quote_age(-absl::Hours(2));
  absl::StatusOr<StoredPrice> old = RecordAsync("AAPL", "inline", recorder);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->quote.price, 12.5);
  EXPECT_EQ(old->price_point_id, 0);
  inline_->set_quote_age(absl::Minutes(10));
  absl::StatusOr<StoredPrice> ahead = RecordAsync("AAPL", "inline", recorder);
  ASSERT_TRUE(ahead.ok()) << ahead.status();
  EXPECT_EQ(ahead->price_point_id, 0);
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_EQ(recorder.not_stored(AcceptanceWindow::Verdict::kTooOld), 1);
  EXPECT_EQ(recorder.not_stored(AcceptanceWindow::Verdict::kTooNew), 1);
  EXPECT_EQ(recorder.recorded(), 0);
  EXPECT_EQ(recorder.failed(), 0);
  // Inside it: stored.
  inline_->set_quote_age(-absl::Minutes(59));
  absl::StatusOr<StoredPrice> late = RecordAsync("AAPL", "inline", recorder);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_GT(late->price_point_id, 0);
  EXPECT_EQ(publisher_.published().size(), 1u);
}

// The request's ids follow the price over the pool and the storage thread: into the lines
// logged there, and onto the stored price, whose event carries them.
TEST_F(PriceRecorderTest, TheRequestsIdsTravelWithThePrice) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  const RequestContext request = RequestContext::From(
      "req-42", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  for (const char* provider : {"network", "inline"}) {
    absl::StatusOr<StoredPrice> stored;
    {
      ScopedRequestContext scope(request);
      stored = RecordAsync("MSFT", provider, recorder);
    }
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->quote.origin.request_id, "req-42") << provider;
    EXPECT_EQ(stored->quote.origin.traceparent, request.traceparent) << provider;
    EXPECT_EQ(publisher_.published().back().quote.origin.request_id, "req-42") << provider;
    EXPECT_EQ(publisher_.published_for().back(), "req-42") << provider;
  }
  EXPECT_EQ(network_->fetched_for(), "req-42");
  EXPECT_EQ(inline_->fetched_for(), "req-42");
  // Without a request (a polling run), nothing is attached.
  ASSERT_TRUE(RecordAsync("MSFT", "network", recorder).ok());
  EXPECT_TRUE(publisher_.published().back().quote.origin.empty());
  EXPECT_EQ(network_->fetched_for(), "");
}

TEST_F(PriceRecorderTest, InlineProvidersAreFetchedOnTheCallersThread) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  ASSERT_TRUE(RecordAsync("MSFT", "inline", recorder).ok());
  EXPECT_EQ(inline_->fetched_on(), std::this_thread::get_id());
}

TEST_F(PriceRecorderTest, BlockingProvidersAreFetchedOnThePool) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  ASSERT_TRUE(RecordAsync("MSFT", "network", recorder).ok());
  EXPECT_NE(network_->fetched_on(), std::thread::id());
  EXPECT_NE(network_->fetched_on(), std::this_thread::get_id());
}

TEST_F(PriceRecorderTest, WithoutAPoolBlockingProvidersRunOnTheCallersThread) {
  PriceRecorder recorder(registry_, store_, publisher_);
  ASSERT_TRUE(RecordAsync("MSFT", "network", recorder).ok());
  EXPECT_EQ(network_->fetched_on(), std::this_thread::get_id());
}

TEST_F(PriceRecorderTest, ValidationErrorsAnswerAtOnceAndStoreNothing) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  EXPECT_EQ(RecordAsync("", "inline", recorder).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordAsync("AAPL", "nope", recorder).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.saved_count(), 0);
  EXPECT_EQ(recorder.failed(), 2);
}

TEST_F(PriceRecorderTest, ProviderAndStoreFailuresComeBackUnpublished) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  network_->Fail(absl::ResourceExhaustedError("rate limited"));
  EXPECT_EQ(RecordAsync("AAPL", "network", recorder).status().code(),
            absl::StatusCode::kResourceExhausted);
  store_.Fail(absl::UnavailableError("database down"));
  EXPECT_EQ(RecordAsync("AAPL", "inline", recorder).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_EQ(recorder.failed(), 2);
}

TEST_F(PriceRecorderTest, SyncRecordTakesTheSamePath) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  absl::StatusOr<StoredPrice> stored = recorder.Record("ibm", "network");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->quote.symbol, "IBM");
  EXPECT_EQ(network_->fetched_on(), std::this_thread::get_id());
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(PriceRecorderTest, ACallItsClientGaveUpOnCallsNoProvider) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  absl::StatusOr<StoredPrice> stored =
      RecordAsync("AAPL", "network", recorder, [] { return true; });
  EXPECT_EQ(stored.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(network_->fetched_on(), std::thread::id());  // never fetched
  EXPECT_EQ(store_.saved_count(), 0);
}

// Requests for one symbol that arrive while its provider call runs share the next call and its
// one stored price; none gets the price of the call that was running when it arrived.
TEST_F(PriceRecorderTest, ConcurrentRequestsForOneSymbolShareTheNextCall) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  // The first call is under way before the others arrive.
  std::unique_ptr<Pending> pending = StartSlowCall(recorder);
  constexpr int kOthers = 5;
  std::vector<absl::StatusOr<StoredPrice>> others(kOthers, absl::InternalError("no answer"));
  absl::BlockingCounter answered(kOthers);
  for (int i = 0; i < kOthers; ++i) {
    recorder.RecordAsync("aapl", "network", [&, i](absl::StatusOr<StoredPrice> s) {
      others[i] = std::move(s);
      answered.DecrementCount();
    });
  }
  ASSERT_TRUE(pending->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const absl::StatusOr<StoredPrice>& first = pending->result;
  answered.Wait();
  ASSERT_TRUE(first.ok()) << first.status();
  for (const absl::StatusOr<StoredPrice>& s : others) {
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->price_point_id, others[0]->price_point_id);
    EXPECT_NE(s->price_point_id, first->price_point_id);
  }
  EXPECT_EQ(network_->calls(), 2);
  EXPECT_EQ(store_.saved_count(), 2);
  EXPECT_EQ(publisher_.published().size(), 2u);
  // Another symbol is not held up by AAPL's calls.
  EXPECT_TRUE(RecordAsync("MSFT", "network", recorder).ok());
  EXPECT_EQ(network_->calls(), 3);
}

TEST_F(PriceRecorderTest, BlockingFetchesGetTheirLanesDeadline) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  const absl::Time before = absl::Now();
  ASSERT_TRUE(RecordAsync("MSFT", "network", recorder).ok());
  EXPECT_GE(network_->last_deadline(), before + absl::Seconds(30));
  EXPECT_LE(network_->last_deadline(), absl::Now() + absl::Seconds(30));
}

TEST_F(PriceRecorderTest, AFullFetchQueueAnswersBusyAtOnce) {
  FetchLanes small(Lanes(1, 1, absl::Seconds(30)));
  absl::Notification release;
  absl::Notification started;
  // The network lane's one thread is held and one fetch waits: its queue is full.
  ASSERT_TRUE(small.TrySchedule("network", [&](absl::Time) {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  ASSERT_TRUE(small.TrySchedule("network", [](absl::Time) {}));
  PriceRecorder recorder(registry_, store_, publisher_, &small);
  absl::StatusOr<StoredPrice> busy = RecordAsync("AAPL", "network", recorder);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(busy.status().message().find("waiting for provider network"), std::string::npos);
  EXPECT_EQ(store_.saved_count(), 0);
  release.Notify();
}

TEST_F(PriceRecorderTest, AFetchWhoseBudgetRanOutWhileQueuedCallsNoProvider) {
  FetchLanes no_budget(
      Lanes(1, 1, absl::ZeroDuration()));
  PriceRecorder recorder(registry_, store_, publisher_, &no_budget);
  absl::StatusOr<StoredPrice> late = RecordAsync("AAPL", "network", recorder);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("network is busy"), std::string::npos);
  EXPECT_EQ(network_->fetched_on(), std::thread::id());  // never fetched
  EXPECT_EQ(store_.saved_count(), 0);
  EXPECT_EQ(recorder.failed(), 1);
}

}  // namespace
}  // namespace marketdata

namespace marketdata {
namespace {

TEST_F(PriceRecorderTest, MaxAgeAnswersFromARecentQuoteWithoutACallOrANewPrice) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  absl::StatusOr<StoredPrice> first = RecordAsync("AAPL", "inline", recorder);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GE(first->quote.fetched_at, absl::Now() - absl::Seconds(10));
  absl::StatusOr<StoredPrice> reused =
      RecordAsync("aapl", "inline", recorder, {}, absl::Seconds(60));
  ASSERT_TRUE(reused.ok()) << reused.status();
  EXPECT_EQ(reused->price_point_id, first->price_point_id);
  EXPECT_EQ(reused->quote.fetched_at, first->quote.fetched_at);
  EXPECT_EQ(inline_->calls(), 1);
  EXPECT_EQ(store_.saved_count(), 1);
  EXPECT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(recorder.reused(), 1);
  // Without max_age, a new quote: the request never gets one fetched before it arrived.
  absl::StatusOr<StoredPrice> fresh = RecordAsync("AAPL", "inline", recorder);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->price_point_id, first->price_point_id);
  EXPECT_EQ(inline_->calls(), 2);
  // A quote older than max_age is not good enough.
  absl::SleepFor(absl::Milliseconds(20));
  absl::StatusOr<StoredPrice> strict =
      RecordAsync("AAPL", "inline", recorder, {}, absl::Milliseconds(1));
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(inline_->calls(), 3);
  // Another provider's quote of the symbol is not reused.
  ASSERT_TRUE(RecordAsync("AAPL", "network", recorder, {}, absl::Seconds(60)).ok());
  EXPECT_EQ(network_->calls(), 1);
}

TEST_F(PriceRecorderTest, MaxAgeOutOfRangeIsInvalid) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  EXPECT_EQ(RecordAsync("AAPL", "inline", recorder, {}, absl::Seconds(-1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordAsync("AAPL", "inline", recorder, {}, absl::Hours(25)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(inline_->calls(), 0);
}

TEST_F(PriceRecorderTest, AProvidersRefreshFloorReusesQuotesEvenWithoutMaxAge) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  network_->set_min_refresh(absl::Seconds(60));
  absl::StatusOr<StoredPrice> first = RecordAsync("AAPL", "network", recorder);
  ASSERT_TRUE(first.ok());
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<StoredPrice> again = recorder.Record("AAPL", "network");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->price_point_id, first->price_point_id);
  }
  EXPECT_EQ(network_->calls(), 1);
  EXPECT_EQ(recorder.reused(), 5);
}

// A request that accepts an older quote joins the call in flight when it began late enough.
TEST_F(PriceRecorderTest, MaxAgeJoinsTheCallInFlight) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  std::unique_ptr<Pending> pending = StartSlowCall(recorder);
  absl::StatusOr<StoredPrice> joined =
      RecordAsync("AAPL", "network", recorder, {}, absl::Seconds(10));
  ASSERT_TRUE(pending->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const absl::StatusOr<StoredPrice>& first = pending->result;
  ASSERT_TRUE(first.ok() && joined.ok());
  EXPECT_EQ(joined->price_point_id, first->price_point_id);
  EXPECT_EQ(network_->calls(), 1);
  EXPECT_EQ(recorder.shared(), 1);
}

TEST_F(PriceRecorderTest, ARequestThatSharedARefusedTicksCallGetsACallOfItsOwn) {
  // The tick's record is refused (the job is not leased to its owner: it froze past its
  // lease), so the price of its call is not stored.
  std::atomic<int> refused{0};
  store_.RecordTicksWith([&](const PollTick&, const std::string&, int64_t) {
    refused.fetch_add(1);
    return false;
  });
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  network_->set_call_takes(absl::Milliseconds(300));
  const PollTick tick{"poll_00000001", absl::FromUnixSeconds(1767225600), "replica-frozen"};
  absl::StatusOr<StoredPrice> polled = absl::InternalError("no answer");
  std::thread poll([&] {
    polled = recorder.Record("AAPL", "network", std::nullopt, absl::ZeroDuration(), tick);
  });
  ASSERT_TRUE(WaitFor([&] { return network_->calls() == 1; }));
  // A client joins that call (it accepts a quote fetched before it arrived).
  absl::StatusOr<StoredPrice> joined =
      RecordAsync("AAPL", "network", recorder, {}, absl::Seconds(10));
  poll.join();
  EXPECT_TRUE(RefusedTick(polled.status()).has_value()) << polled.status();
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_GT(joined->price_point_id, 0);
  EXPECT_FALSE(joined->quote.tick.has_value());
  EXPECT_EQ(network_->calls(), 2);
  EXPECT_EQ(store_.saved_count(), 1);
  EXPECT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(refused.load(), 1);
}

TEST_F(PriceRecorderTest, AFallbackOrderAsksTheNextProviderWhenOneFails) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  absl::StatusOr<StoredPrice> answered = RecordAsync("AAPL", "down, inline", recorder);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->quote.provider, "inline");
  EXPECT_EQ(down_->calls(), 1);
  EXPECT_EQ(recorder.fallbacks(), 1);
  ASSERT_EQ(store_.saved_count(), 1);
  // The first that answers ends the order.
  ASSERT_TRUE(RecordAsync("AAPL", "inline,down", recorder).ok());
  EXPECT_EQ(down_->calls(), 1);
}

TEST_F(PriceRecorderTest, WhenEveryProviderOfAnOrderFailsTheErrorNamesEach) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  inline_->Fail(WithRetryAdvice(absl::ResourceExhaustedError("daily quota used"),
                                RetryAdvice{absl::Seconds(30), 25}));
  absl::Status failed = RecordAsync("AAPL", "down,inline", recorder).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(failed.message().find("down: connection refused"), absl::string_view::npos) << failed;
  EXPECT_NE(failed.message().find("inline: daily quota used"), absl::string_view::npos) << failed;
  ASSERT_TRUE(RetryAdviceOf(failed).has_value());
  EXPECT_EQ(RetryAdviceOf(failed)->retry_after, absl::Seconds(30));
  // Every one out of calls: RESOURCE_EXHAUSTED with the soonest retry.
  down_->Fail(WithRetryAdvice(absl::ResourceExhaustedError("5 a minute used"),
                              RetryAdvice{absl::Seconds(7), 5}));
  failed = RecordAsync("AAPL", "down,inline", recorder).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryAdviceOf(failed)->retry_after, absl::Seconds(7));
  // None knows the symbol: NOT_FOUND.
  down_->Fail(absl::NotFoundError("unknown symbol"));
  inline_->Fail(absl::NotFoundError("unknown symbol"));
  EXPECT_EQ(RecordAsync("AAPL", "down,inline", recorder).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_.saved_count(), 0);
}

TEST_F(PriceRecorderTest, AStoreFailureDoesNotFallBack) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  store_.Fail(absl::UnavailableError("database down"));
  absl::Status failed = RecordAsync("AAPL", "inline,network", recorder).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(failed.message(), "database down");
  EXPECT_EQ(network_->calls(), 0);
  EXPECT_EQ(recorder.fallbacks(), 0);
}

TEST_F(PriceRecorderTest, UnknownOrEmptyNamesInAnOrderAreInvalid) {
  PriceRecorder recorder(registry_, store_, publisher_, &pool_);
  EXPECT_EQ(RecordAsync("AAPL", "inline,bloomberg", recorder).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecordAsync("AAPL", "inline,,network", recorder).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(inline_->calls(), 0);
}

}  // namespace
}  // namespace marketdata
