// FakeProvider: a PriceProvider for tests that answers as told and remembers how it was called.
//
// By default every fetch answers a quote of the symbol at 100, priced now, after no time at all.
// A test can change that (each setting holds until changed):
//   Fail(status)          every fetch answers `status`
//   Script({...})         fetches answer these in order, the last one repeated once reached
//   set_price, set_quote_age   the default quote's price, and its time relative to now
//   set_call_takes(d)     each fetch takes `d`: slept, or added to a FakeClock when given one
//   set_configured, set_may_block, set_stats   what the provider says of itself
// and read back calls(), when each fetch started, the deadlines FetchQuoteBy was given, and the
// thread and request id of the last fetch. Thread-safe.
#ifndef MARKETDATA_SERVICES_PROVIDERS_FAKE_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_FAKE_PROVIDER_H_

#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/logging/request_context.h"
#include "services/common/testing/fake_clock.h"
#include "services/providers/provider.h"

namespace marketdata {

class FakeProvider final : public PriceProvider {
 public:
  explicit FakeProvider(std::string name = "fake") : name_(std::move(name)) {}

  // --- PriceProvider
  std::string name() const override { return name_; }
  bool configured() const override {
    absl::MutexLock lock(&mu_);
    return configured_;
  }
  bool may_block() const override {
    absl::MutexLock lock(&mu_);
    return may_block_;
  }
  std::optional<ProviderStats> stats() const override {
    absl::MutexLock lock(&mu_);
    return stats_;
  }
  absl::Duration min_refresh() const override {
    absl::MutexLock lock(&mu_);
    return min_refresh_;
  }
  absl::StatusOr<Quote> FetchQuoteBy(absl::string_view symbol, absl::Time deadline) override {
    {
      absl::MutexLock lock(&mu_);
      deadlines_.push_back(deadline);
    }
    return FetchQuote(symbol);
  }
  absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) override {
    absl::Duration takes;
    FakeClock* clock;
    {
      absl::MutexLock lock(&mu_);
      fetch_started_.push_back(clock_ != nullptr ? clock_->Now() : absl::Now());
      fetched_on_ = std::this_thread::get_id();
      fetched_for_ = CurrentRequestContext().request_id;
      takes = call_takes_;
      clock = clock_;
    }
    if (takes > absl::ZeroDuration()) {
      if (clock != nullptr) {
        clock->Advance(takes);
      } else {
        absl::SleepFor(takes);
      }
    }
    absl::MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    if (!script_.empty()) {
      absl::StatusOr<Quote> next = script_.front();
      if (script_.size() > 1) script_.pop_front();
      return next;
    }
    Quote quote;
    quote.symbol = std::string(symbol);
    quote.price = price_;
    quote.timestamp = absl::Now() + quote_age_;
    quote.provider = name_;
    quote.raw_response = "{}";
    return quote;
  }

  // --- How it answers
  // Every fetch answers `status` while it is not OK (before any script).
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
  }
  // Fetches answer `answers` in order; once at the last, they keep answering it.
  void Script(std::vector<absl::StatusOr<Quote>> answers) {
    absl::MutexLock lock(&mu_);
    script_.assign(answers.begin(), answers.end());
  }
  void set_price(double price) {
    absl::MutexLock lock(&mu_);
    price_ = price;
  }
  // The default quote is priced at now + `offset` (negative: an old quote).
  void set_quote_age(absl::Duration offset) {
    absl::MutexLock lock(&mu_);
    quote_age_ = offset;
  }
  // Each fetch takes `d`: on `clock`, which the fetch advances, or else really slept.
  void set_call_takes(absl::Duration d, FakeClock* clock = nullptr) {
    absl::MutexLock lock(&mu_);
    call_takes_ = d;
    clock_ = clock;
  }
  void set_configured(bool configured) {
    absl::MutexLock lock(&mu_);
    configured_ = configured;
  }
  void set_min_refresh(absl::Duration floor) {
    absl::MutexLock lock(&mu_);
    min_refresh_ = floor;
  }
  void set_may_block(bool may_block) {
    absl::MutexLock lock(&mu_);
    may_block_ = may_block;
  }
  void set_stats(std::optional<ProviderStats> stats) {
    absl::MutexLock lock(&mu_);
    stats_ = std::move(stats);
  }

  // --- How it was called
  int calls() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(fetch_started_.size());
  }
  // When the last fetch started (on the FakeClock when given one); InfinitePast before any.
  absl::Time last_fetch_started() const {
    absl::MutexLock lock(&mu_);
    return fetch_started_.empty() ? absl::InfinitePast() : fetch_started_.back();
  }
  // The deadline of every FetchQuoteBy, in order.
  std::vector<absl::Time> deadlines() const {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }
  // The last deadline given; InfinitePast before any.
  absl::Time last_deadline() const {
    absl::MutexLock lock(&mu_);
    return deadlines_.empty() ? absl::InfinitePast() : deadlines_.back();
  }
  // The thread of the last fetch; std::thread::id() before any.
  std::thread::id fetched_on() const {
    absl::MutexLock lock(&mu_);
    return fetched_on_;
  }
  // The request id of the thread of the last fetch ("" outside a request, or before any).
  std::string fetched_for() const {
    absl::MutexLock lock(&mu_);
    return fetched_for_;
  }

 private:
  const std::string name_;
  mutable absl::Mutex mu_;
  bool configured_ ABSL_GUARDED_BY(mu_) = true;
  bool may_block_ ABSL_GUARDED_BY(mu_) = true;
  std::optional<ProviderStats> stats_ ABSL_GUARDED_BY(mu_);
  absl::Duration min_refresh_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::StatusOr<Quote>> script_ ABSL_GUARDED_BY(mu_);
  double price_ ABSL_GUARDED_BY(mu_) = 100;
  absl::Duration quote_age_ ABSL_GUARDED_BY(mu_);
  absl::Duration call_takes_ ABSL_GUARDED_BY(mu_);
  FakeClock* clock_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::vector<absl::Time> fetch_started_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  std::thread::id fetched_on_ ABSL_GUARDED_BY(mu_);
  std::string fetched_for_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_FAKE_PROVIDER_H_
