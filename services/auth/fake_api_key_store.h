// An in-memory ApiKeyStore for tests; counts lookups so tests can see the cache at work.
#ifndef MARKETDATA_SERVICES_AUTH_FAKE_API_KEY_STORE_H_
#define MARKETDATA_SERVICES_AUTH_FAKE_API_KEY_STORE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/storage/api_key_store.h"

namespace marketdata {

class FakeApiKeyStore final : public ApiKeyStore {
 public:
  absl::StatusOr<ApiKey> Create(const std::string& name, const std::string& key_hash,
                                ScopeSet scopes, const KeyQuotas& quotas) override;
  absl::StatusOr<std::vector<ApiKey>> List() override;
  absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> ListActive() override;
  absl::StatusOr<std::optional<ApiKey>> FindActive(const std::string& key_hash) override;
  absl::StatusOr<ApiKey> Revoke(const std::string& name) override;
  absl::StatusOr<ApiKey> SetQuotas(const std::string& name, const KeyQuotas& quotas) override;

  int lookups() const;
  // Every call fails with `status` while it is not OK.
  void Fail(absl::Status status);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, ApiKey>> keys_ ABSL_GUARDED_BY(mu_);  // hash, key
  int lookups_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AUTH_FAKE_API_KEY_STORE_H_
