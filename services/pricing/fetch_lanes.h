// FetchLanes: the threads that fetch from providers that may block, one lane per provider. A lane
// has its own threads and its own bounded queue, so a provider that hangs holds only its own
// lane while the others keep answering at full speed. Every fetch has a budget counted from the
// moment it is scheduled: time spent waiting for a thread comes out of it, so a queued request
// still gets its answer within the budget.
#ifndef MARKETDATA_SERVICES_PRICING_FETCH_LANES_H_
#define MARKETDATA_SERVICES_PRICING_FETCH_LANES_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/runtime/thread_pool.h"

namespace marketdata {

struct FetchLaneOptions {
  int threads = 32;          // per provider
  size_t max_queued = 1024;  // fetches waiting for a thread, per provider; more are refused
  absl::Duration budget = absl::Seconds(15);  // from scheduling to the provider's answer
};

class FetchLanes {
 public:
  explicit FetchLanes(FetchLaneOptions options) : options_(options) {}

  // Receives the fetch's deadline: the moment it was scheduled plus the budget.
  using Fetch = std::function<void(absl::Time deadline)>;

  // Runs `fetch` on `provider`'s lane (a lane starts on its first fetch). False, and `fetch`
  // dropped, when that lane already has `max_queued` fetches waiting.
  bool TrySchedule(absl::string_view provider, Fetch fetch);

  // Runs what is queued, then joins every lane's threads. Idempotent.
  void Stop();

 private:
  ThreadPool& Lane(absl::string_view provider);

  const FetchLaneOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<ThreadPool>> lanes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PRICING_FETCH_LANES_H_
