#include "services/kafka/kafka_client.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace marketdata {
namespace {

KafkaClientSpec MockCluster(const std::string& role) {
  KafkaClientSpec spec;
  spec.role = role;
  spec.properties = {{"bootstrap.servers", "unused:9092"}, {"client.id", "own"}};
  // librdkafka's in-process mock cluster stands in for a broker.
  spec.extra = {{"test.mock.num.brokers", "1"}};
  return spec;
}

TEST(KafkaClientTest, ARefusedSettingIsNamedButNotItsValue) {
  KafkaClientSpec spec = MockCluster("producer");
  spec.extra["no.such.property"] = "s3cret";
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> producer = MakeProducer(spec);
  ASSERT_FALSE(producer.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(producer.status()));
  EXPECT_NE(producer.status().message().find("no.such.property"), absl::string_view::npos);
  EXPECT_EQ(producer.status().message().find("s3cret"), absl::string_view::npos);
  absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> consumer =
      MakeConsumer(spec, {"topic"});
  ASSERT_FALSE(consumer.ok());
  EXPECT_NE(consumer.status().message().find("no.such.property"), absl::string_view::npos);
}

TEST(KafkaClientTest, TheOperatorsSettingsGoOverTheClientsOwn) {
  KafkaClientSpec spec = MockCluster("producer");
  spec.extra["client.id"] = "operator";
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> producer = MakeProducer(spec);
  ASSERT_TRUE(producer.ok()) << producer.status();
  EXPECT_EQ((*producer)->name().rfind("operator#", 0), 0u) << (*producer)->name();
}

TEST(KafkaClientTest, ALostBrokerIsTriedAgainEverySecondUnlessTheOperatorSaysOtherwise) {
  KafkaClientSpec spec;
  spec.properties = {{"bootstrap.servers", "localhost:1"}};
  EXPECT_EQ(EffectiveProperties(spec).at("reconnect.backoff.max.ms"), "1000");
  EXPECT_EQ(EffectiveProperties(spec).at("bootstrap.servers"), "localhost:1");
  spec.extra = {{"reconnect.backoff.max.ms", "5000"}};
  EXPECT_EQ(EffectiveProperties(spec).at("reconnect.backoff.max.ms"), "5000");
}

TEST(KafkaClientTest, AConsumerIsSubscribed) {
  KafkaClientSpec spec = MockCluster("consumer");
  spec.properties["group.id"] = "kafka-client-test";
  absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> consumer =
      MakeConsumer(spec, {"prices", "more-prices"});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  std::vector<std::string> topics;
  ASSERT_EQ((*consumer)->subscription(topics), RdKafka::ERR_NO_ERROR);
  std::sort(topics.begin(), topics.end());
  EXPECT_EQ(topics, (std::vector<std::string>{"more-prices", "prices"}));
  (*consumer)->close();
}

// Each client gets the callbacks its spec names: a delivery report for what it produced.
TEST(KafkaClientTest, DeliveryReportsReachTheSpecsCallback) {
  class Count final : public RdKafka::DeliveryReportCb {
   public:
    void dr_cb(RdKafka::Message& message) override {
      if (message.err() == RdKafka::ERR_NO_ERROR) ++delivered;
    }
    int delivered = 0;
  } count;
  KafkaClientSpec spec = MockCluster("producer");
  spec.deliveries = &count;
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> producer = MakeProducer(spec);
  ASSERT_TRUE(producer.ok()) << producer.status();
  std::string value = "v";
  ASSERT_EQ((*producer)->produce("t", RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                 value.data(), value.size(), nullptr, 0, 0, nullptr),
            RdKafka::ERR_NO_ERROR);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (count.delivered == 0 && absl::Now() < deadline) (*producer)->flush(100);
  EXPECT_EQ(count.delivered, 1);
}

}  // namespace
}  // namespace marketdata
