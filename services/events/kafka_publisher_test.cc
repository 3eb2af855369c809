#include "services/events/kafka_publisher.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/domain/test_prices.h"

namespace marketdata {
namespace {

StoredPrice MakePrice(int64_t id, const std::string& symbol) {
  return TestPrice(symbol, id, 101.5, absl::Now());
}

std::vector<int64_t> WaitForAcknowledged(KafkaPriceEventPublisher& publisher, size_t want) {
  std::vector<int64_t> all;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (all.size() < want && absl::Now() < deadline) {
    publisher.Flush(absl::Milliseconds(100));
    for (int64_t id : publisher.TakeAcknowledged()) all.push_back(id);
  }
  return all;
}

// librdkafka's in-process mock cluster stands in for a broker in this unit test.
TEST(KafkaPublisherTest, AcknowledgesDeliveredEventsById) {
  KafkaPublisherOptions options;
  options.bootstrap_servers = "unused:9092";
  options.extra = {{"test.mock.num.brokers", "1"}};
  auto publisher = KafkaPriceEventPublisher::Create(options);
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  (*publisher)->Publish(MakePrice(7, "AAPL"));
  (*publisher)->Publish(MakePrice(8, "MSFT"));
  std::vector<int64_t> acked = WaitForAcknowledged(**publisher, 2);
  std::sort(acked.begin(), acked.end());
  EXPECT_EQ(acked, (std::vector<int64_t>{7, 8}));
  EXPECT_EQ((*publisher)->delivered_count(), 2);
}

TEST(KafkaPublisherTest, UndeliverableEventIsNotAcknowledged) {
  KafkaPublisherOptions options;
  options.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
  options.message_timeout = absl::Milliseconds(500);
  auto publisher = KafkaPriceEventPublisher::Create(options);
  ASSERT_TRUE(publisher.ok());
  (*publisher)->Publish(MakePrice(9, "AAPL"));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*publisher)->failed_count() == 0 && absl::Now() < deadline) {
    (*publisher)->Flush(absl::Milliseconds(100));
  }
  EXPECT_EQ((*publisher)->failed_count(), 1);
  EXPECT_TRUE((*publisher)->TakeAcknowledged().empty());
}

TEST(KafkaPublisherTest, BadSettingIsAClearError) {
  KafkaPublisherOptions options;
  options.bootstrap_servers = "x:1";
  options.extra = {{"no.such.property", "1"}};
  auto publisher = KafkaPriceEventPublisher::Create(options);
  ASSERT_FALSE(publisher.ok());
  EXPECT_NE(publisher.status().message().find("no.such.property"), absl::string_view::npos);
}

}  // namespace
}  // namespace marketdata
