// Fan-out of live updates to server-streaming gRPC calls.
//
// A slow client must neither make the publisher (a Kafka consumer thread) wait nor build an
// unbounded queue. Each stream therefore has at most one write in flight; updates published
// meanwhile wait in a map keyed by a conflation key (for example "AAPL" for prices, "AAPL/20" for
// averages), where a newer value replaces the one still waiting. A client that falls behind thus
// receives the newest value of every key instead of the whole history.
//
// Use it from a callback-API handler:
//
//   grpc::ServerWriteReactor<MovingAverage>* StreamMovingAverages(
//       grpc::CallbackServerContext* ctx, const StreamMovingAveragesRequest* request) override {
//     return hub_.Subscribe(ctx, {request->symbols().begin(), request->symbols().end()});
//   }
//
// and feed it with hub_.Publish(symbol, key, message). Call Shutdown() before stopping the server
// (or stop it with a deadline), or open streams keep grpc::Server::Shutdown() waiting.
#ifndef MARKETDATA_SERVICES_STREAMING_STREAM_HUB_H_
#define MARKETDATA_SERVICES_STREAMING_STREAM_HUB_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"

namespace marketdata {

template <typename Message>
class StreamHub {
 public:
  // Enough for every symbol and window a client may follow; past it the oldest waiting key is
  // dropped, so memory per stream stays bounded even for an "all symbols" client that never reads.
  static constexpr size_t kDefaultMaxPending = 10000;
  // Open streams at once; one more is refused with RESOURCE_EXHAUSTED, so clients that never
  // close cannot take every thread and byte of the process.
  static constexpr size_t kDefaultMaxStreams = 1000;

  explicit StreamHub(size_t max_streams = kDefaultMaxStreams,
                     size_t max_pending = kDefaultMaxPending)
      : core_(std::make_shared<Core>(std::max<size_t>(max_pending, 1))),
        max_streams_(max_streams) {}
  // Finishes the streams still open. They may outlive the hub: each holds the shared state.
  ~StreamHub() { Shutdown(); }

  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Hands `message` to every open stream following `symbol` (or every symbol) whose filter
  // accepts it. Never waits for a client. Thread-safe; filters run on the calling thread.
  void Publish(const std::string& symbol, const std::string& key, const Message& message) {
    absl::ReaderMutexLock lock(&core_->mu);
    if (core_->shut_down) return;
    // One copy shared by all streams, made only if some stream wants the message.
    std::shared_ptr<const Message> shared;
    auto offer = [&](Subscriber* subscriber) {
      if (!subscriber->Wants(message)) return;
      if (shared == nullptr) shared = std::make_shared<const Message>(message);
      subscriber->Offer(key, shared);
    };
    if (auto it = core_->by_symbol.find(symbol); it != core_->by_symbol.end()) {
      for (Subscriber* subscriber : it->second) offer(subscriber);
    }
    for (Subscriber* subscriber : core_->any_symbol) offer(subscriber);
  }

  // Returns the reactor a callback handler hands to gRPC. An empty `symbols` follows every
  // symbol. `extra_filter` (may be null) further selects messages, for example by window.
  // After Shutdown() the stream ends at once with UNAVAILABLE; with `max_streams` streams
  // already open, with RESOURCE_EXHAUSTED.
  grpc::ServerWriteReactor<Message>* Subscribe(
      grpc::CallbackServerContext* /*ctx*/, std::vector<std::string> symbols,
      std::function<bool(const Message&)> extra_filter = nullptr) {
    std::sort(symbols.begin(), symbols.end());
    symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
    auto* subscriber = new Subscriber(core_, std::move(symbols), std::move(extra_filter));
    grpc::Status refused = ShuttingDown();
    {
      absl::MutexLock lock(&core_->mu);
      if (!core_->shut_down && core_->all.size() < max_streams_) {
        // Headers go out now so a client (the HTTP gateway) learns the stream is accepted
        // without waiting for the first update.
        subscriber->StartSendInitialMetadata();
        core_->Register(subscriber);
        return subscriber;
      }
      if (!core_->shut_down) {
        refused = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "too many open streams (" + std::to_string(max_streams_) +
                                   "); retry later");
      }
    }
    subscriber->End(refused);
    return subscriber;
  }

  // Ends every open stream with UNAVAILABLE (clients should reconnect, possibly elsewhere) and
  // refuses new ones. Idempotent.
  void Shutdown() {
    absl::MutexLock lock(&core_->mu);
    core_->shut_down = true;
    for (Subscriber* subscriber : core_->all) subscriber->End(ShuttingDown());
  }

  // Streams registered and not yet done.
  size_t subscriber_count() const {
    absl::ReaderMutexLock lock(&core_->mu);
    return core_->all.size();
  }
  // Messages replaced by a newer value of the same key before they could be written.
  uint64_t conflated_count() const { return core_->conflated.load(std::memory_order_relaxed); }
  // Messages written successfully.
  uint64_t delivered_count() const { return core_->delivered.load(std::memory_order_relaxed); }
  // Messages dropped because a stream already had max_pending keys waiting.
  uint64_t dropped_count() const { return core_->dropped.load(std::memory_order_relaxed); }

 private:
  class Subscriber;

  static grpc::Status ShuttingDown() {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
  }

  // Shared by the hub and its streams, so a stream finishing after the hub is gone still has
  // somewhere to unregister. Lock order: Core::mu before Subscriber::mu_.
  struct Core {
    explicit Core(size_t max_pending) : max_pending(max_pending) {}

    void Register(Subscriber* subscriber) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      all.insert(subscriber);
      if (subscriber->symbols().empty()) any_symbol.push_back(subscriber);
      for (const std::string& symbol : subscriber->symbols()) {
        by_symbol[symbol].push_back(subscriber);
      }
    }

    void Unregister(Subscriber* subscriber) ABSL_LOCKS_EXCLUDED(mu) {
      absl::MutexLock lock(&mu);
      if (all.erase(subscriber) == 0) return;  // refused at Subscribe()
      if (subscriber->symbols().empty()) EraseFrom(any_symbol, subscriber);
      for (const std::string& symbol : subscriber->symbols()) {
        auto it = by_symbol.find(symbol);
        if (it == by_symbol.end()) continue;
        EraseFrom(it->second, subscriber);
        if (it->second.empty()) by_symbol.erase(it);
      }
    }

    static void EraseFrom(std::vector<Subscriber*>& list, Subscriber* subscriber) {
      auto it = std::find(list.begin(), list.end(), subscriber);
      if (it == list.end()) return;
      *it = list.back();
      list.pop_back();
    }

    const size_t max_pending;
    mutable absl::Mutex mu;
    bool shut_down ABSL_GUARDED_BY(mu) = false;
    absl::flat_hash_set<Subscriber*> all ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, std::vector<Subscriber*>> by_symbol ABSL_GUARDED_BY(mu);
    std::vector<Subscriber*> any_symbol ABSL_GUARDED_BY(mu);
    std::atomic<uint64_t> conflated{0};
    std::atomic<uint64_t> delivered{0};
    std::atomic<uint64_t> dropped{0};
  };

  // One open stream. gRPC owns it from Subscribe() until OnDone(). The hub only touches it under
  // Core::mu, and OnDone() unregisters under that lock before deleting, so a concurrent Publish()
  // or Shutdown() never sees a deleted stream. gRPC runs OnWriteDone/OnCancel/OnDone on its own
  // threads, never inside StartWrite()/Finish(), so calling those with mu_ held cannot deadlock.
  class Subscriber final : public grpc::ServerWriteReactor<Message> {
   public:
    Subscriber(std::shared_ptr<Core> core, std::vector<std::string> symbols,
               std::function<bool(const Message&)> filter)
        : core_(std::move(core)), symbols_(std::move(symbols)), filter_(std::move(filter)) {}

    const std::vector<std::string>& symbols() const { return symbols_; }
    bool Wants(const Message& message) const { return filter_ == nullptr || filter_(message); }

    void Offer(const std::string& key, const std::shared_ptr<const Message>& message)
        ABSL_LOCKS_EXCLUDED(mu_) {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (!writing_) {
        StartWriteLocked(message);
        return;
      }
      if (auto it = pending_index_.find(key); it != pending_index_.end()) {
        // Keeps the key's place in line, so a hot key cannot push the others back forever.
        it->second->second = message;
        core_->conflated.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (pending_.size() >= core_->max_pending) {
        pending_index_.erase(pending_.front().first);
        pending_.pop_front();
        core_->dropped.fetch_add(1, std::memory_order_relaxed);
      }
      pending_.emplace_back(key, message);
      // The view points into the list node, which stays put until erased after its index entry.
      pending_index_.emplace(pending_.back().first, std::prev(pending_.end()));
    }

    // Finishes the stream with `status` unless it is already finishing. The write in flight, if
    // any, completes first: gRPC wants no write outstanding when Finish is called.
    void End(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
      pending_index_.clear();
      pending_.clear();
      if (writing_) {
        finish_after_write_ = std::move(status);
      } else {
        this->Finish(std::move(status));
      }
    }

    void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      in_flight_.reset();
      if (ok) core_->delivered.fetch_add(1, std::memory_order_relaxed);
      if (finish_after_write_.has_value()) {
        this->Finish(*std::move(finish_after_write_));
        finish_after_write_.reset();
        return;
      }
      if (finished_) return;
      if (!ok) {  // the call is broken (client gone); nothing more can be written
        finished_ = true;
        pending_index_.clear();
        pending_.clear();
        this->Finish(grpc::Status::CANCELLED);
        return;
      }
      if (pending_.empty()) return;
      std::shared_ptr<const Message> next = std::move(pending_.front().second);
      pending_index_.erase(pending_.front().first);
      pending_.pop_front();
      StartWriteLocked(std::move(next));
    }

    void OnCancel() override { End(grpc::Status::CANCELLED); }

    void OnDone() override {
      core_->Unregister(this);
      delete this;
    }

   private:
    void StartWriteLocked(std::shared_ptr<const Message> message)
        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      // Held until OnWriteDone: gRPC reads the message through the pointer until then.
      in_flight_ = std::move(message);
      writing_ = true;
      this->StartWrite(in_flight_.get());
    }

    const std::shared_ptr<Core> core_;
    const std::vector<std::string> symbols_;
    const std::function<bool(const Message&)> filter_;

    absl::Mutex mu_;
    bool writing_ ABSL_GUARDED_BY(mu_) = false;
    // Set once Finish has been called or is due; later updates are ignored.
    bool finished_ ABSL_GUARDED_BY(mu_) = false;
    std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
    std::shared_ptr<const Message> in_flight_ ABSL_GUARDED_BY(mu_);
    // Waiting updates in first-arrival order, at most one per key.
    std::list<std::pair<std::string, std::shared_ptr<const Message>>> pending_
        ABSL_GUARDED_BY(mu_);
    absl::flat_hash_map<absl::string_view,
                        typename std::list<std::pair<std::string,
                                                     std::shared_ptr<const Message>>>::iterator>
        pending_index_ ABSL_GUARDED_BY(mu_);
  };

  const std::shared_ptr<Core> core_;
  const size_t max_streams_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STREAMING_STREAM_HUB_H_
