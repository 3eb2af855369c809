#include "services/auth/key_admin.h"

#include "absl/strings/str_cat.h"
#include "services/auth/key_material.h"

namespace marketdata {

absl::Status CheckQuotas(const KeyQuotas& quotas) {
  for (const auto& [name, value] :
       {std::pair<const char*, std::optional<int>>{"requests_per_minute",
                                                   quotas.requests_per_minute},
        {"max_jobs", quotas.max_jobs},
        {"max_symbols", quotas.max_symbols}}) {
    if (value.has_value() && *value < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": 0 (no limit) or more"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<NewKey> KeyAdmin::Create(const std::string& name,
                                        const std::vector<std::string>& scope_names,
                                        const KeyQuotas& quotas) {
  if (absl::Status s = CheckKeyName(name); !s.ok()) return s;
  absl::StatusOr<ScopeSet> scopes = ParseScopes(scope_names);
  if (!scopes.ok()) return scopes.status();
  if (absl::Status s = CheckQuotas(quotas); !s.ok()) return s;
  absl::StatusOr<std::string> secret = NewApiKey();
  if (!secret.ok()) return secret.status();
  absl::StatusOr<ApiKey> key = store_.Create(name, HashApiKey(*secret), *scopes, quotas);
  if (!key.ok()) return key.status();
  return NewKey{*std::move(key), *std::move(secret)};
}

absl::StatusOr<ApiKey> KeyAdmin::Revoke(const std::string& name) {
  if (absl::Status s = CheckKeyName(name); !s.ok()) return s;
  return store_.Revoke(name);
}

absl::StatusOr<ApiKey> KeyAdmin::SetQuotas(const std::string& name, const KeyQuotas& quotas) {
  if (absl::Status s = CheckKeyName(name); !s.ok()) return s;
  if (absl::Status s = CheckQuotas(quotas); !s.ok()) return s;
  return store_.SetQuotas(name, quotas);
}

}  // namespace marketdata
