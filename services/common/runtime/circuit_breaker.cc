#include "services/common/runtime/circuit_breaker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc/errors.h"

namespace marketdata {
namespace {

CircuitBreaker::Options Checked(CircuitBreaker::Options options) {
  options.failures_to_open = std::max(1, options.failures_to_open);
  options.cool_down = std::max(absl::ZeroDuration(), options.cool_down);
  return options;
}

}  // namespace

absl::string_view StateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(Options options, Clock clock, OnChange on_change)
    : options_(Checked(std::move(options))),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      on_change_(std::move(on_change)) {}

void CircuitBreaker::MoveTo(State to, absl::Time now) {
  const State from = state_;
  state_ = to;
  if (to == State::kOpen) {
    opened_at_ = now;
    ++opened_count_;
  }
  if (to == State::kHalfOpen) probe_at_ = now;
  if (to == State::kClosed) consecutive_failures_ = 0;
  if (on_change_) changes_.emplace_back(from, to);
}

bool CircuitBreaker::TakeDelivery() {
  if (changes_.empty() || delivering_) return false;
  delivering_ = true;
  return true;
}

void CircuitBreaker::Deliver() {
  // One deliverer at a time keeps the changes in order; changes queued meanwhile by other threads
  // (or by on_change itself) are delivered here too.
  for (;;) {
    std::pair<State, State> change;
    {
      absl::MutexLock lock(&mu_);
      if (changes_.empty()) {
        delivering_ = false;
        return;
      }
      change = changes_.front();
      changes_.pop_front();
    }
    on_change_(change.first, change.second);
  }
}

absl::Duration CircuitBreaker::NextProbeIn(absl::Time now) const {
  switch (state_) {
    case State::kClosed:
      return absl::ZeroDuration();
    case State::kOpen:
      return std::max(absl::ZeroDuration(), opened_at_ + options_.cool_down - now);
    case State::kHalfOpen:
      return std::max(absl::ZeroDuration(), probe_at_ + options_.cool_down - now);
  }
  return absl::ZeroDuration();
}

absl::Status CircuitBreaker::Allow() {
  absl::Status status = absl::OkStatus();
  bool deliver = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_();
    const absl::Duration wait = NextProbeIn(now);
    switch (state_) {
      case State::kClosed:
        break;
      case State::kOpen:
        if (wait > absl::ZeroDuration()) {
          status = WithRetryAdvice(
              absl::UnavailableError(absl::StrCat(
                  options_.name, " is failing: circuit open after ", consecutive_failures_,
                  " consecutive failures; next probe in ", WaitText(wait))),
              RetryAdvice{wait, 0});
        } else {
          MoveTo(State::kHalfOpen, now);  // this caller is the probe
        }
        break;
      case State::kHalfOpen:
        if (wait > absl::ZeroDuration()) {
          status = WithRetryAdvice(
              absl::UnavailableError(absl::StrCat(
                  options_.name, " is failing: circuit half-open, a probe is out after ",
                  consecutive_failures_, " consecutive failures; next probe in ", WaitText(wait),
                  " at the latest")),
              RetryAdvice{wait, 0});
        } else {
          probe_at_ = now;  // the last probe is lost: this caller replaces it
        }
        break;
    }
    deliver = TakeDelivery();
  }
  if (deliver) Deliver();
  return status;
}

void CircuitBreaker::Release() {
  absl::MutexLock lock(&mu_);
  if (state_ == State::kHalfOpen) probe_at_ = clock_() - options_.cool_down;
}

void CircuitBreaker::Record(bool failed) {
  bool deliver = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_();
    switch (state_) {
      case State::kClosed:
        if (!failed) {
          consecutive_failures_ = 0;
        } else if (++consecutive_failures_ >= options_.failures_to_open) {
          MoveTo(State::kOpen, now);
        }
        break;
      case State::kOpen:
        break;  // a call let through before it opened: the cool-down stands
      case State::kHalfOpen:
        if (failed) {
          ++consecutive_failures_;
          MoveTo(State::kOpen, now);
        } else {
          MoveTo(State::kClosed, now);
        }
        break;
    }
    deliver = TakeDelivery();
  }
  if (deliver) Deliver();
}

CircuitBreaker::State CircuitBreaker::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

int64_t CircuitBreaker::opened_count() const {
  absl::MutexLock lock(&mu_);
  return opened_count_;
}

absl::Duration CircuitBreaker::next_probe_in() const {
  absl::MutexLock lock(&mu_);
  return NextProbeIn(clock_());
}

}  // namespace marketdata
