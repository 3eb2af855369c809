// PeriodicLoop: the one way a background task runs every so often and stops. `tick` runs on the
// loop's own thread, first at once (or, with StartAfterAPeriod, a period from now: for a task whose
// first run the caller already made) and then `period` after the end of the previous run; Stop()
// wakes a waiting loop at once, waits for a running tick to end, and is idempotent.
#ifndef MARKETDATA_SERVICES_COMMON_RUNTIME_PERIODIC_LOOP_H_
#define MARKETDATA_SERVICES_COMMON_RUNTIME_PERIODIC_LOOP_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace marketdata {

class PeriodicLoop {
 public:
  PeriodicLoop(absl::Duration period, std::function<void()> tick)
      : period_(period), tick_(std::move(tick)) {}
  ~PeriodicLoop() { Stop(); }
  PeriodicLoop(const PeriodicLoop&) = delete;
  PeriodicLoop& operator=(const PeriodicLoop&) = delete;

  void Start();
  void StartAfterAPeriod();
  void Stop();

 private:
  const absl::Duration period_;
  const std::function<void()> tick_;
  absl::Notification stop_;
  std::thread thread_;

  void Run(bool at_once);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_RUNTIME_PERIODIC_LOOP_H_
