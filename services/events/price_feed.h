// PriceEventFeed: every price any replica stores, read back from price-events for live streams.
// Each process reads the whole topic from its end as a group of its own, so a stream on one
// replica also sees the prices the others recorded. Nothing is committed: a feed is live only.
#ifndef MARKETDATA_SERVICES_EVENTS_PRICE_FEED_H_
#define MARKETDATA_SERVICES_EVENTS_PRICE_FEED_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "librdkafka/rdkafkacpp.h"
#include "services/domain/quote.h"

namespace marketdata {

class PriceEventFeed {
 public:
  using Listener = std::function<void(const StoredPrice&)>;

  // `extra`: more librdkafka properties (security settings, for example).
  static absl::StatusOr<std::unique_ptr<PriceEventFeed>> Create(
      const std::string& bootstrap_servers, const std::map<std::string, std::string>& extra,
      const std::string& topic, Listener listener);
  ~PriceEventFeed();

  void Start();
  void Stop();
  // True once partitions are assigned: events produced from now on will be seen.
  bool ready() const { return ready_.load(); }

 private:
  class Assignments;
  PriceEventFeed(std::string topic, Listener listener);

  std::string topic_;
  Listener listener_;
  std::unique_ptr<Assignments> assignments_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};
  std::thread thread_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_PRICE_FEED_H_
