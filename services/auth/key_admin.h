// KeyAdmin: making, listing, revoking API keys and setting their quotas, with the checks every
// way in shares (the gRPC ApiKeyService and the `mds-api keys` command).
#ifndef MARKETDATA_SERVICES_AUTH_KEY_ADMIN_H_
#define MARKETDATA_SERVICES_AUTH_KEY_ADMIN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/domain/api_key.h"
#include "services/storage/api_key_store.h"

namespace marketdata {

struct NewKey {
  ApiKey key;
  std::string secret;  // shown once
};

class KeyAdmin {
 public:
  explicit KeyAdmin(ApiKeyStore& store) : store_(store) {}

  // INVALID_ARGUMENT for a bad name, no or unknown scopes, or a negative quota.
  absl::StatusOr<NewKey> Create(const std::string& name, const std::vector<std::string>& scopes,
                                const KeyQuotas& quotas);
  absl::StatusOr<std::vector<ApiKey>> List() { return store_.List(); }
  absl::StatusOr<ApiKey> Revoke(const std::string& name);
  absl::StatusOr<ApiKey> SetQuotas(const std::string& name, const KeyQuotas& quotas);

 private:
  ApiKeyStore& store_;
};

// Quotas are 0 (no limit) or more.
absl::Status CheckQuotas(const KeyQuotas& quotas);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AUTH_KEY_ADMIN_H_
