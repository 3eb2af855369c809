// API keys as stored and checked: a name, scopes and per-key quotas. The key itself never
// appears here, only its hash (see services/auth/key_material.h).
#ifndef MARKETDATA_SERVICES_DOMAIN_API_KEY_H_
#define MARKETDATA_SERVICES_DOMAIN_API_KEY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace marketdata {

// What a key may do: read (prices, history, averages, jobs it owns), write (start and stop its
// jobs) and admin (manage keys, see and stop every job).
enum class Scope : uint8_t { kRead = 1, kWrite = 2, kAdmin = 4 };

class ScopeSet {
 public:
  ScopeSet() = default;
  static ScopeSet All() { return ScopeSet(7); }

  bool Has(Scope scope) const { return (bits_ & static_cast<uint8_t>(scope)) != 0; }
  void Add(Scope scope) { bits_ |= static_cast<uint8_t>(scope); }
  bool empty() const { return bits_ == 0; }
  // "read", "read,write", ... in the order read, write, admin.
  std::vector<std::string> Names() const;
  bool operator==(const ScopeSet& other) const { return bits_ == other.bits_; }

 private:
  explicit ScopeSet(uint8_t bits) : bits_(bits) {}
  uint8_t bits_ = 0;
};

absl::string_view ScopeName(Scope scope);
// Comma-separated names (spaces and repeats allowed); unknown names and an empty list are
// INVALID_ARGUMENT.
absl::StatusOr<ScopeSet> ParseScopes(absl::string_view text);
absl::StatusOr<ScopeSet> ParseScopes(const std::vector<std::string>& names);

// Per-key quotas; unset: the configured default.
struct KeyQuotas {
  std::optional<int> requests_per_minute;
  std::optional<int> max_jobs;
  std::optional<int> max_symbols;
};

struct ApiKey {
  int64_t id = 0;
  std::string name;
  ScopeSet scopes;
  KeyQuotas quotas;
  absl::Time created_at;
  std::optional<absl::Time> revoked_at;
};

// A key's name: 1 to 64 of [A-Za-z0-9._-].
absl::Status CheckKeyName(absl::string_view name);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_API_KEY_H_
