// PriceEventConsumer against librdkafka's mock cluster: the lag it reports per partition.
#include "services/consumer/price_event_consumer.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "services/common/testing/wait_for.h"
#include "services/domain/test_prices.h"
#include "services/events/price_event.h"
#include "services/events/price_headers.h"

namespace marketdata {
namespace {

constexpr char kTopic[] = "price-events";

// A one-broker cluster inside the test process, with kTopic of one partition.
class MockCluster {
 public:
  MockCluster() {
    char error[256];
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof(error));
    cluster_ = rd_kafka_mock_cluster_new(handle_, 1);
    rd_kafka_mock_topic_create(cluster_, kTopic, 1, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

 private:
  rd_kafka_t* handle_;
  rd_kafka_mock_cluster_t* cluster_;
};

void Produce(const std::string& bootstraps, int n) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstraps, error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_NE(producer, nullptr) << error;
  for (int i = 1; i <= n; ++i) {
    const std::string value = EncodePriceEvent(TestPrice("AAPL", i, 100.0 + i, absl::Now()));
    RdKafka::Headers* headers = RdKafka::Headers::create();
    WritePriceHeaders({kPriceEventContentType, {}}, headers);
    ASSERT_EQ(producer->produce(kTopic, 0, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(value.data()), value.size(), "AAPL", 4, 0,
                                headers, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
}

// Takes the first batch, then holds the consumer there until released.
class GatedHandler final : public EventHandler {
 public:
  std::string name() const override { return "gated"; }
  absl::Status Handle(const std::vector<StoredPrice>& events) override {
    handled_ += static_cast<int>(events.size());
    if (handled_ > 1) release_.WaitForNotification();
    return absl::OkStatus();
  }
  void Release() { release_.Notify(); }
  int handled() const { return handled_.load(); }

 private:
  std::atomic<int> handled_{0};
  absl::Notification release_;
};

// Lag comes from the broker: asked every 20 ms, for up to 30 s.
constexpr absl::Duration kWait = absl::Seconds(30);
constexpr absl::Duration kPoll = absl::Milliseconds(20);

int64_t LagOf(const PriceEventConsumer& consumer) {
  std::vector<PartitionLag> lag = consumer.Lag();
  if (lag.size() != 1 || lag[0].topic != kTopic || lag[0].partition != 0) return -1;
  return lag[0].messages;
}

TEST(PriceEventConsumerLagTest, HighWatermarkMinusPositionOfAssignedPartitionsOnly) {
  MockCluster cluster;
  Produce(cluster.bootstraps(), 10);
  GatedHandler handler;
  ConsumerOptions options;
  options.bootstrap_servers = cluster.bootstraps();
  options.group = "lag-test";
  options.max_batch = 1;
  options.batch_wait = absl::Milliseconds(1);
  auto consumer = PriceEventConsumer::Create(options, {&handler});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  EXPECT_TRUE((*consumer)->Lag().empty());  // nothing assigned yet
  (*consumer)->Start();
  // The second record is held in its handler: two of ten read.
  ASSERT_TRUE(
      WaitFor([&] { return handler.handled() >= 2 && LagOf(**consumer) == 8; }, kWait, kPoll))
      << "lag " << LagOf(**consumer);
  handler.Release();
  ASSERT_TRUE(WaitFor([&] { return LagOf(**consumer) == 0; }, kWait, kPoll))
      << "lag " << LagOf(**consumer);
  EXPECT_EQ(handler.handled(), 10);
  // Leaving the group revokes the partition: no series for what this member no longer owns.
  (*consumer)->Stop();
  EXPECT_TRUE((*consumer)->Lag().empty());
}

// Counts what it is handed; forgets nothing it counted when reset.
class CountingHandler final : public EventHandler {
 public:
  std::string name() const override { return "counting"; }
  absl::Status Handle(const std::vector<StoredPrice>& events) override {
    for (const StoredPrice& e : events) ids_[e.price_point_id].fetch_add(1);
    total_.fetch_add(static_cast<int>(events.size()));
    return absl::OkStatus();
  }
  void Reset() override { resets_.fetch_add(1); }
  // How many distinct ids of 1..n it was handed at least once.
  int distinct(int n) const {
    int seen = 0;
    for (int i = 1; i <= n; ++i) seen += ids_[i].load() > 0;
    return seen;
  }
  int resets() const { return resets_.load(); }
  int total() const { return total_.load(); }

 private:
  std::atomic<int> total_{0};
  std::atomic<int> ids_[64] = {};
  std::atomic<int> resets_{0};
};

TEST(PriceEventConsumerRejoinTest, AClientThatFailedForGoodIsReplacedAndConsumptionGoesOn) {
  MockCluster cluster;
  Produce(cluster.bootstraps(), 5);
  CountingHandler handler;
  ConsumerOptions options;
  options.bootstrap_servers = cluster.bootstraps();
  options.group = "rejoin-test";
  options.instance_id = "member-1";  // static, as deployed: the case the broker fences
  options.batch_wait = absl::Milliseconds(1);
  auto consumer = PriceEventConsumer::Create(options, {&handler});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  (*consumer)->Start();
  ASSERT_TRUE(WaitFor([&] { return handler.distinct(5) == 5; }, kWait, kPoll));
  const int resets = handler.resets();
  // Fenced: librdkafka gives the client up for good.
  (*consumer)->FailClientForTesting("fenced by another member with the same group.instance.id");
  ASSERT_TRUE(WaitFor([&] { return (*consumer)->rejoins() == 1; }, kWait, kPoll));
  EXPECT_GT(handler.resets(), resets);  // the old client's partitions were forgotten
  // The new client consumes what comes next.
  Produce(cluster.bootstraps(), 5);
  EXPECT_TRUE(WaitFor([&] { return handler.total() >= 10 && LagOf(**consumer) == 0; }, kWait,
                      kPoll))
      << "handled " << handler.total() << ", lag " << LagOf(**consumer);
  (*consumer)->Stop();
}

}  // namespace
}  // namespace marketdata
