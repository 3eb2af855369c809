// ApiKeyStore: API keys in PostgreSQL (table api_keys), found by the hash of the key.
#ifndef MARKETDATA_SERVICES_STORAGE_API_KEY_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_API_KEY_STORE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/domain/api_key.h"
#include "services/storage/database.h"

namespace marketdata {

class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;

  // Stores a key by its hash. ALREADY_EXISTS when an active key has that name.
  virtual absl::StatusOr<ApiKey> Create(const std::string& name, const std::string& key_hash,
                                        ScopeSet scopes, const KeyQuotas& quotas) = 0;
  // Every key, revoked ones included, oldest first.
  virtual absl::StatusOr<std::vector<ApiKey>> List() = 0;
  // Every key not revoked, with its hash.
  virtual absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> ListActive() = 0;
  // The active key with this hash, if any.
  virtual absl::StatusOr<std::optional<ApiKey>> FindActive(const std::string& key_hash) = 0;
  // Revokes the active key called `name`; NOT_FOUND when there is none.
  virtual absl::StatusOr<ApiKey> Revoke(const std::string& name) = 0;
  // Changes the quotas of the active key called `name` (unset fields keep their value).
  virtual absl::StatusOr<ApiKey> SetQuotas(const std::string& name, const KeyQuotas& quotas) = 0;
};

class PostgresApiKeyStore final : public ApiKeyStore {
 public:
  explicit PostgresApiKeyStore(Database& db) : db_(db) {}

  absl::StatusOr<ApiKey> Create(const std::string& name, const std::string& key_hash,
                                ScopeSet scopes, const KeyQuotas& quotas) override;
  absl::StatusOr<std::vector<ApiKey>> List() override;
  absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> ListActive() override;
  absl::StatusOr<std::optional<ApiKey>> FindActive(const std::string& key_hash) override;
  absl::StatusOr<ApiKey> Revoke(const std::string& name) override;
  absl::StatusOr<ApiKey> SetQuotas(const std::string& name, const KeyQuotas& quotas) override;

 private:
  Database& db_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_API_KEY_STORE_H_
