#include "services/pricing/fetch_lanes.h"

#include <utility>

#include "absl/time/clock.h"

namespace marketdata {

ThreadPool& FetchLanes::Lane(absl::string_view provider) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<ThreadPool>& lane = lanes_[provider];
  if (lane == nullptr) lane = std::make_unique<ThreadPool>(options_.threads, options_.max_queued);
  return *lane;
}

bool FetchLanes::TrySchedule(absl::string_view provider, Fetch fetch) {
  const absl::Time deadline = absl::Now() + options_.budget;
  std::function<void()> work = [fetch = std::move(fetch), deadline] { fetch(deadline); };
  return Lane(provider).TrySchedule(work);
}

void FetchLanes::Stop() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, lane] : lanes_) lane->Stop();
}

}  // namespace marketdata
