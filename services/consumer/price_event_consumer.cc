#include "services/consumer/price_event_consumer.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/logging.h"
#include "services/common/proto_time.h"
#include "services/common/request_context.h"
#include "services/consumer/event_checks.h"
#include "services/consumer/isolate_failures.h"
#include "services/events/kafka_config.h"
#include "services/events/price_event.h"
#include "spdlog/spdlog.h"

namespace marketdata {

struct PriceEventConsumer::Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::string content_type;
  // The request the price was fetched for, from the x-request-id and traceparent headers.
  RequestContext origin;
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
      rebalancer_(std::make_unique<Rebalancer>(this)),
      dead_letter_reports_(std::make_unique<DeadLetterReports>(&dead_letter_failures_)) {}

absl::StatusOr<std::unique_ptr<PriceEventConsumer>> PriceEventConsumer::Create(
    ConsumerOptions options, std::vector<EventHandler*> handlers) {
  std::unique_ptr<PriceEventConsumer> c(
      new PriceEventConsumer(std::move(options), std::move(handlers)));
  std::string error;
  absl::StatusOr<std::unique_ptr<RdKafka::Conf>> made = KafkaConf(
      {
      {"bootstrap.servers", c->options_.bootstrap_servers},
      {"group.id", c->options_.group},
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
      },
      c->options_.extra);
  if (!made.ok()) return made.status();
  std::unique_ptr<RdKafka::Conf> conf = *std::move(made);
  if (conf->set("rebalance_cb", c->rebalancer_.get(), error) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(error);
  }
  c->consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (c->consumer_ == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create Kafka consumer: ", error));
  }
  absl::StatusOr<std::unique_ptr<RdKafka::Conf>> made_producer = KafkaConf(
      {
          {"bootstrap.servers", c->options_.bootstrap_servers},
          {"client.id", "mds-consumer-dlq"},
          {"enable.idempotence", "true"},
      },
      c->options_.extra);
  if (!made_producer.ok()) return made_producer.status();
  std::unique_ptr<RdKafka::Conf> pconf = *std::move(made_producer);
  if (pconf->set("dr_cb", c->dead_letter_reports_.get(), error) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(error);
  }
  c->dead_letters_.reset(RdKafka::Producer::create(pconf.get(), error));
  if (c->dead_letters_ == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create Kafka producer: ", error));
  }
  RdKafka::ErrorCode err = c->consumer_->subscribe({c->options_.topic});
  if (err != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("cannot subscribe to ", c->options_.topic, ": ",
                                               RdKafka::err2str(err)));
  }
  return c;
}

PriceEventConsumer::~PriceEventConsumer() { Stop(); }

void PriceEventConsumer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void PriceEventConsumer::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  consumer_->close();  // commits the stored offsets and leaves the group
  dead_letters_->flush(5000);
}

std::vector<PartitionLag> PriceEventConsumer::Lag() const {
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
    std::vector<Record> batch = NextBatch();
    if (batch.empty()) continue;
    if (!Commit(batch)) return;
  }
}

std::vector<PriceEventConsumer::Record> PriceEventConsumer::NextBatch() {
  std::vector<Record> batch;
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
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (batch.empty()) return batch;
      break;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("consumer: {}", m->errstr());
      break;
    }
    Record r;
    r.topic = m->topic_name();
    r.partition = m->partition();
    r.offset = m->offset();
    if (m->key() != nullptr) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    r.content_type = KafkaHeader(*m, kContentTypeHeader);
    r.origin = RequestContext::From(KafkaHeader(*m, kRequestIdKey),
                                    KafkaHeader(*m, kTraceparentKey));
    batch.push_back(std::move(r));
    if (absl::Now() >= deadline) break;
  }
  return batch;
}

bool PriceEventConsumer::Commit(const std::vector<Record>& batch) {
  std::vector<v1::PriceEvent> events;
  std::vector<const Record*> sources;  // sources[i] carried events[i]
  events.reserve(batch.size());
  sources.reserve(batch.size());
  // Records to park, with the reason. Those found before the first write attempt never reach
  // the processor: no retry could average them.
  std::vector<std::pair<const Record*, std::string>> rejected;
  const absl::Time now = absl::Now();
  for (const Record& r : batch) {
    absl::StatusOr<v1::PriceEvent> event = DecodePriceEvent(r.value, r.content_type);
    absl::Status status = event.ok() ? CheckPriceEvent(*event, now) : event.status();
    if (status.ok() && options_.late_window > absl::ZeroDuration() &&
        FromProtoTimestamp(event->timestamp()) < now - options_.late_window) {
      // Sealed: its price is not stored any more, or soon will not be; nothing before the late
      // window changes. Its offset is committed with the batch.
      counters_.sealed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (status.ok()) {
      events.push_back(*std::move(event));
      sources.push_back(&r);
    } else {
      rejected.emplace_back(&r, std::string(status.message()));
    }
  }
  // Retry the same batch until it is fully handled: its offsets are stored only after that,
  // and storing a later batch's offsets would skip this one. What succeeded is not redone: a
  // handler that wrote the batch, the records once parked.
  std::vector<bool> done(handlers_.size(), false);
  bool all_written = false;
  size_t parked = 0;  // rejected[0, parked) are on the dead-letter topic
  size_t isolated = 0;  // events parked because they failed a handler on their own
  int refusals = 0;  // non-transient failures of this batch
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    absl::Status status = absl::OkStatus();
    if (!all_written) {
      if (refusals < options_.attempts_before_isolating) {
        status = Handle(events, &done);
      } else {
        spdlog::error("consumer: batch of {} refused {} times; looking for the events that fail it",
                      batch.size(), refusals);
        // Stop() must not wait for a search through thousands of events: the batch's offsets
        // are not stored, so whoever owns the partition next redoes it. Parts go to the
        // handlers that have not written the batch; each of them marks itself done only once the
        // whole search is over.
        const std::vector<bool> before = done;
        EventsProcessor handle = [this, &before](const std::vector<v1::PriceEvent>& part) {
          if (stopping_.load()) return absl::CancelledError("stopping");
          std::vector<bool> part_done = before;
          return Handle(part, &part_done);
        };
        absl::StatusOr<std::vector<FailedEvent>> failed = IsolateFailingEvents(events, handle);
        status = failed.status();
        if (failed.ok()) {
          for (FailedEvent& f : *failed) {
            rejected.emplace_back(sources[f.index], f.status.ToString());
          }
          isolated = failed->size();
          done.assign(handlers_.size(), true);
        }
      }
      if (status.ok()) {
        all_written = true;
      } else if (!IsTransientFailure(status) && !absl::IsCancelled(status)) {
        ++refusals;
      }
    }
    if (status.ok() && parked < rejected.size()) {
      std::vector<std::pair<const Record*, std::string>> to_park(rejected.begin() + parked,
                                                                 rejected.end());
      if (DeadLetter(to_park)) {
        parked = rejected.size();
      } else {
        status = absl::UnavailableError("dead-letter topic unreachable");
      }
    }
    if (status.ok()) {
      std::map<std::pair<std::string, int32_t>, int64_t> next;
      for (const Record& r : batch) {
        auto& offset = next[{r.topic, r.partition}];
        offset = std::max(offset, r.offset + 1);
      }
      std::vector<RdKafka::TopicPartition*> offsets;
      for (const auto& [tp, offset] : next) {
        offsets.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, offset));
      }
      consumer_->offsets_store(offsets);
      RdKafka::TopicPartition::destroy(offsets);
      counters_.events.fetch_add(static_cast<int64_t>(events.size() - isolated));
      counters_.dead_lettered.fetch_add(static_cast<int64_t>(rejected.size()));
      counters_.batches.fetch_add(1);
      for (EventHandler* handler : handlers_) handler->Committed();
      LogHandled(events, sources, rejected);
      return true;
    }
    if (stopping_.load()) return false;
    spdlog::warn("consumer: batch of {} not written ({}); retrying in {}", batch.size(),
                 status.ToString(), absl::FormatDuration(backoff));
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

void PriceEventConsumer::LogHandled(
    const std::vector<v1::PriceEvent>& events, const std::vector<const Record*>& sources,
    const std::vector<std::pair<const Record*, std::string>>& rejected) const {
  const bool debug = spdlog::default_logger_raw()->should_log(spdlog::level::debug);
  absl::flat_hash_set<const Record*> parked;
  for (const auto& [r, reason] : rejected) parked.insert(r);
  for (size_t i = 0; i < events.size(); ++i) {
    const Record& r = *sources[i];
    // At 100k events a second a line each is too much; the events of REST and gRPC calls are
    // logged at info (sampled as the calls are), the rest (polling runs) at debug.
    spdlog::level::level_enum level = spdlog::level::debug;
    if (!r.origin.request_id.empty() && SampledForLog(r.origin, CallLogSampleRate())) {
      level = spdlog::level::info;
    } else if (!debug) {
      continue;
    }
    if (parked.contains(&r)) continue;
    ScopedRequestContext scope(r.origin);
    LogWithFields(level, "price event handled",
                  {LogField("symbol", events[i].symbol()),
                   LogField("price_point_id", static_cast<int64_t>(events[i].price_point_id())),
                   LogField("partition", r.partition), LogField("offset", r.offset)});
  }
}

absl::Status PriceEventConsumer::Handle(const std::vector<v1::PriceEvent>& events,
                                        std::vector<bool>* done) {
  absl::Status first = absl::OkStatus();
  for (size_t i = 0; i < handlers_.size(); ++i) {
    if ((*done)[i]) continue;
    absl::Status status = handlers_[i]->Handle(events);
    if (status.ok()) {
      (*done)[i] = true;
    } else if (first.ok()) {
      first = absl::Status(status.code(),
                           absl::StrCat(handlers_[i]->name(), ": ", status.message()));
    }
  }
  return first;
}

bool PriceEventConsumer::DeadLetter(
    const std::vector<std::pair<const Record*, std::string>>& records) {
  const int64_t failures_before = dead_letter_failures_.load();
  for (const auto& [r, reason] : records) {
    ScopedRequestContext scope(r->origin);  // the warning names the request, if any
    spdlog::warn("consumer: record {}[{}]@{} parked on {}: {}", r->topic, r->partition, r->offset,
                 options_.dead_letter_topic, reason);
    RdKafka::Headers* headers = RdKafka::Headers::create();
    headers->add("x-dead-letter-reason", reason);
    headers->add("x-original-topic", r->topic);
    headers->add("x-original-partition", std::to_string(r->partition));
    headers->add("x-original-offset", std::to_string(r->offset));
    if (!r->content_type.empty()) headers->add(kContentTypeHeader, r->content_type);
    if (!r->origin.request_id.empty()) headers->add(kRequestIdKey, r->origin.request_id);
    if (!r->origin.traceparent.empty()) headers->add(kTraceparentKey, r->origin.traceparent);
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
