#include "services/consumer/price_event_consumer.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "services/common/logging/logging.h"
#include "services/common/logging/request_context.h"
#include "services/consumer/isolate_failures.h"
#include "librdkafka/rdkafka.h"
#include "services/kafka/kafka_client.h"
#include "spdlog/spdlog.h"

namespace marketdata {

struct PriceEventConsumer::Progress {
  explicit Progress(size_t handlers) : done(handlers, false) {}
  std::vector<bool> done;    // done[i]: handler i wrote the batch
  bool all_written = false;  // every handler did, or the failing events were isolated
  size_t parked = 0;         // rejected[0, parked) are on the dead-letter topic
  size_t isolated = 0;       // events parked because they failed a handler on their own
  int refusals = 0;          // non-transient failures of this batch
};

// Eager rebalancing: on revocation every handler forgets its per-symbol state (rebuilt from
// PostgreSQL on next sight) and the records gathered so far are dropped; their offsets were never stored,
// so the partition's next owner, or this member after re-assignment, reads them again.
class PriceEventConsumer::Rebalancer final : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(PriceEventConsumer* owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    owner_->counters_.rebalances.fetch_add(1);
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      spdlog::info("consumer: assigned {} partitions", partitions.size());
      consumer->assign(partitions);
      owner_->assigned_.store(static_cast<int>(partitions.size()));
      absl::MutexLock lock(&owner_->assignment_mu_);
      owner_->assignment_.clear();
      for (const RdKafka::TopicPartition* p : partitions) {
        owner_->assignment_.emplace_back(p->topic(), p->partition());
      }
    } else {
      spdlog::info("consumer: {} partitions revoked", partitions.size());
      owner_->revoked_.store(true);
      for (EventHandler* handler : owner_->handlers_) handler->Reset();
      consumer->unassign();
      owner_->assigned_.store(0);
      absl::MutexLock lock(&owner_->assignment_mu_);
      owner_->assignment_.clear();
    }
  }

 private:
  PriceEventConsumer* owner_;
};

class PriceEventConsumer::DeadLetterReports final : public RdKafka::DeliveryReportCb {
 public:
  explicit DeadLetterReports(std::atomic<int64_t>* failures) : failures_(failures) {}
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      spdlog::error("consumer: dead letter not delivered: {}", message.errstr());
      failures_->fetch_add(1);
    }
  }

 private:
  std::atomic<int64_t>* failures_;
};

PriceEventConsumer::PriceEventConsumer(ConsumerOptions options,
                                       std::vector<EventHandler*> handlers)
    : options_(std::move(options)),
      handlers_(std::move(handlers)),
      helpers_(std::make_unique<ThreadPool>(std::max<int>(1, static_cast<int>(handlers_.size()) - 1))),
      rebalancer_(std::make_unique<Rebalancer>(this)),
      dead_letter_reports_(std::make_unique<DeadLetterReports>(&dead_letter_failures_)) {}

absl::StatusOr<std::unique_ptr<PriceEventConsumer>> PriceEventConsumer::Create(
    ConsumerOptions options, std::vector<EventHandler*> handlers) {
  std::unique_ptr<PriceEventConsumer> c(
      new PriceEventConsumer(std::move(options), std::move(handlers)));
  const ConsumerOptions& o = c->options_;
  KafkaClientSpec group;
  group.role = "consumer";
  group.properties = {
      {"bootstrap.servers", o.bootstrap_servers},
      {"group.id", o.group},
      {"client.id", "mds-consumer"},
      {"enable.auto.commit", "true"},
      {"enable.auto.offset.store", "false"},  // stored only after the DB commit
      {"auto.commit.interval.ms", "500"},
      {"auto.offset.reset", "earliest"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"fetch.wait.max.ms", "50"},
      // The topic may not exist yet when the first consumer starts (a fresh broker).
      {"allow.auto.create.topics", "true"},
      {"topic.metadata.refresh.interval.ms", "10000"},
  };
  if (!o.instance_id.empty()) group.properties["group.instance.id"] = o.instance_id;
  group.extra = o.extra;
  group.rebalances = c->rebalancer_.get();
  KafkaClientSpec dead_letters;
  dead_letters.role = "dead-letter producer";
  dead_letters.properties = {
      {"bootstrap.servers", o.bootstrap_servers},
      {"client.id", "mds-consumer-dlq"},
      {"enable.idempotence", "true"},
  };
  dead_letters.extra = o.extra;
  dead_letters.deliveries = c->dead_letter_reports_.get();
  // The producer first: a consumer that subscribed joins the group at once.
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> producer = MakeProducer(dead_letters);
  if (!producer.ok()) return producer.status();
  c->dead_letters_ = *std::move(producer);
  absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> consumer =
      MakeConsumer(group, {o.topic});
  if (!consumer.ok()) return consumer.status();
  c->consumer_ = *std::move(consumer);
  c->group_ = std::move(group);
  return c;
}

PriceEventConsumer::~PriceEventConsumer() { Stop(); }

void PriceEventConsumer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void PriceEventConsumer::Stop() {
  if (stopping_.exchange(true)) return;
  stopped_.Notify();
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&consumer_mu_);
  if (consumer_ != nullptr) consumer_->close();  // commits the stored offsets, leaves the group
  dead_letters_->flush(5000);
}

std::vector<PartitionLag> PriceEventConsumer::Lag() const {
  absl::MutexLock client(&consumer_mu_);
  if (consumer_ == nullptr) return {};  // being replaced (Rejoin)
  std::vector<RdKafka::TopicPartition*> partitions;
  {
    absl::MutexLock lock(&assignment_mu_);
    for (const auto& [topic, partition] : assignment_) {
      partitions.push_back(RdKafka::TopicPartition::create(topic, partition));
    }
  }
  std::vector<PartitionLag> out;
  if (partitions.empty()) return out;
  consumer_->position(partitions);  // local: the offset after the last record read
  std::vector<RdKafka::TopicPartition*> unread;
  for (RdKafka::TopicPartition* p : partitions) {
    if (p->offset() < 0) unread.push_back(p);
  }
  if (!unread.empty()) consumer_->committed(unread, 1000);
  for (const RdKafka::TopicPartition* p : partitions) {
    int64_t low = 0, high = -1;
    if (consumer_->get_watermark_offsets(p->topic(), p->partition(), &low, &high) !=
            RdKafka::ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    // No position and no commit: the group reads from the earliest record (auto.offset.reset).
    const int64_t at = p->offset() >= 0 ? p->offset() : low;
    if (at < 0) continue;
    out.push_back({p->topic(), p->partition(), std::max<int64_t>(0, high - at)});
  }
  RdKafka::TopicPartition::destroy(partitions);
  return out;
}

void PriceEventConsumer::Loop() {
  while (!stopping_.load()) {
    std::vector<ConsumedRecord> batch = NextBatch();
    if (failed_) {
      Rejoin();
      continue;
    }
    if (batch.empty()) continue;
    if (!Commit(batch)) return;
  }
}

void PriceEventConsumer::Rejoin() {
  std::string reason;
  const RdKafka::ErrorCode code = consumer_->fatal_error(reason);
  spdlog::error("consumer: the Kafka client failed for good ({}: {}); joining the group again "
                "with a new one",
                RdKafka::err2str(code), reason);
  // Its partitions are gone with it: the handlers forget them, as on a revocation, and the
  // records read since the last stored offsets are read again by whoever gets them.
  for (EventHandler* handler : handlers_) handler->Reset();
  assigned_.store(0);
  {
    absl::MutexLock lock(&assignment_mu_);
    assignment_.clear();
  }
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stopping_.load()) {
    {
      absl::MutexLock lock(&consumer_mu_);
      if (consumer_ != nullptr) {
        consumer_->close();  // a failed client commits nothing; it leaves what it held
        consumer_.reset();
      }
      absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> fresh =
          MakeConsumer(group_, {options_.topic});
      if (fresh.ok()) {
        consumer_ = *std::move(fresh);
        failed_ = false;
        rejoins_.fetch_add(1);
        spdlog::info("consumer: a new Kafka client joined the group");
        return;
      }
      spdlog::warn("consumer: cannot make a new Kafka client yet: {}", fresh.status().ToString());
    }
    if (stopped_.WaitForNotificationWithTimeout(backoff)) return;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

void PriceEventConsumer::FailClientForTesting(const std::string& reason) {
  absl::MutexLock lock(&consumer_mu_);
  rd_kafka_test_fatal_error(consumer_->c_ptr(), RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID,
                            reason.c_str());
}

std::vector<ConsumedRecord> PriceEventConsumer::NextBatch() {
  std::vector<ConsumedRecord> batch;
  const absl::Time deadline = absl::Now() + options_.batch_wait;
  while (batch.size() < options_.max_batch && !stopping_.load()) {
    const absl::Duration left = deadline - absl::Now();
    // Block for the first record; afterwards only gather what is already there.
    const int timeout_ms = batch.empty() ? 100 : static_cast<int>(std::max<int64_t>(
                                                     0, absl::ToInt64Milliseconds(left)));
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(timeout_ms));
    if (revoked_.exchange(false)) {
      // Partitions were revoked inside this call. What was gathered before belongs to the old
      // assignment; its offsets were never stored, so its partitions' owners read it again.
      // A record this same call returned comes after the re-assignment: it is kept, because
      // its partition's position has already moved past it.
      batch.clear();
    }
    if (m->err() == RdKafka::ERR__FATAL) {
      // The client is done for (see Rejoin); what it gathered belongs to a membership that is
      // gone.
      failed_ = true;
      batch.clear();
      return batch;
    }
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (batch.empty()) return batch;
      break;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("consumer: {}", m->errstr());
      break;
    }
    ConsumedRecord r;
    r.topic = m->topic_name();
    r.partition = m->partition();
    r.offset = m->offset();
    if (m->key() != nullptr) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    r.headers = ReadPriceHeaders(*m);
    batch.push_back(std::move(r));
    if (absl::Now() >= deadline) break;
  }
  return batch;
}

bool PriceEventConsumer::Commit(const std::vector<ConsumedRecord>& batch) {
  // Records found unfit here never reach a handler: no retry could average them.
  DecodedBatch decoded = DecodeBatch(batch, absl::Now(), options_.late_window);
  counters_.sealed.fetch_add(decoded.sealed, std::memory_order_relaxed);
  // The same batch is tried until it is committed: its offsets are stored only after that, and
  // storing a later batch's offsets would skip this one. What succeeded is not redone.
  Progress progress(handlers_.size());
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    absl::Status status = WriteOnce(&decoded, &progress);
    if (status.ok() && progress.parked < decoded.rejected.size()) {
      if (DeadLetter(Parked(decoded.rejected.begin() + progress.parked, decoded.rejected.end()))) {
        progress.parked = decoded.rejected.size();
      } else {
        status = absl::UnavailableError("dead-letter topic unreachable");
      }
    }
    if (status.ok()) break;
    if (stopping_.load()) return false;
    spdlog::warn("consumer: batch of {} not written ({}); retrying in {}", batch.size(),
                 status.ToString(), absl::FormatDuration(backoff));
    if (stopped_.WaitForNotificationWithTimeout(backoff)) return false;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
  StoreOffsets(batch);
  counters_.events.fetch_add(static_cast<int64_t>(decoded.prices.size() - progress.isolated));
  counters_.dead_lettered.fetch_add(static_cast<int64_t>(decoded.rejected.size()));
  counters_.batches.fetch_add(1);
  for (EventHandler* handler : handlers_) handler->Committed();
  LogHandled(decoded);
  return true;
}

absl::Status PriceEventConsumer::WriteOnce(DecodedBatch* decoded, Progress* progress) {
  if (progress->all_written) return absl::OkStatus();
  absl::Status status;
  if (progress->refusals < options_.attempts_before_isolating) {
    status = Handle(decoded->prices, &progress->done);
  } else {
    spdlog::error("consumer: batch of {} refused {} times; looking for the events that fail it",
                  decoded->prices.size(), progress->refusals);
    // Stop() must not wait for a search through thousands of events: the batch's offsets are not
    // stored, so whoever owns the partition next redoes it. Parts go to the handlers that have not
    // written the batch; each of them is marked done only once the whole search is over.
    const std::vector<bool> before = progress->done;
    EventsProcessor handle = [this, &before](const std::vector<StoredPrice>& part) {
      if (stopping_.load()) return absl::CancelledError("stopping");
      std::vector<bool> part_done = before;
      return Handle(part, &part_done);
    };
    absl::StatusOr<std::vector<FailedEvent>> failed = IsolateFailingEvents(decoded->prices, handle);
    status = failed.status();
    if (failed.ok()) {
      for (FailedEvent& f : *failed) {
        decoded->rejected.emplace_back(decoded->sources[f.index], f.status.ToString());
      }
      progress->isolated = failed->size();
      progress->done.assign(handlers_.size(), true);
    }
  }
  if (status.ok()) {
    progress->all_written = true;
  } else if (!IsTransientFailure(status) && !absl::IsCancelled(status)) {
    ++progress->refusals;
  }
  return status;
}

void PriceEventConsumer::StoreOffsets(const std::vector<ConsumedRecord>& batch) {
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const ConsumedRecord& r : batch) {
    auto& offset = next[{r.topic, r.partition}];
    offset = std::max(offset, r.offset + 1);
  }
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [tp, offset] : next) {
    offsets.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, offset));
  }
  consumer_->offsets_store(offsets);
  RdKafka::TopicPartition::destroy(offsets);
}

void PriceEventConsumer::LogHandled(const DecodedBatch& decoded) const {
  const bool debug = spdlog::default_logger_raw()->should_log(spdlog::level::debug);
  absl::flat_hash_set<const ConsumedRecord*> parked;
  for (const auto& [r, reason] : decoded.rejected) parked.insert(r);
  for (size_t i = 0; i < decoded.prices.size(); ++i) {
    const ConsumedRecord& r = *decoded.sources[i];
    const RequestContext& origin = r.headers.origin;
    // At 100k events a second a line each is too much; the events of REST and gRPC calls are
    // logged at info (sampled as the calls are), the rest (polling runs) at debug.
    spdlog::level::level_enum level = spdlog::level::debug;
    if (!origin.request_id.empty() && SampledForLog(origin, CallLogSampleRate())) {
      level = spdlog::level::info;
    } else if (!debug) {
      continue;
    }
    if (parked.contains(&r)) continue;
    ScopedRequestContext scope(origin);
    LogWithFields(level, "price event handled",
                  {LogField("symbol", decoded.prices[i].quote.symbol),
                   LogField("price_point_id", decoded.prices[i].price_point_id),
                   LogField("partition", r.partition), LogField("offset", r.offset)});
  }
}

absl::Status PriceEventConsumer::Handle(const std::vector<StoredPrice>& prices,
                                        std::vector<bool>* done) {
  // The handlers write to their own stores, so they run side by side: the batch costs the
  // slowest handler's time, not the sum.
  std::vector<absl::Status> statuses(handlers_.size());
  absl::BlockingCounter others(static_cast<int>(handlers_.size()) - 1);
  for (size_t i = 1; i < handlers_.size(); ++i) {
    if ((*done)[i]) {
      others.DecrementCount();
      continue;
    }
    helpers_->Schedule([this, &prices, &statuses, &others, i] {
      statuses[i] = handlers_[i]->Handle(prices);
      others.DecrementCount();
    });
  }
  if (!handlers_.empty() && !(*done)[0]) statuses[0] = handlers_[0]->Handle(prices);
  others.Wait();
  absl::Status first = absl::OkStatus();
  for (size_t i = 0; i < handlers_.size(); ++i) {
    if ((*done)[i]) continue;
    if (statuses[i].ok()) {
      (*done)[i] = true;
    } else if (first.ok()) {
      first = absl::Status(statuses[i].code(),
                           absl::StrCat(handlers_[i]->name(), ": ", statuses[i].message()));
    }
  }
  return first;
}

bool PriceEventConsumer::DeadLetter(const Parked& records) {
  const int64_t failures_before = dead_letter_failures_.load();
  for (const auto& [r, reason] : records) {
    ScopedRequestContext scope(r->headers.origin);  // the warning names the request, if any
    spdlog::warn("consumer: record {}[{}]@{} parked on {}: {}", r->topic, r->partition, r->offset,
                 options_.dead_letter_topic, reason);
    RdKafka::Headers* headers = RdKafka::Headers::create();
    headers->add("x-dead-letter-reason", reason);
    headers->add("x-original-topic", r->topic);
    headers->add("x-original-partition", std::to_string(r->partition));
    headers->add("x-original-offset", std::to_string(r->offset));
    WritePriceHeaders(r->headers, headers);
    RdKafka::ErrorCode err = dead_letters_->produce(
        options_.dead_letter_topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(r->value.data()), r->value.size(), r->key.data(), r->key.size(), 0,
        headers, nullptr);
    if (err != RdKafka::ERR_NO_ERROR) {
      delete headers;
      spdlog::error("consumer: cannot queue dead letter: {}", RdKafka::err2str(err));
      return false;
    }
  }
  return dead_letters_->flush(10000) == RdKafka::ERR_NO_ERROR &&
         dead_letter_failures_.load() == failures_before;
}

}  // namespace marketdata
