// PriceEvents on a real Kafka broker: what lands on the topic, and delivery of prices whose
// events were lost (broker unreachable, or the process died between commit and publish).
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/marketdata/v1/events.pb.h"
#include "services/events/kafka_publisher.h"
#include "services/events/outbox_relay.h"
#include "services/storage/price_store.h"
#include "soci/soci.h"
#include "tests/support/kafka_reader.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::KafkaBootstrapServers;
using ::marketdata::testing::ReadRecords;
using ::marketdata::testing::ScratchDatabase;
using ::marketdata::testing::UniqueName;

Quote MakeQuote(const std::string& symbol, double price) {
  return Quote{symbol, price, absl::FromUnixMicros(1767225600123456), "test", "{}"};
}

std::unique_ptr<KafkaPriceEventPublisher> Publisher(const std::string& bootstrap,
                                                    const std::string& topic,
                                                    absl::Duration timeout = absl::Seconds(20)) {
  KafkaPublisherOptions options;
  options.bootstrap_servers = bootstrap;
  options.topic = topic;
  options.message_timeout = timeout;
  auto publisher = KafkaPriceEventPublisher::Create(options);
  EXPECT_TRUE(publisher.ok()) << publisher.status();
  return std::move(*publisher);
}

long long OutboxSize(Database& db) {
  auto lease = MustAcquire(db);
  long long n = 0;
  *lease << "SELECT count(*) FROM price_event_outbox", soci::into(n);
  return n;
}

TEST(PriceEventsTest, EventLandsKeyedBySymbolWithContentTypeAndAllFields) {
  const std::string topic = UniqueName("price_events");
  auto publisher = Publisher(KafkaBootstrapServers(), topic);
  StoredPrice price{MakeQuote("AAPL", 180.5), 41, 42};
  publisher->Publish(price);
  publisher->Flush(absl::Seconds(10));
  EXPECT_EQ(publisher->TakeAcknowledged(), std::vector<int64_t>{42});

  auto records = ReadRecords(KafkaBootstrapServers(), topic, 1, absl::Seconds(30));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "AAPL");
  EXPECT_EQ(records[0].headers["content-type"], "application/x-protobuf");
  v1::PriceEvent event;
  ASSERT_TRUE(event.ParseFromString(records[0].value));
  EXPECT_EQ(event.symbol(), "AAPL");
  EXPECT_EQ(event.price(), 180.5);
  EXPECT_EQ(event.provider(), "test");
  EXPECT_EQ(event.raw_response_id(), 41);
  EXPECT_EQ(event.price_point_id(), 42);
  EXPECT_EQ(event.timestamp().seconds(), 1767225600);
  EXPECT_EQ(event.timestamp().nanos(), 123456000);
}

TEST(PriceEventsTest, OneSymbolsEventsShareAPartitionInOrder) {
  const std::string topic = UniqueName("price_events");
  auto publisher = Publisher(KafkaBootstrapServers(), topic);
  for (int i = 1; i <= 20; ++i) {
    publisher->Publish(StoredPrice{MakeQuote(i % 2 == 0 ? "MSFT" : "TSLA", i), i, i});
  }
  publisher->Flush(absl::Seconds(10));
  auto records = ReadRecords(KafkaBootstrapServers(), topic, 20, absl::Seconds(30));
  ASSERT_EQ(records.size(), 20u);
  std::map<std::string, std::set<int>> partitions;
  std::map<std::string, int64_t> last;
  for (const auto& r : records) {
    partitions[r.key].insert(r.partition);
    v1::PriceEvent event;
    ASSERT_TRUE(event.ParseFromString(r.value));
    EXPECT_GT(event.price_point_id(), last[r.key]) << "out of order for " << r.key;
    last[r.key] = event.price_point_id();
  }
  EXPECT_EQ(partitions["MSFT"].size(), 1u);
  EXPECT_EQ(partitions["TSLA"].size(), 1u);
}

TEST(PriceEventsTest, PriceStoredWhileBrokerUnreachableIsDeliveredWhenItIsBack) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  PostgresPriceStore store(*db);
  const std::string topic = UniqueName("price_events");

  // The broker is unreachable: the event times out and stays in the outbox.
  auto offline = Publisher("127.0.0.1:1", topic, absl::Milliseconds(500));
  auto stored = store.SavePrice(MakeQuote("GOOGL", 140.25));
  ASSERT_TRUE(stored.ok());
  offline->Publish(*stored);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (offline->failed_count() == 0 && absl::Now() < deadline) {
    offline->Flush(absl::Milliseconds(100));
  }
  ASSERT_EQ(offline->failed_count(), 1);
  OutboxRelayOptions options;
  options.lease = absl::Milliseconds(200);
  {
    OutboxRelay relay(store, *offline, options);
    relay.RunOnce();
  }
  EXPECT_EQ(OutboxSize(*db), 1);

  // The broker is back: the relay republishes once the entry is due, then forgets it.
  auto online = Publisher(KafkaBootstrapServers(), topic);
  {
    auto lease = MustAcquire(*db);
    *lease << "UPDATE price_event_outbox SET available_at = now()";
  }
  OutboxRelay relay(store, *online, options);
  EXPECT_EQ(relay.RunOnce(), 1);
  online->Flush(absl::Seconds(10));
  relay.RunOnce();
  EXPECT_EQ(OutboxSize(*db), 0);

  auto records = ReadRecords(KafkaBootstrapServers(), topic, 1, absl::Seconds(30));
  ASSERT_EQ(records.size(), 1u);
  v1::PriceEvent event;
  ASSERT_TRUE(event.ParseFromString(records[0].value));
  EXPECT_EQ(event.symbol(), "GOOGL");
  EXPECT_EQ(event.price(), 140.25);
  EXPECT_EQ(event.price_point_id(), stored->price_point_id);
  EXPECT_EQ(event.raw_response_id(), stored->raw_response_id);
}

TEST(PriceEventsTest, PriceCommittedByAProcessThatDiedIsPublishedByTheRelay) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  PostgresPriceStore store(*db);
  const std::string topic = UniqueName("price_events");
  // Committed, never published: what a crash right after the commit leaves behind.
  auto stored = store.SavePrice(MakeQuote("AMZN", 170));
  ASSERT_TRUE(stored.ok());
  {
    auto lease = MustAcquire(*db);
    *lease << "UPDATE price_event_outbox SET available_at = now()";
  }
  auto publisher = Publisher(KafkaBootstrapServers(), topic);
  OutboxRelayOptions options;
  options.interval = absl::Milliseconds(50);
  OutboxRelay relay(store, *publisher, options);
  relay.Start();
  auto records = ReadRecords(KafkaBootstrapServers(), topic, 1, absl::Seconds(30));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "AMZN");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (OutboxSize(*db) != 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(OutboxSize(*db), 0);
  relay.Stop();
}

}  // namespace
}  // namespace marketdata
