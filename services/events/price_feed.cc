#include "services/events/price_feed.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/events/price_event.h"
#include "services/events/price_headers.h"
#include "services/kafka/kafka_client.h"

namespace marketdata {

class PriceEventFeed::Assignments final : public RdKafka::RebalanceCb {
 public:
  explicit Assignments(std::atomic<bool>* ready) : ready_(ready) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      // Live only: start at the end of every partition.
      for (RdKafka::TopicPartition* p : partitions) p->set_offset(RdKafka::Topic::OFFSET_END);
      consumer->assign(partitions);
      ready_->store(true);
    } else {
      consumer->unassign();
      ready_->store(false);
    }
  }

 private:
  std::atomic<bool>* ready_;
};

PriceEventFeed::PriceEventFeed(std::string topic, Listener listener)
    : topic_(std::move(topic)),
      listener_(std::move(listener)),
      assignments_(std::make_unique<Assignments>(&ready_)) {}

absl::StatusOr<std::unique_ptr<PriceEventFeed>> PriceEventFeed::Create(
    const std::string& bootstrap_servers, const std::map<std::string, std::string>& extra,
    const std::string& topic, Listener listener) {
  std::unique_ptr<PriceEventFeed> feed(new PriceEventFeed(topic, std::move(listener)));
  KafkaClientSpec spec;
  spec.role = "price feed";
  spec.properties = {
      {"bootstrap.servers", bootstrap_servers},
      {"group.id", absl::StrCat("mds-api-feed-", std::random_device{}())},
      {"client.id", "mds-api-feed"},
      {"enable.auto.commit", "false"},
      {"auto.offset.reset", "latest"},
      {"fetch.wait.max.ms", "20"},
      {"session.timeout.ms", "10000"},
      {"allow.auto.create.topics", "true"},
  };
  spec.extra = extra;
  spec.rebalances = feed->assignments_.get();
  absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> consumer = MakeConsumer(spec, {topic});
  if (!consumer.ok()) return consumer.status();
  feed->consumer_ = *std::move(consumer);
  return feed;
}

PriceEventFeed::~PriceEventFeed() { Stop(); }

void PriceEventFeed::Start() {
  thread_ = std::thread([this] {
    while (!stopping_.load()) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      absl::StatusOr<StoredPrice> price =
          DecodePriceEvent(std::string(static_cast<const char*>(m->payload()), m->len()),
                           ReadPriceHeaders(*m).content_type, absl::Now());
      if (price.ok()) listener_(*price);  // bad records are the consumer's to park
    }
  });
}

void PriceEventFeed::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  consumer_->close();
}

}  // namespace marketdata
