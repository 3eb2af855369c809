#include "services/providers/guarded_provider.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc/errors.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

// The start of the UTC day the quota counts now, as the ledger names it.
absl::Time CountedDay(const CallQuota::QuotaState& state) {
  return state.day_resets_at - absl::Hours(24);
}

GuardOptions WithDefaults(GuardOptions options) {
  if (!options.clock) options.clock = [] { return absl::Now(); };
  if (!options.sleep) options.sleep = [](absl::Duration d) { absl::SleepFor(d); };
  options.max_retries = std::max(0, options.max_retries);
  return options;
}

}  // namespace

GuardedProvider::GuardedProvider(std::unique_ptr<PriceProvider> inner, GuardOptions options)
    : inner_(std::move(inner)),
      options_(WithDefaults(std::move(options))),
      deadline_(options_.deadline.value_or(options_.provider_timeout *
                                           (options_.max_retries + 1))),
      quota_({options_.per_minute, options_.per_day, inner_->name()}, options_.clock),
      random_(options_.jitter_seed.has_value() ? *options_.jitter_seed : std::random_device{}()) {
  if (options_.breaker_failures > 0) {
    const std::string name = inner_->name();
    breaker_ = std::make_unique<CircuitBreaker>(
        CircuitBreaker::Options{options_.breaker_failures, options_.breaker_cool_down, name},
        options_.clock, [name](CircuitBreaker::State from, CircuitBreaker::State to) {
          if (to == CircuitBreaker::State::kOpen) {
            spdlog::warn("provider {}: circuit {} -> open: calls fail fast until a probe succeeds",
                         name, std::string(StateName(from)));
          } else {
            spdlog::info("provider {}: circuit {} -> {}", name, std::string(StateName(from)),
                         std::string(StateName(to)));
          }
        });
  }
}

absl::StatusOr<Quote> GuardedProvider::FetchQuote(absl::string_view symbol) {
  return FetchQuoteBy(symbol, absl::InfiniteFuture());
}

absl::StatusOr<Quote> GuardedProvider::FetchQuoteBy(absl::string_view symbol,
                                                    absl::Time deadline) {
  absl::StatusOr<Quote> result = Fetch(symbol, deadline);
  Record(result.status());
  return result;
}

absl::StatusOr<Quote> GuardedProvider::Fetch(absl::string_view symbol, absl::Time by) {
  // An unconfigured provider answers at once without the network: no token, and no retry.
  if (!inner_->configured()) return inner_->FetchQuote(symbol);

  const absl::Time deadline = std::min(by, options_.clock() + deadline_);
  // Out of calls: refused before the breaker is asked, so that no probe is spent on it. (The
  // window may free a call in between: then this call is taken here.)
  bool taken = false;
  if (quota_.state().next_call_in > absl::ZeroDuration()) {
    if (absl::Status s = TakeCall(); !s.ok()) return s;
    taken = true;
  }
  if (breaker_ != nullptr) {
    if (absl::Status open = breaker_->Allow(); !open.ok()) return open;
  }
  if (!taken) {
    if (absl::Status s = TakeCall(); !s.ok()) {
      // Another thread took the last call: the breaker let through a call that is not made.
      if (breaker_ != nullptr) breaker_->Release();
      return s;
    }
  }
  absl::StatusOr<Quote> result = inner_->FetchQuoteBy(symbol, deadline);
  absl::Duration backoff = options_.initial_backoff;
  for (int retry = 0; retry < options_.max_retries; ++retry, backoff *= 2) {
    if (result.ok() || result.status().code() != absl::StatusCode::kUnavailable) break;
    const absl::Duration wait = Jitter(backoff);
    if (options_.clock() + wait >= deadline) break;
    options_.sleep(wait);
    // A retry is another outbound call; when a limit says no, the last failure stands.
    if (!TakeCall().ok()) break;
    result = inner_->FetchQuoteBy(symbol, deadline);
  }
  if (breaker_ != nullptr) {
    // Only a provider that does not answer counts: an unknown symbol or its rate limit is an
    // answer.
    const absl::StatusCode code = result.status().code();
    breaker_->Record(code == absl::StatusCode::kUnavailable ||
                     code == absl::StatusCode::kDeadlineExceeded);
  }
  return result;
}

absl::Status GuardedProvider::TakeCall() {
  DailyCallLedger* ledger = options_.ledger;
  if (ledger == nullptr || options_.per_day <= 0) return quota_.Acquire();
  // The minute first: a call it refuses must not spend one of the day's.
  const CallQuota::QuotaState state = quota_.state();
  if (state.minute_left == 0) return quota_.Acquire();
  absl::StatusOr<DailyCallLedger::Take> take =
      ledger->TakeCall(inner_->name(), CountedDay(state), options_.per_day);
  if (!take.ok()) {
    // The shared count is out of reach: this process counts alone until it is back.
    spdlog::warn("provider {}: daily calls not counted in storage ({}); counting them here",
                 inner_->name(), take.status().ToString());
    return quota_.Acquire();
  }
  // The local count follows the shared one (other replicas' calls, the ones before a restart).
  quota_.Seed(take->granted ? take->used - 1 : options_.per_day);
  return quota_.Acquire();
}

absl::Status GuardedProvider::LoadDailyCalls() {
  if (options_.ledger == nullptr || options_.per_day <= 0) return absl::OkStatus();
  absl::StatusOr<int64_t> used =
      options_.ledger->Used(inner_->name(), CountedDay(quota_.state()));
  if (!used.ok()) return used.status();
  quota_.Seed(*used);
  return absl::OkStatus();
}

absl::Duration GuardedProvider::Jitter(absl::Duration cap) {
  absl::MutexLock lock(&mu_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return cap * unit(random_);
}

void GuardedProvider::Record(const absl::Status& status) {
  calls_[static_cast<size_t>(OutcomeOf(status))].fetch_add(1, std::memory_order_relaxed);
  const bool failed = !status.ok() && status.code() != absl::StatusCode::kNotFound;
  absl::MutexLock lock(&mu_);
  failed_[next_] = failed;
  next_ = (next_ + 1) % kStatsWindow;
  recorded_ = std::min(recorded_ + 1, kStatsWindow);
}

std::optional<ProviderStats> GuardedProvider::stats() const {
  ProviderStats stats;
  const CallQuota::QuotaState quota = quota_.state();
  if (quota.minute_left != CallQuota::kUnlimited) {
    stats.rate_limit_per_minute = quota.per_minute;
    stats.tokens_available = static_cast<double>(quota.minute_left);
  }
  stats.rate_limit_per_day = quota.per_day;
  stats.calls_left_today = quota.day_left;
  stats.quota_resets_at = quota.day_resets_at;
  stats.next_call_in = quota.next_call_in;
  stats.min_refresh = options_.min_refresh;
  if (breaker_ != nullptr) {
    stats.circuit = breaker_->state();
    stats.next_probe_in = breaker_->next_probe_in();
    stats.circuit_opened = breaker_->opened_count();
  }
  for (int i = 0; i < kProviderOutcomes; ++i) {
    stats.calls[i] = calls_[i].load(std::memory_order_relaxed);
  }
  absl::MutexLock lock(&mu_);
  stats.recent_requests = recorded_;
  const int failures = static_cast<int>(std::count(failed_.begin(), failed_.begin() + recorded_,
                                                   true));
  stats.recent_error_rate = recorded_ == 0 ? 0.0 : static_cast<double>(failures) / recorded_;
  return stats;
}

}  // namespace marketdata
