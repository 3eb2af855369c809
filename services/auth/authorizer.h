// Authorizer: who is calling, and may they? Every gRPC method of the services asks it first.
//
// When keys are not required every call is an anonymous caller with every scope, as the service
// this one replaces behaved. When they are, a call must carry an active key (metadata
// authorization: Bearer <key>, or x-api-key) with the scope the method needs:
//   no key, or one that is unknown or revoked   UNAUTHENTICATED
//   a key without the scope                     PERMISSION_DENIED
//   over the key's requests a minute            RESOURCE_EXHAUSTED, with retry advice
// Keys are read from PostgreSQL every `refresh` (a revoked key is refused from the next reload
// on), and a key not yet known is looked up at once, so a new key works on its first call. Those
// lookups are rate limited (`unknown_lookups_per_minute`): a flood of made-up keys costs the
// database nothing beyond it, and a new key refused meanwhile is known from the next reload.
#ifndef MARKETDATA_SERVICES_AUTH_AUTHORIZER_H_
#define MARKETDATA_SERVICES_AUTH_AUTHORIZER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "services/common/runtime/periodic_loop.h"
#include "services/domain/api_key.h"
#include "services/common/runtime/token_bucket.h"
#include "services/storage/api_key_store.h"

namespace marketdata {

struct AuthOptions {
  bool required = false;
  // Defaults of the per-key quotas; 0: no limit.
  int requests_per_minute = 0;
  int max_jobs = 0;
  int max_symbols = 0;
  absl::Duration refresh = absl::Milliseconds(500);
  double unknown_lookups_per_minute = 6000;
  std::function<absl::Time()> clock;  // for tests; absl::Now by default
};

// The caller of one call.
struct Caller {
  std::optional<int64_t> key_id;  // unset: keys are not required
  std::string name;               // the key's name, "anonymous" without keys
  ScopeSet scopes;
  // The quotas in force for this caller (the key's own, else the defaults); 0: no limit.
  int max_jobs = 0;
  int max_symbols = 0;

  bool Has(Scope scope) const { return scopes.Has(scope); }
};

class Authorizer {
 public:
  // `store` may be null only when keys are not required.
  Authorizer(ApiKeyStore* store, AuthOptions options);

  bool required() const { return options_.required; }

  // The caller of `context`'s call, if allowed `scope`.
  absl::StatusOr<Caller> Authorize(const grpc::ServerContextBase& context, Scope scope);
  // The same from the two credentials as sent (for tests and other transports).
  absl::StatusOr<Caller> Authorize(absl::string_view authorization, absl::string_view x_api_key,
                                   Scope scope);

  // Reloads the active keys; run every options.refresh by the process.
  absl::Status Refresh();
  absl::Duration refresh_interval() const { return options_.refresh; }

 private:
  struct Entry {
    ApiKey key;
    std::shared_ptr<TokenBucket> requests;  // null: no limit
  };
  absl::StatusOr<Entry> Find(const std::string& hash);
  Entry MakeEntry(ApiKey key, const Entry* previous);
  int RequestsPerMinute(const ApiKey& key) const;

  ApiKeyStore* const store_;
  const AuthOptions options_;
  TokenBucket unknown_lookups_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> keys_ ABSL_GUARDED_BY(mu_);  // by hash
};

// Loads `auth`'s keys now and, while keys are required, every refresh_interval() after (a failed
// reload is logged; the keys known stay). The loop must not outlive `auth`; its destructor
// stops it. Fails when the first load does.
absl::StatusOr<std::unique_ptr<PeriodicLoop>> StartKeyReloads(Authorizer& auth);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AUTH_AUTHORIZER_H_
