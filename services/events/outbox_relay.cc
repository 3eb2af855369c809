#include "services/events/outbox_relay.h"

#include "spdlog/spdlog.h"

namespace marketdata {

OutboxRelay::OutboxRelay(PriceOutbox& outbox, PriceEventPublisher& publisher,
                         OutboxRelayOptions options)
    : outbox_(outbox), publisher_(publisher), options_(options) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.interval)) RunOnce();
  });
}

void OutboxRelay::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
  if (absl::Status s = outbox_.Acknowledge(publisher_.TakeAcknowledged()); !s.ok()) {
    spdlog::warn("outbox: final acknowledgement failed: {}", s.ToString());
  }
}

int OutboxRelay::RunOnce() {
  std::vector<int64_t> acknowledged = publisher_.TakeAcknowledged();
  if (absl::Status s = outbox_.Acknowledge(acknowledged); !s.ok()) {
    spdlog::warn("outbox: acknowledgement failed, will be redelivered: {}", s.ToString());
  }
  absl::StatusOr<std::vector<StoredPrice>> due =
      outbox_.ClaimDue(options_.batch_size, options_.lease);
  if (!due.ok()) {
    spdlog::warn("outbox: claim failed: {}", due.status().ToString());
    return 0;
  }
  for (const StoredPrice& price : *due) publisher_.Publish(price);
  if (!due->empty()) spdlog::info("outbox: republished {} unacknowledged events", due->size());
  return static_cast<int>(due->size());
}

}  // namespace marketdata
