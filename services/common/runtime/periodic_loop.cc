#include "services/common/runtime/periodic_loop.h"

namespace marketdata {

void PeriodicLoop::Start() { Run(/*at_once=*/true); }

void PeriodicLoop::StartAfterAPeriod() { Run(/*at_once=*/false); }

void PeriodicLoop::Run(bool at_once) {
  thread_ = std::thread([this, at_once] {
    if (!at_once && stop_.WaitForNotificationWithTimeout(period_)) return;
    do {
      tick_();
    } while (!stop_.WaitForNotificationWithTimeout(period_));
  });
}

void PeriodicLoop::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace marketdata
