#include "services/auth/authorizer.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/auth/key_material.h"
#include "services/common/grpc/errors.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

std::string Metadata(const grpc::ServerContextBase& context, const char* key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(key);
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

Authorizer::Authorizer(ApiKeyStore* store, AuthOptions options)
    : store_(store),
      options_(std::move(options)),
      unknown_lookups_(options_.unknown_lookups_per_minute,
                       std::max(1.0, options_.unknown_lookups_per_minute / 60.0), options_.clock) {}

absl::StatusOr<Caller> Authorizer::Authorize(const grpc::ServerContextBase& context,
                                             Scope scope) {
  if (!options_.required) return Authorize("", "", scope);
  return Authorize(Metadata(context, "authorization"), Metadata(context, "x-api-key"), scope);
}

absl::StatusOr<Caller> Authorizer::Authorize(absl::string_view authorization,
                                             absl::string_view x_api_key, Scope scope) {
  if (!options_.required) {
    Caller anonymous;
    anonymous.name = "anonymous";
    anonymous.scopes = ScopeSet::All();
    return anonymous;
  }
  const std::string key = KeyFromCredentials(authorization, x_api_key);
  if (key.empty()) {
    return absl::UnauthenticatedError(
        "an API key is required: send it as \"Authorization: Bearer <key>\" or \"X-API-Key\"");
  }
  absl::StatusOr<Entry> entry = Find(HashApiKey(key));
  if (!entry.ok()) return entry.status();
  if (!entry->key.scopes.Has(scope)) {
    return absl::PermissionDeniedError(absl::StrCat("API key ", entry->key.name,
                                                    " lacks the \"", ScopeName(scope),
                                                    "\" scope this call needs"));
  }
  if (entry->requests != nullptr && !entry->requests->TryAcquire()) {
    const double per_minute = entry->requests->per_minute();
    const double missing = std::max(0.0, 1.0 - entry->requests->available());
    return WithRetryAdvice(
        absl::ResourceExhaustedError(absl::StrCat("API key ", entry->key.name, " used its ",
                                                  per_minute, " requests a minute")),
        RetryAdvice{absl::Seconds(missing * 60.0 / per_minute),
                    static_cast<int64_t>(std::llround(per_minute))});
  }
  Caller caller;
  caller.key_id = entry->key.id;
  caller.name = entry->key.name;
  caller.scopes = entry->key.scopes;
  caller.max_jobs = entry->key.quotas.max_jobs.value_or(options_.max_jobs);
  caller.max_symbols = entry->key.quotas.max_symbols.value_or(options_.max_symbols);
  return caller;
}

int Authorizer::RequestsPerMinute(const ApiKey& key) const {
  return key.quotas.requests_per_minute.value_or(options_.requests_per_minute);
}

Authorizer::Entry Authorizer::MakeEntry(ApiKey key, const Entry* previous) {
  const int per_minute = RequestsPerMinute(key);
  Entry entry{std::move(key), nullptr};
  if (per_minute <= 0) return entry;
  // A reload keeps the bucket (and what was used of it) unless the limit changed.
  if (previous != nullptr && previous->requests != nullptr &&
      previous->requests->per_minute() == per_minute) {
    entry.requests = previous->requests;
  } else {
    // Bursts up to a second's worth (at least 1), so a minute's allowance is not spent at once.
    entry.requests = std::make_shared<TokenBucket>(
        per_minute, std::max(1.0, std::ceil(per_minute / 60.0)), options_.clock);
  }
  return entry;
}

absl::StatusOr<Authorizer::Entry> Authorizer::Find(const std::string& hash) {
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(hash);
    if (it != keys_.end()) return it->second;
  }
  if (!unknown_lookups_.TryAcquire()) {
    return absl::UnauthenticatedError("unknown or revoked API key");
  }
  absl::StatusOr<std::optional<ApiKey>> found = store_->FindActive(hash);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return absl::UnauthenticatedError("unknown or revoked API key");
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(hash);
  if (it != keys_.end()) return it->second;  // a concurrent call got there first
  return keys_.emplace(hash, MakeEntry(**std::move(found), nullptr)).first->second;
}

absl::Status Authorizer::Refresh() {
  if (!options_.required) return absl::OkStatus();
  absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> active = store_->ListActive();
  if (!active.ok()) return active.status();
  absl::MutexLock lock(&mu_);
  absl::flat_hash_map<std::string, Entry> fresh;
  for (auto& [hash, key] : *active) {
    auto it = keys_.find(hash);
    fresh.emplace(hash, MakeEntry(std::move(key), it == keys_.end() ? nullptr : &it->second));
  }
  keys_ = std::move(fresh);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PeriodicLoop>> StartKeyReloads(Authorizer& auth) {
  if (absl::Status s = auth.Refresh(); !s.ok()) return s;
  auto reloads = std::make_unique<PeriodicLoop>(auth.refresh_interval(), [&auth] {
    if (absl::Status s = auth.Refresh(); !s.ok()) {
      spdlog::warn("reloading API keys: {}", s.ToString());
    }
  });
  if (auth.required()) {
    reloads->Start();
    spdlog::info("API keys required");
  }
  return reloads;
}

}  // namespace marketdata
