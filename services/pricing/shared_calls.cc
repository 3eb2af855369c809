#include "services/pricing/shared_calls.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace marketdata {

void SharedCalls::Join(const std::string& key, Done done, std::function<bool()> cancelled,
                       Call call, absl::Time not_before) {
  std::shared_ptr<Group> start;
  {
    absl::MutexLock lock(&mu_);
    // Taken under the lock, so that a call counted as begun before this arrival is not joined.
    const absl::Time now = absl::Now();
    not_before = std::min(not_before, now);
    Key& k = keys_[key];
    if (k.running == nullptr) {
      k.running = std::make_shared<Group>();
      k.running->started = now;
      start = k.running;
      ++calls_;
    } else if (k.running->started >= not_before && !k.running->closed) {
      // The call in flight began late enough for this request: it shares it.
      ++shared_;
      k.running->waiters.push_back({std::move(done), std::move(cancelled)});
      return;
    } else if (k.next == nullptr) {
      k.next = std::make_shared<Group>();
      k.call = call;
    } else {
      ++shared_;
    }
    (start != nullptr ? start : k.next)->waiters.push_back({std::move(done), std::move(cancelled)});
  }
  if (start != nullptr) Start(key, std::move(start), std::move(call));
}

void SharedCalls::Start(const std::string& key, std::shared_ptr<Group> group, Call call) {
  // Requests may still join a running call (see Join), so its waiters are read under the lock.
  // Once every one of them gave up the call is closed: a later request does not join a call that
  // will answer CANCELLED.
  std::function<bool()> abandoned = [this, group] {
    absl::MutexLock lock(&mu_);
    for (const Waiter& w : group->waiters) {
      if (!w.cancelled || !w.cancelled()) return false;
    }
    group->closed = true;
    return true;
  };
  call(std::move(abandoned),
       [this, key, group](Result result) { Finish(key, group, std::move(result)); });
}

void SharedCalls::Finish(const std::string& key, const std::shared_ptr<Group>& group,
                         Result result) {
  std::shared_ptr<Group> next;
  Call call;
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(key);
    if (it != keys_.end() && it->second.running == group) {
      if (it->second.next != nullptr) {
        next = std::move(it->second.next);
        call = std::move(it->second.call);
        next->started = absl::Now();
        it->second.running = next;
        ++calls_;
      } else {
        keys_.erase(it);
      }
    }
  }
  // The next call first: its provider call should not wait for these answers to be sent.
  if (next != nullptr) Start(key, std::move(next), std::move(call));
  for (Waiter& w : group->waiters) w.done(result);
}

int64_t SharedCalls::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int64_t SharedCalls::shared() const {
  absl::MutexLock lock(&mu_);
  return shared_;
}

}  // namespace marketdata
