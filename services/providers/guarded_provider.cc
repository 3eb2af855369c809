#include "services/providers/guarded_provider.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc/errors.h"

namespace marketdata {
namespace {

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
      bucket_(options_.per_minute, options_.burst, options_.clock),
      random_(options_.jitter_seed.has_value() ? *options_.jitter_seed : std::random_device{}()) {}

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
  if (!bucket_.TryAcquire()) {
    // When the next call may go: the missing part of a token at the bucket's rate.
    const double missing = std::max(0.0, 1.0 - bucket_.available());
    return WithRetryAdvice(
        absl::ResourceExhaustedError(absl::StrCat("outbound rate limit for ", inner_->name(),
                                                  " reached (", bucket_.per_minute(), "/min)")),
        RetryAdvice{absl::Seconds(missing * 60.0 / bucket_.per_minute()),
                    static_cast<int64_t>(bucket_.per_minute())});
  }
  absl::StatusOr<Quote> result = inner_->FetchQuoteBy(symbol, deadline);
  absl::Duration backoff = options_.initial_backoff;
  for (int retry = 0; retry < options_.max_retries; ++retry, backoff *= 2) {
    if (result.ok() || result.status().code() != absl::StatusCode::kUnavailable) break;
    const absl::Duration wait = Jitter(backoff);
    if (options_.clock() + wait >= deadline) break;
    options_.sleep(wait);
    // A retry is another outbound call; when the limit says no, the last failure stands.
    if (!bucket_.TryAcquire()) break;
    result = inner_->FetchQuoteBy(symbol, deadline);
  }
  return result;
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
  if (!bucket_.unlimited()) {
    stats.rate_limit_per_minute = bucket_.per_minute();
    stats.tokens_available = bucket_.available();
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
