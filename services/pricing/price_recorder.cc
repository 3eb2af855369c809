#include "services/pricing/price_recorder.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "services/common/grpc/errors.h"
#include "services/domain/symbol.h"
#include "spdlog/spdlog.h"

namespace marketdata {

void PriceRecorder::Count(bool ok) {
  (ok ? recorded_ : failed_).fetch_add(1, std::memory_order_relaxed);
}

namespace {

// Marks a provider's own failure, as opposed to the store's: only the former moves a request on
// to the next provider of its order.
constexpr absl::string_view kProviderFailed = "type.marketdata/provider-failed";

bool FallsBack(const absl::Status& status) {
  if (!status.GetPayload(kProviderFailed).has_value()) return false;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

// What a request whose every provider failed gets: NOT_FOUND when none knows the symbol,
// RESOURCE_EXHAUSTED (with the soonest retry) when every one is out of calls, else UNAVAILABLE
// with the soonest retry any of them advised.
absl::Status Combine(const std::vector<std::pair<std::string, absl::Status>>& failures) {
  if (failures.size() == 1) return failures.front().second;
  bool all_not_found = true;
  bool all_exhausted = true;
  std::optional<RetryAdvice> soonest;
  std::vector<std::string> parts;
  for (const auto& [provider, status] : failures) {
    all_not_found &= status.code() == absl::StatusCode::kNotFound;
    all_exhausted &= status.code() == absl::StatusCode::kResourceExhausted;
    if (std::optional<RetryAdvice> advice = RetryAdviceOf(status);
        advice.has_value() && (!soonest.has_value() || advice->retry_after < soonest->retry_after)) {
      soonest = advice;
    }
    parts.push_back(absl::StrCat(provider, ": ", status.message()));
  }
  const std::string message = absl::StrCat("no provider answered (", absl::StrJoin(parts, "; "),
                                           ")");
  absl::Status combined = all_not_found   ? absl::NotFoundError(message)
                          : all_exhausted ? absl::ResourceExhaustedError(message)
                                          : absl::UnavailableError(message);
  if (soonest.has_value() && !all_not_found) {
    soonest->limit = all_exhausted ? soonest->limit : 0;
    combined = WithRetryAdvice(std::move(combined), *soonest);
  }
  return combined;
}

}  // namespace

struct PriceRecorder::Attempt {
  std::string symbol;
  std::vector<PriceProvider*> chain;
  size_t next = 0;  // the provider asked now
  FetchLanes* blocking_fetches;
  RecordDone done;
  std::function<bool()> cancelled;
  std::optional<int64_t> key;
  absl::Duration max_age;
  absl::Time arrived;
  RequestContext origin;
  std::optional<PollTick> tick;
  // Whether it already made a call of its own after sharing one whose tick was refused.
  bool retried_refused_tick = false;
  std::vector<std::pair<std::string, absl::Status>> failures;
};

absl::StatusOr<StoredPrice> PriceRecorder::Record(absl::string_view raw_symbol,
                                                  absl::string_view provider_name,
                                                  std::optional<int64_t> key,
                                                  absl::Duration max_age,
                                                  std::optional<PollTick> tick) {
  // The caller's own thread may block: it fetches itself and waits for the commit.
  absl::StatusOr<StoredPrice> result = absl::InternalError("not recorded");
  absl::Notification recorded;
  Start(raw_symbol, provider_name, /*blocking_fetches=*/nullptr,
        [&](absl::StatusOr<StoredPrice> stored) {
          result = std::move(stored);
          recorded.Notify();
        },
        /*cancelled=*/{}, key, max_age, std::move(tick));
  recorded.WaitForNotification();
  return result;
}

void PriceRecorder::RecordAsync(absl::string_view raw_symbol, absl::string_view provider_name,
                                RecordDone done, std::function<bool()> cancelled,
                                std::optional<int64_t> key, absl::Duration max_age) {
  Start(raw_symbol, provider_name, blocking_fetches_, std::move(done), std::move(cancelled), key,
        max_age);
}

void PriceRecorder::Start(absl::string_view raw_symbol, absl::string_view provider_name,
                          FetchLanes* blocking_fetches, RecordDone done,
                          std::function<bool()> cancelled, std::optional<int64_t> key,
                          absl::Duration max_age, std::optional<PollTick> tick) {
  auto attempt = std::make_shared<Attempt>();
  absl::Status invalid;
  if (absl::StatusOr<std::string> symbol = NormalizeSymbol(raw_symbol); symbol.ok()) {
    attempt->symbol = *std::move(symbol);
  } else {
    invalid = symbol.status();
  }
  if (invalid.ok()) {
    if (absl::StatusOr<std::vector<PriceProvider*>> chain = providers_.FindChain(provider_name);
        chain.ok()) {
      attempt->chain = *std::move(chain);
    } else {
      invalid = chain.status();
    }
  }
  if (invalid.ok() && (max_age < absl::ZeroDuration() || max_age > kMaxAge)) {
    invalid = absl::InvalidArgumentError(absl::StrCat(
        "max_age must be between 0 and ", absl::ToInt64Seconds(kMaxAge), " seconds"));
  }
  if (!invalid.ok()) {
    Count(false);
    done(invalid);
    return;
  }
  attempt->blocking_fetches = blocking_fetches;
  attempt->done = std::move(done);
  attempt->cancelled = std::move(cancelled);
  attempt->key = key;
  attempt->max_age = max_age;
  attempt->tick = std::move(tick);
  attempt->arrived = absl::Now();
  // The request's ids go along to the lane thread and the storage thread, on the price itself
  // (the ids of the request that started a shared call).
  attempt->origin = CurrentRequestContext();
  Try(std::move(attempt));
}

void PriceRecorder::Try(std::shared_ptr<Attempt> attempt) {
  PriceProvider* provider = attempt->chain[attempt->next];
  const std::string key = absl::StrCat(provider->name(), "/", attempt->symbol);
  // The oldest fetch this request accepts: its own arrival, or earlier by what it or the
  // provider's refresh floor allows.
  const absl::Duration accepted = std::max(attempt->max_age, provider->min_refresh());
  const absl::Time not_before = attempt->arrived - accepted;
  if (accepted > absl::ZeroDuration()) {
    const absl::Time now = absl::Now();
    if (std::optional<RecentQuote> recent = recent_.Get(key, now - not_before, now);
        recent.has_value()) {
      reused_.fetch_add(1, std::memory_order_relaxed);
      Answered(std::move(attempt), std::move(recent->price));
      return;
    }
  }
  if (attempt->key.has_value() && shares_ != nullptr) {
    if (absl::Status s = shares_->Take(*attempt->key, *provider); !s.ok()) {
      Count(false);
      Answered(std::move(attempt), s);
      return;
    }
  }
  std::function<bool()> cancelled = attempt->cancelled;
  shared_calls_.Join(
      key,
      [this, attempt](absl::StatusOr<StoredPrice> result) mutable {
        Answered(std::move(attempt), std::move(result));
      },
      std::move(cancelled),
      [this, provider, key, symbol = attempt->symbol,
       blocking_fetches = attempt->blocking_fetches, origin = attempt->origin,
       tick = attempt->tick](std::function<bool()> abandoned, SharedCalls::Done finish) {
        Call(provider, key, symbol, blocking_fetches, std::move(abandoned), origin, tick,
             std::move(finish));
      },
      not_before);
}

void PriceRecorder::Answered(std::shared_ptr<Attempt> attempt,
                             absl::StatusOr<StoredPrice> result) {
  if (std::optional<std::string> refused =
          result.ok() ? std::nullopt : RefusedTick(result.status());
      refused.has_value() && !attempt->retried_refused_tick &&
      (!attempt->tick.has_value() || TickKey(*attempt->tick) != *refused)) {
    // The call it shared was made for another request's polling tick, whose record was refused,
    // so its price was not stored: this request gets a call of its own.
    attempt->retried_refused_tick = true;
    Try(std::move(attempt));
    return;
  }
  if (!result.ok() && FallsBack(result.status())) {
    attempt->failures.emplace_back(attempt->chain[attempt->next]->name(), result.status());
    if (++attempt->next < attempt->chain.size() &&
        !(attempt->cancelled && attempt->cancelled())) {
      fallbacks_.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("{} {}: falling back to {} ({})", attempt->failures.back().first,
                   attempt->symbol, attempt->chain[attempt->next]->name(),
                   std::string(attempt->failures.back().second.message()));
      Try(std::move(attempt));
      return;
    }
    result = Combine(attempt->failures);
  }
  if (!result.ok()) {
    // The mark is for this class alone.
    absl::Status failed = result.status();
    failed.ErasePayload(kProviderFailed);
    result = std::move(failed);
  }
  attempt->done(std::move(result));
}

void PriceRecorder::Call(PriceProvider* provider, const std::string& key,
                         const std::string& symbol, FetchLanes* blocking_fetches,
                         std::function<bool()> cancelled, const RequestContext& origin,
                         std::optional<PollTick> tick, RecordDone done) {
  if (blocking_fetches != nullptr && provider->may_block()) {
    auto shared_done = std::make_shared<RecordDone>(std::move(done));
    const std::string lane = provider->name();
    FetchLanes::Fetch work = [this, provider, key, symbol, shared_done,
                              cancelled = std::move(cancelled), origin,
                              tick = std::move(tick)](absl::Time deadline) mutable {
      ScopedRequestContext scope(origin);
      if (cancelled && cancelled()) {
        Count(false);
        (*shared_done)(absl::CancelledError("the client gave up before the provider was called"));
        return;
      }
      if (absl::Now() >= deadline) {
        Count(false);
        (*shared_done)(absl::UnavailableError(absl::StrCat(
            provider->name(),
            " is busy: no fetch thread became free within the deadline; retry later")));
        return;
      }
      const absl::Time fetched_at = absl::Now();
      absl::StatusOr<Quote> quote = provider->FetchQuoteBy(symbol, deadline);
      Store(key, std::move(quote), fetched_at, std::move(origin), std::move(tick),
            std::move(*shared_done));
    };
    if (!blocking_fetches->TrySchedule(lane, std::move(work))) {
      Count(false);
      (*shared_done)(absl::UnavailableError(absl::StrCat(
          "too many requests are waiting for provider ", lane, "; retry later")));
    }
    return;
  }
  const absl::Time fetched_at = absl::Now();
  absl::StatusOr<Quote> quote = provider->FetchQuote(symbol);
  Store(key, std::move(quote), fetched_at, origin, std::move(tick), std::move(done));
}

void PriceRecorder::Store(const std::string& key, absl::StatusOr<Quote> quote,
                          absl::Time fetched_at, RequestContext origin,
                          std::optional<PollTick> tick, RecordDone done) {
  if (!quote.ok()) {
    Count(false);
    absl::Status failed = quote.status();
    failed.SetPayload(kProviderFailed, absl::Cord("1"));
    done(std::move(failed));
    return;
  }
  quote->origin = std::move(origin);
  quote->fetched_at = fetched_at;
  quote->tick = std::move(tick);
  if (const AcceptanceWindow::Verdict verdict = window_.Judge(quote->timestamp, absl::Now());
      verdict != AcceptanceWindow::Verdict::kStore) {
    // The caller gets the quote; no stored price is made of it (ids 0), and no event.
    (verdict == AcceptanceWindow::Verdict::kTooOld ? too_old_ : too_new_)
        .fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("{} {} at {}: answered, not stored ({})", quote->provider, quote->symbol,
                  absl::FormatTime(quote->timestamp, absl::UTCTimeZone()),
                  std::string(VerdictName(verdict)));
    StoredPrice answered;
    answered.quote = *std::move(quote);
    recent_.Put(key, answered);
    done(std::move(answered));
    return;
  }
  store_.SavePriceAsync(*std::move(quote),
                        [this, key, done = std::move(done)](absl::StatusOr<StoredPrice> stored) {
                          // Runs on a storage thread: its lines name the request too.
                          std::optional<ScopedRequestContext> scope;
                          if (stored.ok()) {
                            scope.emplace(stored->quote.origin);
                            recent_.Put(key, *stored);
                            publisher_.Publish(*stored);
                          }
                          Count(stored.ok());
                          done(std::move(stored));
                        });
}

}  // namespace marketdata
