#include "services/events/outbox_relay.h"

#include <set>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

class FakeOutbox : public PriceOutbox {
 public:
  absl::StatusOr<std::vector<StoredPrice>> ClaimDue(int limit, absl::Duration) override {
    std::vector<StoredPrice> out;
    for (int64_t id : pending) {
      if (static_cast<int>(out.size()) == limit) break;
      StoredPrice p;
      p.price_point_id = id;
      out.push_back(p);
    }
    return out;
  }
  absl::Status Acknowledge(const std::vector<int64_t>& ids) override {
    for (int64_t id : ids) pending.erase(id);
    return absl::OkStatus();
  }
  std::set<int64_t> pending;
};

class FakePublisher : public PriceEventPublisher {
 public:
  void Publish(const StoredPrice& p) override {
    published.push_back(p.price_point_id);
    if (deliver) acked.push_back(p.price_point_id);
  }
  std::vector<int64_t> TakeAcknowledged() override {
    std::vector<int64_t> out;
    out.swap(acked);
    return out;
  }
  bool deliver = true;
  std::vector<int64_t> published, acked;
};

TEST(OutboxRelayTest, RepublishesDueEntriesAndForgetsAcknowledgedOnes) {
  FakeOutbox outbox;
  outbox.pending = {1, 2, 3};
  FakePublisher publisher;
  OutboxRelay relay(outbox, publisher, {});
  EXPECT_EQ(relay.RunOnce(), 3);
  EXPECT_EQ(publisher.published, (std::vector<int64_t>{1, 2, 3}));
  relay.RunOnce();  // acknowledges what the first pass delivered
  EXPECT_TRUE(outbox.pending.empty());
}

TEST(OutboxRelayTest, KeepsEntriesTheBrokerNeverAcknowledged) {
  FakeOutbox outbox;
  outbox.pending = {5};
  FakePublisher publisher;
  publisher.deliver = false;
  OutboxRelay relay(outbox, publisher, {});
  relay.RunOnce();
  relay.RunOnce();
  EXPECT_EQ(outbox.pending, std::set<int64_t>{5});
  EXPECT_EQ(publisher.published.size(), 2u);
}

TEST(OutboxRelayTest, ClaimsInBatches) {
  FakeOutbox outbox;
  for (int64_t i = 0; i < 25; ++i) outbox.pending.insert(i);
  FakePublisher publisher;
  OutboxRelayOptions options;
  options.batch_size = 10;
  OutboxRelay relay(outbox, publisher, options);
  EXPECT_EQ(relay.RunOnce(), 10);
}

}  // namespace
}  // namespace marketdata
