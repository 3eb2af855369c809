// SharedCalls: concurrent requests for the same key (a provider and a symbol) share one call.
// A request never shares a call that began before the time it accepts (`not_before`: by default
// its arrival), so it never gets a result older than it asked for: it joins the call in flight
// only if that began late enough, and otherwise waits for the next call of its key, which starts
// when the one in flight ends and serves every request that arrived meanwhile. Under any number of concurrent requests for
// one key there is one call in flight and at most one waiting, so a provider is asked about once
// a round trip instead of once a request.
#ifndef MARKETDATA_SERVICES_PRICING_SHARED_CALLS_H_
#define MARKETDATA_SERVICES_PRICING_SHARED_CALLS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/domain/quote.h"

namespace marketdata {

class SharedCalls {
 public:
  using Result = absl::StatusOr<StoredPrice>;
  using Done = std::function<void(Result)>;
  // Makes one call: asks whether every request waiting for it gave up (`abandoned`), and hands
  // its result to `finish` exactly once, on any thread.
  using Call = std::function<void(std::function<bool()> abandoned, Done finish)>;

  // `done` gets the result of the call of `key` in flight if it began at or after `not_before`,
  // else of the next one; `call` makes it, if this request is the first of that call (the calls
  // of one key must be interchangeable). `cancelled` (may be empty) tells whether this request's
  // client gave up.
  void Join(const std::string& key, Done done, std::function<bool()> cancelled, Call call,
            absl::Time not_before = absl::InfiniteFuture());

  // Calls made, and requests that shared a call another request started.
  int64_t calls() const;
  int64_t shared() const;

 private:
  struct Waiter {
    Done done;
    std::function<bool()> cancelled;
  };
  struct Group {
    std::vector<Waiter> waiters;
    absl::Time started = absl::InfiniteFuture();  // set when the call begins
    bool closed = false;  // every waiter gave up: nobody joins it any more
  };
  struct Key {
    std::shared_ptr<Group> running;  // the call in flight
    std::shared_ptr<Group> next;     // the requests that arrived since it began
    Call call;                       // how the next call is made
  };
  void Start(const std::string& key, std::shared_ptr<Group> group, Call call);
  void Finish(const std::string& key, const std::shared_ptr<Group>& group, Result result);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Key> keys_ ABSL_GUARDED_BY(mu_);
  int64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t shared_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PRICING_SHARED_CALLS_H_
