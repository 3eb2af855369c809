// PriceEventConsumer: the moving-average pipeline's Kafka side. A member of the consumer group
// reads price-events in batches, computes averages (EventBatchProcessor), writes them in one
// transaction, and only then stores the batch's offsets, so a crash replays rather than loses.
// A record it cannot decode, or whose event cannot be averaged (CheckPriceEvent), is counted,
// logged and parked on the dead-letter topic. A batch the store keeps refusing for a reason that
// is not transient is split until the events that fail on their own are found; those are parked
// too, so no record stalls its partition. Transient failures (the database is away) are retried
// for as long as they last.
#ifndef MARKETDATA_SERVICES_CONSUMER_PRICE_EVENT_CONSUMER_H_
#define MARKETDATA_SERVICES_CONSUMER_PRICE_EVENT_CONSUMER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "librdkafka/rdkafkacpp.h"
#include "services/averages/event_batch.h"
#include "services/storage/moving_average_store.h"

namespace marketdata {

struct ConsumerOptions {
  std::string bootstrap_servers;
  std::string topic = "price-events";
  std::string dead_letter_topic = "price-events-dlq";
  std::string group = "moving-average-consumer";
  std::vector<int> windows = {5};
  size_t max_batch = 5000;
  absl::Duration batch_wait = absl::Milliseconds(5);
  // Symbols whose windows are kept between batches; the least recently used beyond that are
  // rebuilt from price_points when seen again.
  size_t max_symbol_windows = EventBatchProcessor::kDefaultMaxSymbols;
  // Non-transient failures of a batch before its failing events are looked for: a few, because a
  // failure may still be a passing one the store did not classify as transient.
  int attempts_before_isolating = 5;
  std::map<std::string, std::string> extra;  // more librdkafka properties
};

struct ConsumerCounters {
  std::atomic<int64_t> events{0};
  std::atomic<int64_t> averages{0};
  std::atomic<int64_t> dead_lettered{0};
  std::atomic<int64_t> repaired{0};  // averaged from price_points (out of the window's order)
  std::atomic<int64_t> batches{0};
  std::atomic<int64_t> rebalances{0};
  // A gauge, not a counter: the symbol windows kept in memory. Copied from the processor by the
  // consuming thread, so that metrics scrapes never touch the processor itself.
  std::atomic<int64_t> symbol_windows{0};
};

class PriceEventConsumer {
 public:
  // Called with the averages of each committed batch (live streams).
  using AveragesListener = std::function<void(const std::vector<AverageRow>&)>;

  static absl::StatusOr<std::unique_ptr<PriceEventConsumer>> Create(
      ConsumerOptions options, MovingAverageStore& store, AveragesListener listener);
  ~PriceEventConsumer();

  void Start();
  // Finishes the batch in progress, commits stored offsets and leaves the group.
  void Stop();

  const ConsumerCounters& counters() const { return counters_; }
  // Partitions currently assigned to this member.
  int assigned_partitions() const { return assigned_.load(); }

 private:
  class Rebalancer;
  class DeadLetterReports;
  struct Record;

  PriceEventConsumer(ConsumerOptions options, MovingAverageStore& store,
                     AveragesListener listener);
  void Loop();
  std::vector<Record> NextBatch();
  // Returns false when stopping before the batch was committed.
  bool Commit(const std::vector<Record>& batch);
  // Averages `events` and writes the averages, appending them to `written` on success. Forgets
  // every window on failure: they may hold the unwritten points.
  absl::Status Write(const std::vector<v1::PriceEvent>& events, BatchResult* written);
  // Parks every record on the dead-letter topic and waits for the broker's acknowledgement.
  bool DeadLetter(const std::vector<std::pair<const Record*, std::string>>& records);

  ConsumerOptions options_;
  MovingAverageStore& store_;
  AveragesListener listener_;
  EventBatchProcessor processor_;
  ConsumerCounters counters_;
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<DeadLetterReports> dead_letter_reports_;
  std::unique_ptr<RdKafka::Producer> dead_letters_;
  std::atomic<int64_t> dead_letter_failures_{0};
  std::atomic<bool> stopping_{false};
  // Set by the rebalance callback on revocation: the records gathered so far are dropped.
  std::atomic<bool> revoked_{false};
  std::atomic<int> assigned_{0};
  std::thread thread_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_PRICE_EVENT_CONSUMER_H_
