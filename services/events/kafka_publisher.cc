#include "services/events/kafka_publisher.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "services/events/price_event.h"
#include "services/events/price_headers.h"
#include "services/kafka/kafka_client.h"
#include "spdlog/spdlog.h"

namespace marketdata {

class KafkaPriceEventPublisher::DeliveryReports final : public RdKafka::DeliveryReportCb {
 public:
  explicit DeliveryReports(KafkaPriceEventPublisher* owner) : owner_(owner) {}
  void dr_cb(RdKafka::Message& message) override { owner_->OnDelivery(message); }

 private:
  KafkaPriceEventPublisher* owner_;
};

// librdkafka's log lines through the process logger like every client's, its errors too, and
// fatal errors to the publisher's health.
class KafkaPriceEventPublisher::LogEvents final : public KafkaLogLines {
 public:
  explicit LogEvents(KafkaPriceEventPublisher* owner) : owner_(owner) {}
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) {
      KafkaLogLines::event_cb(event);
    } else if (event.fatal()) {
      owner_->OnFatalError(absl::StrCat(event.str(), " (", RdKafka::err2str(event.err()), ")"));
    } else {
      spdlog::warn("kafka: {} ({})", event.str(), RdKafka::err2str(event.err()));
    }
  }

 private:
  KafkaPriceEventPublisher* owner_;
};

KafkaPriceEventPublisher::KafkaPriceEventPublisher(KafkaPublisherOptions options)
    : options_(std::move(options)),
      reports_(std::make_unique<DeliveryReports>(this)),
      log_events_(std::make_unique<LogEvents>(this)) {}

absl::StatusOr<std::unique_ptr<KafkaPriceEventPublisher>> KafkaPriceEventPublisher::Create(
    KafkaPublisherOptions options) {
  std::unique_ptr<KafkaPriceEventPublisher> publisher(
      new KafkaPriceEventPublisher(std::move(options)));
  const KafkaPublisherOptions& o = publisher->options_;
  KafkaClientSpec spec;
  spec.role = "producer";
  spec.properties = {
      {"bootstrap.servers", o.bootstrap_servers},
      {"client.id", "mds-api"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", absl::StrCat(absl::ToInt64Milliseconds(o.linger))},
      {"message.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(o.message_timeout))},
      {"compression.type", "lz4"},
      {"socket.keepalive.enable", "true"},
  };
  spec.extra = o.extra;
  spec.events = publisher->log_events_.get();
  spec.deliveries = publisher->reports_.get();
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> producer = MakeProducer(spec);
  if (!producer.ok()) return producer.status();
  publisher->producer_ = *std::move(producer);
  KafkaPriceEventPublisher* raw = publisher.get();
  publisher->poller_ = std::thread([raw] {
    while (!raw->stopping_.load()) raw->producer_->poll(100);
  });
  return publisher;
}

KafkaPriceEventPublisher::~KafkaPriceEventPublisher() {
  stopping_.store(true);
  if (poller_.joinable()) poller_.join();
  if (producer_ != nullptr) producer_->poll(0);
}

void KafkaPriceEventPublisher::Publish(const StoredPrice& price) {
  const std::string payload = EncodePriceEvent(price);
  RdKafka::Headers* headers = RdKafka::Headers::create();
  WritePriceHeaders({kPriceEventContentType, price.quote.origin}, headers);
  const int64_t timestamp_ms = absl::ToUnixMillis(price.quote.timestamp);
  RdKafka::ErrorCode err = producer_->produce(
      options_.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(payload.data()), payload.size(), price.quote.symbol.data(),
      price.quote.symbol.size(), timestamp_ms, headers,
      reinterpret_cast<void*>(static_cast<intptr_t>(price.price_point_id)));
  if (err != RdKafka::ERR_NO_ERROR) {
    delete headers;  // ownership passes to librdkafka only on success
    failed_.fetch_add(1);
    spdlog::warn("event for price point {} not queued ({}); the outbox relay will retry",
                 price.price_point_id, RdKafka::err2str(err));
  }
}

void KafkaPriceEventPublisher::OnDelivery(RdKafka::Message& message) {
  const int64_t id = static_cast<int64_t>(reinterpret_cast<intptr_t>(message.msg_opaque()));
  if (message.err() != RdKafka::ERR_NO_ERROR) {
    failed_.fetch_add(1);
    // One warning per outage, not one per event: the outbox relay retries them all.
    if (!failing_.exchange(true)) {
      spdlog::warn("events not delivered ({}, first: price point {}); the outbox relay will "
                   "retry them",
                   message.errstr(), id);
    }
    return;
  }
  if (failing_.exchange(false)) spdlog::info("events delivered again");
  delivered_.fetch_add(1);
  absl::MutexLock lock(&mu_);
  acknowledged_.push_back(id);
}

void KafkaPriceEventPublisher::OnFatalError(const std::string& reason) {
  spdlog::error("kafka producer failed for good: {}; restart this process (the outbox keeps "
                "every undelivered price)",
                reason);
  absl::MutexLock lock(&mu_);
  if (fatal_error_.empty()) fatal_error_ = reason;
}

absl::Status KafkaPriceEventPublisher::Health() const {
  absl::MutexLock lock(&mu_);
  if (fatal_error_.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("Kafka producer failed: ", fatal_error_));
}

std::vector<int64_t> KafkaPriceEventPublisher::TakeAcknowledged() {
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> out;
  out.swap(acknowledged_);
  return out;
}

void KafkaPriceEventPublisher::Flush(absl::Duration timeout) {
  producer_->flush(static_cast<int>(absl::ToInt64Milliseconds(timeout)));
}

int KafkaPriceEventPublisher::InFlight() const { return producer_->outq_len(); }

}  // namespace marketdata
