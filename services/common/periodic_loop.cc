#include "services/common/periodic_loop.h"

namespace marketdata {

void PeriodicLoop::Start() {
  thread_ = std::thread([this] {
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
