#include "services/auth/fake_api_key_store.h"

#include "absl/time/clock.h"

namespace marketdata {

absl::StatusOr<ApiKey> FakeApiKeyStore::Create(const std::string& name,
                                               const std::string& key_hash, ScopeSet scopes,
                                               const KeyQuotas& quotas) {
  absl::MutexLock lock(&mu_);
  if (!fail_.ok()) return fail_;
  for (const auto& [hash, key] : keys_) {
    if (key.name == name && !key.revoked_at.has_value()) {
      return absl::AlreadyExistsError("an API key called " + name + " already exists");
    }
  }
  ApiKey key;
  key.id = static_cast<int64_t>(keys_.size()) + 1;
  key.name = name;
  key.scopes = scopes;
  key.quotas = quotas;
  key.created_at = absl::Now();
  keys_.emplace_back(key_hash, key);
  return key;
}

absl::StatusOr<std::vector<ApiKey>> FakeApiKeyStore::List() {
  absl::MutexLock lock(&mu_);
  if (!fail_.ok()) return fail_;
  std::vector<ApiKey> keys;
  for (const auto& [hash, key] : keys_) keys.push_back(key);
  return keys;
}

absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> FakeApiKeyStore::ListActive() {
  absl::MutexLock lock(&mu_);
  if (!fail_.ok()) return fail_;
  std::vector<std::pair<std::string, ApiKey>> active;
  for (const auto& entry : keys_) {
    if (!entry.second.revoked_at.has_value()) active.push_back(entry);
  }
  return active;
}

absl::StatusOr<std::optional<ApiKey>> FakeApiKeyStore::FindActive(const std::string& key_hash) {
  absl::MutexLock lock(&mu_);
  ++lookups_;
  if (!fail_.ok()) return fail_;
  for (const auto& [hash, key] : keys_) {
    if (hash == key_hash && !key.revoked_at.has_value()) return std::optional<ApiKey>(key);
  }
  return std::optional<ApiKey>();
}

absl::StatusOr<ApiKey> FakeApiKeyStore::Revoke(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (!fail_.ok()) return fail_;
  for (auto& [hash, key] : keys_) {
    if (key.name == name && !key.revoked_at.has_value()) {
      key.revoked_at = absl::Now();
      return key;
    }
  }
  return absl::NotFoundError("no active API key called " + name);
}

absl::StatusOr<ApiKey> FakeApiKeyStore::SetQuotas(const std::string& name,
                                                  const KeyQuotas& quotas) {
  absl::MutexLock lock(&mu_);
  if (!fail_.ok()) return fail_;
  for (auto& [hash, key] : keys_) {
    if (key.name == name && !key.revoked_at.has_value()) {
      if (quotas.requests_per_minute) key.quotas.requests_per_minute = quotas.requests_per_minute;
      if (quotas.max_jobs) key.quotas.max_jobs = quotas.max_jobs;
      if (quotas.max_symbols) key.quotas.max_symbols = quotas.max_symbols;
      return key;
    }
  }
  return absl::NotFoundError("no active API key called " + name);
}

int FakeApiKeyStore::lookups() const {
  absl::MutexLock lock(&mu_);
  return lookups_;
}

void FakeApiKeyStore::Fail(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(status);
}

}  // namespace marketdata
