// FakePublisher: an in-memory PriceEventPublisher for tests. Keeps every price it is handed, with
// the request id of the thread that handed it over, and acknowledges each at once unless told
// not to (a broker that never answers). Thread-safe.
#ifndef MARKETDATA_SERVICES_EVENTS_FAKE_PUBLISHER_H_
#define MARKETDATA_SERVICES_EVENTS_FAKE_PUBLISHER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/common/logging/request_context.h"
#include "services/events/publisher.h"

namespace marketdata {

class FakePublisher final : public PriceEventPublisher {
 public:
  void Publish(const StoredPrice& price) override {
    absl::MutexLock lock(&mu_);
    published_.push_back(price);
    published_for_.push_back(CurrentRequestContext().request_id);
    if (acknowledge_) acknowledged_.push_back(price.price_point_id);
  }
  std::vector<int64_t> TakeAcknowledged() override {
    absl::MutexLock lock(&mu_);
    std::vector<int64_t> out;
    out.swap(acknowledged_);
    return out;
  }

  // False: the broker acknowledges nothing published from now on.
  void set_acknowledge(bool acknowledge) {
    absl::MutexLock lock(&mu_);
    acknowledge_ = acknowledge;
  }

  // The broker acknowledges `price_point_id`, published by someone else (a request's fresh event).
  void AddAcknowledged(int64_t price_point_id) {
    absl::MutexLock lock(&mu_);
    acknowledged_.push_back(price_point_id);
  }

  size_t published_count() const {
    absl::MutexLock lock(&mu_);
    return published_.size();
  }
  // Every price published, in order.
  std::vector<StoredPrice> published() const {
    absl::MutexLock lock(&mu_);
    return published_;
  }
  // Their price point ids.
  std::vector<int64_t> published_ids() const {
    absl::MutexLock lock(&mu_);
    std::vector<int64_t> ids;
    for (const StoredPrice& price : published_) ids.push_back(price.price_point_id);
    return ids;
  }
  // The request id of the thread that published each ("" outside a request).
  std::vector<std::string> published_for() const {
    absl::MutexLock lock(&mu_);
    return published_for_;
  }

 private:
  mutable absl::Mutex mu_;
  bool acknowledge_ ABSL_GUARDED_BY(mu_) = true;
  std::vector<StoredPrice> published_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> published_for_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> acknowledged_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_FAKE_PUBLISHER_H_
