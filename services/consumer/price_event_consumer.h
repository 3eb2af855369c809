// PriceEventConsumer: a member of the consumer group of price-events that feeds batches of
// events to its handlers (moving averages, ...; see EventHandler) and stores a batch's offsets only
// after every handler has written it, so a crash replays rather than loses. A record it cannot
// decode, or whose event no handler may take (CheckPriceEvent), is counted, logged and parked on
// the dead-letter topic; an event older than the late window is skipped and counted. A batch a handler keeps refusing for a reason that is not transient is
// split until the events that fail on their own are found; those are parked too, so no record
// stalls its partition. Transient failures (the database is away) are retried for as long as
// they last; a handler that already wrote the batch is not asked again.
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
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/synchronization/notification.h"
#include "librdkafka/rdkafkacpp.h"
#include "services/common/runtime/thread_pool.h"
#include "services/consumer/decoded_batch.h"
#include "services/consumer/event_handler.h"
#include "services/kafka/kafka_client.h"

namespace marketdata {

struct ConsumerOptions {
  std::string bootstrap_servers;
  std::string topic = "price-events";
  std::string dead_letter_topic = "price-events-dlq";
  std::string group = "moving-average-consumer";
  // group.instance.id: a static member, whose partitions wait for it across a restart (up to the
  // session timeout) instead of moving to the others and back. Empty: a dynamic member.
  std::string instance_id;
  size_t max_batch = 20000;
  absl::Duration batch_wait = absl::Milliseconds(5);
  // Non-transient failures of a batch before its failing events are looked for: a few, because a
  // failure may still be a passing one the store did not classify as transient.
  int attempts_before_isolating = 5;
  // Events whose price is older than this (by the consumer's clock) are skipped and counted, not
  // averaged: the service stores no such quote, so averages and bars before it are final, and
  // the prices such an event would be averaged with may be gone. Zero: none is skipped.
  absl::Duration late_window = absl::ZeroDuration();
  std::map<std::string, std::string> extra;  // more librdkafka properties
};

struct ConsumerCounters {
  std::atomic<int64_t> events{0};  // handled by every handler
  std::atomic<int64_t> dead_lettered{0};
  std::atomic<int64_t> sealed{0};  // skipped: older than the late window
  std::atomic<int64_t> batches{0};
  std::atomic<int64_t> rebalances{0};
};

// How far one assigned partition is behind: its high watermark minus this member's position in
// it (records already taken into a batch count as read).
struct PartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t messages = 0;
};

class PriceEventConsumer {
 public:
  // `handlers` must outlive the consumer; each gets every batch.
  static absl::StatusOr<std::unique_ptr<PriceEventConsumer>> Create(
      ConsumerOptions options, std::vector<EventHandler*> handlers);
  ~PriceEventConsumer();

  void Start();
  // Finishes the batch in progress, commits stored offsets and leaves the group.
  void Stop();

  const ConsumerCounters& counters() const { return counters_; }
  // Partitions currently assigned to this member.
  int assigned_partitions() const { return assigned_.load(); }
  // The lag of every partition assigned now (none after a revocation), from what the client
  // already knows: the high watermark of its last fetch and its position, or the committed offset
  // when nothing has been read since the assignment (one bounded broker round trip). Thread-safe;
  // never waits for the consume loop. A partition whose watermark is not known yet is left out.
  std::vector<PartitionLag> Lag() const;
  // Times the Kafka client failed for good (a static member fenced after its coordinator went
  // away, for example) and was replaced by a new one that joined the group again.
  int64_t rejoins() const { return rejoins_.load(); }
  // Raises a fatal error in the Kafka client, as the broker's fencing would: for tests.
  void FailClientForTesting(const std::string& reason);

 private:
  class Rebalancer;
  class DeadLetterReports;
  using Parked = std::vector<std::pair<const ConsumedRecord*, std::string>>;
  // How far the commit of one batch got: what is done is not redone when it is tried again.
  struct Progress;

  PriceEventConsumer(ConsumerOptions options, std::vector<EventHandler*> handlers);
  void Loop();
  // Sets `failed_` when the client raised a fatal error (its batch so far is dropped).
  std::vector<ConsumedRecord> NextBatch();
  // Replaces a client that failed for good with a new one, which joins the group again; tries
  // until it can or the consumer stops.
  void Rejoin();
  // Decode, handle (retried until it succeeds), park, store offsets. Returns false when stopping
  // before the batch was committed.
  bool Commit(const std::vector<ConsumedRecord>& batch);
  // One attempt at having every handler write `decoded`; after repeated refusals, the search for
  // the events that fail on their own, which are added to `decoded->rejected`.
  absl::Status WriteOnce(DecodedBatch* decoded, Progress* progress);
  // Hands `prices` to every handler not yet `done` with the batch, all at once (each on its own
  // thread), marking those that wrote them; the first failure, if any.
  absl::Status Handle(const std::vector<StoredPrice>& prices, std::vector<bool>* done);
  // Parks every record on the dead-letter topic and waits for the broker's acknowledgement.
  bool DeadLetter(const Parked& records);
  // The next offset of every partition of `batch`, stored for the next auto-commit.
  void StoreOffsets(const std::vector<ConsumedRecord>& batch);
  // One line per price of a committed batch, naming the request it came from (see .cc).
  void LogHandled(const DecodedBatch& decoded) const;

  ConsumerOptions options_;
  const std::vector<EventHandler*> handlers_;
  std::unique_ptr<ThreadPool> helpers_;  // runs handlers_[1..] beside handlers_[0]
  ConsumerCounters counters_;
  std::unique_ptr<Rebalancer> rebalancer_;
  KafkaClientSpec group_;  // what consumer_ was made of, to make it again
  // Replaced only by the loop's thread (Rejoin), under consumer_mu_; other threads (Lag, Stop)
  // use it under consumer_mu_.
  mutable absl::Mutex consumer_mu_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  bool failed_ = false;  // the loop's thread only
  std::atomic<int64_t> rejoins_{0};
  std::unique_ptr<DeadLetterReports> dead_letter_reports_;
  std::unique_ptr<RdKafka::Producer> dead_letters_;
  std::atomic<int64_t> dead_letter_failures_{0};
  std::atomic<bool> stopping_{false};
  absl::Notification stopped_;  // wakes a retry that waits
  // Set by the rebalance callback on revocation: the records gathered so far are dropped.
  std::atomic<bool> revoked_{false};
  std::atomic<int> assigned_{0};
  mutable absl::Mutex assignment_mu_;
  std::vector<std::pair<std::string, int32_t>> assignment_ ABSL_GUARDED_BY(assignment_mu_);
  std::thread thread_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_PRICE_EVENT_CONSUMER_H_
