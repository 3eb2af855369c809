#include "services/events/outbox_relay.h"

#include <algorithm>
#include <utility>

#include "spdlog/spdlog.h"

namespace marketdata {

OutboxRelay::OutboxRelay(PriceOutbox& outbox, PriceEventPublisher& publisher,
                         OutboxRelayOptions options, std::function<absl::Time()> clock)
    : outbox_(outbox), publisher_(publisher), options_(options), clock_(std::move(clock)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(NextWait())) RunOnce();
  });
}

void OutboxRelay::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
  absl::MutexLock lock(&mu_);
  RecordAcknowledgements(publisher_.TakeAcknowledged());
}

void OutboxRelay::RecordAcknowledgements(const std::vector<int64_t>& acknowledged) {
  // Held at most this many; beyond, the oldest are given up and will be published again.
  constexpr size_t kMaxUnrecorded = 1000000;
  unrecorded_.insert(unrecorded_.end(), acknowledged.begin(), acknowledged.end());
  if (unrecorded_.empty()) return;
  if (absl::Status s = outbox_.Acknowledge(unrecorded_); !s.ok()) {
    if (unrecorded_.size() > kMaxUnrecorded) {
      const size_t dropped = unrecorded_.size() - kMaxUnrecorded;
      unrecorded_.erase(unrecorded_.begin(), unrecorded_.begin() + static_cast<ptrdiff_t>(dropped));
      spdlog::warn("outbox: {} acknowledgements given up, those events will be published again",
                   dropped);
    }
    if (!recording_fails_) {
      recording_fails_ = true;
      spdlog::warn("outbox: recording acknowledgements failed, kept to record later: {}",
                   s.ToString());
    }
    return;
  }
  if (recording_fails_) {
    recording_fails_ = false;
    spdlog::info("outbox: recorded {} acknowledgements kept while the database was away",
                 unrecorded_.size());
  }
  unrecorded_.clear();
}

absl::Duration OutboxRelay::NextWait() const {
  absl::MutexLock lock(&mu_);
  if (!unreachable_) return backlog_ ? options_.catch_up_interval : options_.interval;
  // Attempts shorter apart than a pass stay on time; acknowledgements are still taken each pass.
  return std::clamp(next_attempt_at_ - clock_(), absl::Milliseconds(1), options_.interval);
}

int OutboxRelay::RunOnce() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  std::vector<int64_t> acknowledged = publisher_.TakeAcknowledged();
  RecordAcknowledgements(acknowledged);
  if (!acknowledged.empty()) {
    // Any acknowledgement, of a republished event or of a fresh one, shows the broker is there.
    for (int64_t id : acknowledged) awaiting_.erase(id);
    heard_since_attempt_ = true;
    if (unreachable_) {
      unreachable_ = false;
      spdlog::info("outbox: broker back, relayed {}", acknowledged.size());
    }
  }

  if (unreachable_) {
    if (now < next_attempt_at_) return 0;
  } else if (!awaiting_.empty() && !heard_since_attempt_) {
    // Claiming more before the broker answers would only pile events up in front of a broker
    // that may be gone.
    if (now - attempted_at_ < options_.ack_timeout) return 0;
    unreachable_ = true;
    backlog_ = false;
    backoff_ = options_.initial_backoff;
    next_attempt_at_ = now + backoff_;
    spdlog::warn("outbox: broker unreachable, {} entries waiting; retrying with backoff",
                 awaiting_.size());
    awaiting_.clear();
    return 0;
  }

  // While the broker is unreachable one entry is enough to learn when it is back; every event
  // published into it only fails later. That probe is hidden only until the next attempt: with
  // the full lease, the entries probed in the outage's last half minute stayed hidden for up to
  // 30 s after the broker's return (a probe still queued in the producer then arrives twice,
  // which consumers take as any redelivery).
  const absl::Duration next_backoff = std::min(backoff_ * 2, options_.max_backoff);
  absl::StatusOr<std::vector<StoredPrice>> due = outbox_.ClaimDue(
      unreachable_ ? 1 : options_.batch_size, unreachable_ ? next_backoff : options_.lease);
  if (!due.ok()) {
    spdlog::warn("outbox: claim failed: {}", due.status().ToString());
    return 0;
  }
  backlog_ = !unreachable_ && static_cast<int>(due->size()) == options_.batch_size;
  if (due->empty()) return 0;  // nothing learned about the broker: the next pass tries again
  awaiting_.clear();
  for (const StoredPrice& price : *due) {
    publisher_.Publish(price);
    awaiting_.insert(price.price_point_id);
  }
  attempted_at_ = now;
  heard_since_attempt_ = false;
  if (unreachable_) {
    backoff_ = next_backoff;
    next_attempt_at_ = now + backoff_;
  } else {
    spdlog::info("outbox: republished {} unacknowledged events", due->size());
  }
  return static_cast<int>(due->size());
}

bool OutboxRelay::broker_unreachable() const {
  absl::MutexLock lock(&mu_);
  return unreachable_;
}

absl::Duration OutboxRelay::backoff() const {
  absl::MutexLock lock(&mu_);
  return unreachable_ ? backoff_ : absl::ZeroDuration();
}

}  // namespace marketdata
