// ThreadPool: a fixed set of threads running queued work in order of arrival. For calls that may
// block (a provider's HTTP request, a backoff sleep), so they never hold up the threads that
// serve many requests at once.
#ifndef MARKETDATA_SERVICES_COMMON_RUNTIME_THREAD_POOL_H_
#define MARKETDATA_SERVICES_COMMON_RUNTIME_THREAD_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace marketdata {

class ThreadPool {
 public:
  // At most `max_queued` pieces of work wait for a thread (0: no limit); TrySchedule refuses more.
  explicit ThreadPool(int threads, size_t max_queued = 0);
  ~ThreadPool() { Stop(); }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs `work` on a pool thread; after Stop, on the calling thread.
  void Schedule(std::function<void()> work);
  // Like Schedule, but false (and `work` dropped) when `max_queued` pieces already wait: the
  // caller answers "busy" instead of letting the queue, and every caller's wait, grow.
  bool TrySchedule(std::function<void()>& work);
  // Runs everything already scheduled, then joins the threads. Idempotent.
  void Stop();
  // Work waiting for a thread.
  size_t queued() const;

 private:
  void Loop();

  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_RUNTIME_THREAD_POOL_H_
