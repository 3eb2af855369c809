// CircuitBreaker: stops calling a provider that keeps failing, and tries it again now and then.
// Thread-safe.
//
// Closed: every call goes through; `failures_to_open` consecutive failures open the circuit.
// Open: calls fail fast (UNAVAILABLE) for `cool_down`. Then the first Allow() moves it to half-open
// and goes through as the one probe; everyone else keeps failing fast until the probe reports:
// success closes the circuit, failure opens it for another cool-down. A probe that never reports
// does not wedge it: once the probe has been out for `cool_down`, the next Allow() is a new probe.
//
// Record() carries no ticket, so in half-open the first report is taken as the probe's, even one
// from a call let through before the circuit opened. Reports that arrive while open are ignored.
//
// State changes go to `on_change` outside the lock, one at a time and in the order they happened
// (possibly from another caller's thread); it may call back into the breaker.
#ifndef MARKETDATA_SERVICES_COMMON_RUNTIME_CIRCUIT_BREAKER_H_
#define MARKETDATA_SERVICES_COMMON_RUNTIME_CIRCUIT_BREAKER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace marketdata {

class CircuitBreaker {
 public:
  using Clock = std::function<absl::Time()>;

  enum class State { kClosed, kOpen, kHalfOpen };
  using OnChange = std::function<void(State from, State to)>;

  struct Options {
    // Consecutive failures that open the circuit (at least 1).
    int failures_to_open = 5;
    // How long it stays open before one probe is let through; also how long a probe may stay out
    // before another replaces it.
    absl::Duration cool_down = absl::Seconds(5);
    // Used in messages, e.g. "finnhub".
    std::string name;
  };

  // `clock` defaults to absl::Now; `on_change` may be null.
  explicit CircuitBreaker(Options options, Clock clock = nullptr, OnChange on_change = nullptr);

  // Before a call: OK to make it, or UNAVAILABLE with RetryAdvice (limit 0) saying when the next
  // probe may go.
  absl::Status Allow();
  // After a call that Allow() let through: whether it failed.
  void Record(bool failed);
  // After a call that Allow() let through but that was not made (a quota refused it): a probe
  // that was not sent is not waited for, so the next caller may probe at once.
  void Release();

  State state() const;
  // Times the circuit opened (including reopenings after a failed probe).
  int64_t opened_count() const;
  // Zero when closed; when open, the time until the probe may go; when half-open, the time until
  // the probe out now counts as lost and another may go.
  absl::Duration next_probe_in() const;

  const std::string& name() const { return options_.name; }

 private:
  // Changes state and queues the change for on_change.
  void MoveTo(State to, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the caller must deliver the queued changes (no one else is delivering them).
  bool TakeDelivery() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls on_change for every queued change, outside the lock.
  void Deliver() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration NextProbeIn(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const Clock clock_;
  const OnChange on_change_;

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kClosed;
  int64_t consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t opened_count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);  // when it last opened
  absl::Time probe_at_ ABSL_GUARDED_BY(mu_);   // when the probe out now was let through
  std::deque<std::pair<State, State>> changes_ ABSL_GUARDED_BY(mu_);  // not yet delivered
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
};

// "closed", "open", "half_open".
absl::string_view StateName(CircuitBreaker::State state);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_RUNTIME_CIRCUIT_BREAKER_H_
