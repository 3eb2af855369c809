// KafkaPriceEventPublisher: PriceEvents to Kafka with librdkafka, keyed by symbol so one
// symbol's events stay ordered in one partition, idempotent producer, batched (linger).
#ifndef MARKETDATA_SERVICES_EVENTS_KAFKA_PUBLISHER_H_
#define MARKETDATA_SERVICES_EVENTS_KAFKA_PUBLISHER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "librdkafka/rdkafkacpp.h"
#include "services/events/publisher.h"

namespace marketdata {

struct KafkaPublisherOptions {
  std::string bootstrap_servers;
  std::string topic = "price-events";
  // How long librdkafka keeps retrying one message before giving it back to the outbox. Must stay
  // below the outbox's first delay (25 s, migration 0016): the relay republishes a price only
  // once its first attempt has settled, so a slow delivery is never doubled.
  absl::Duration message_timeout = absl::Seconds(20);
  absl::Duration linger = absl::Milliseconds(5);
  // Extra librdkafka properties (tests use test.mock.num.brokers).
  std::map<std::string, std::string> extra;
};

class KafkaPriceEventPublisher final : public PriceEventPublisher {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaPriceEventPublisher>> Create(
      KafkaPublisherOptions options);
  ~KafkaPriceEventPublisher() override;

  void Publish(const StoredPrice& price) override;
  std::vector<int64_t> TakeAcknowledged() override;

  // Waits up to `timeout` for queued events to be delivered.
  void Flush(absl::Duration timeout);
  // Events handed over and not yet acknowledged or failed.
  int InFlight() const;
  int64_t delivered_count() const { return delivered_.load(); }
  int64_t failed_count() const { return failed_.load(); }
  // OK while the producer can deliver; after a fatal error (the idempotent producer lost its
  // guarantees) it never delivers again, and the process must be restarted: the outbox keeps
  // every undelivered price for the next run.
  absl::Status Health() const;

 private:
  class DeliveryReports;
  class LogEvents;

  void OnFatalError(const std::string& reason);
  explicit KafkaPriceEventPublisher(KafkaPublisherOptions options);
  void OnDelivery(RdKafka::Message& message);

  KafkaPublisherOptions options_;
  std::unique_ptr<DeliveryReports> reports_;
  std::unique_ptr<LogEvents> log_events_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<bool> failing_{false};  // the last delivery report was a failure
  mutable absl::Mutex mu_;
  std::string fatal_error_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> acknowledged_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_KAFKA_PUBLISHER_H_
