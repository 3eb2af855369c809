#include "services/storage/api_key_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "soci/soci.h"

namespace marketdata {
namespace {

// Every query returns the columns in this order; ReadKey reads them (the hash last, when asked).
#define KEY_COLUMNS                                                                       \
  "id, name, array_to_string(scopes, ','), requests_per_minute, max_jobs, max_symbols, " \
  "CAST(extract(epoch FROM created_at) * 1000000 AS BIGINT), "                           \
  "CAST(extract(epoch FROM revoked_at) * 1000000 AS BIGINT)"

constexpr char kInsert[] =
    "INSERT INTO api_keys (name, key_hash, scopes, requests_per_minute, max_jobs, max_symbols) "
    "VALUES (:name, :hash, string_to_array(:scopes, ','), :rpm, :jobs, :symbols) "
    "ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING " KEY_COLUMNS;
constexpr char kList[] = "SELECT " KEY_COLUMNS " FROM api_keys ORDER BY id";
constexpr char kListActive[] =
    "SELECT " KEY_COLUMNS ", key_hash FROM api_keys WHERE revoked_at IS NULL ORDER BY id";
constexpr char kFindActive[] =
    "SELECT " KEY_COLUMNS " FROM api_keys WHERE key_hash = :hash AND revoked_at IS NULL";
constexpr char kRevoke[] =
    "UPDATE api_keys SET revoked_at = now() WHERE name = :name AND revoked_at IS NULL "
    "RETURNING " KEY_COLUMNS;
constexpr char kSetQuotas[] =
    "UPDATE api_keys SET requests_per_minute = coalesce(:rpm, requests_per_minute), "
    "  max_jobs = coalesce(:jobs, max_jobs), max_symbols = coalesce(:symbols, max_symbols) "
    "WHERE name = :name AND revoked_at IS NULL RETURNING " KEY_COLUMNS;

#undef KEY_COLUMNS

std::optional<int> OptionalInt(const soci::row& row, int column) {
  if (row.get_indicator(column) != soci::i_ok) return std::nullopt;
  return row.get<int>(column);
}

ApiKey ReadKey(const soci::row& row) {
  ApiKey key;
  key.id = row.get<long long>(0);
  key.name = row.get<std::string>(1);
  key.scopes =
      ParseScopes(std::vector<std::string>(absl::StrSplit(row.get<std::string>(2), ',')))
          .value_or(ScopeSet());
  key.quotas.requests_per_minute = OptionalInt(row, 3);
  key.quotas.max_jobs = OptionalInt(row, 4);
  key.quotas.max_symbols = OptionalInt(row, 5);
  key.created_at = absl::FromUnixMicros(row.get<long long>(6));
  if (row.get_indicator(7) == soci::i_ok) key.revoked_at = absl::FromUnixMicros(row.get<long long>(7));
  return key;
}

// SOCI binds an unset optional as NULL through an indicator.
struct NullableInt {
  explicit NullableInt(std::optional<int> v)
      : value(v.value_or(0)), indicator(v.has_value() ? soci::i_ok : soci::i_null) {}
  int value;
  soci::indicator indicator;
};

}  // namespace

absl::StatusOr<ApiKey> PostgresApiKeyStore::Create(const std::string& name,
                                                   const std::string& key_hash, ScopeSet scopes,
                                                   const KeyQuotas& quotas) {
  std::optional<ApiKey> created;
  absl::Status status = WithSession(db_, "creating an API key", [&](Database::Lease& lease) {
    std::string scope_list = absl::StrJoin(scopes.Names(), ",");
    NullableInt rpm(quotas.requests_per_minute), jobs(quotas.max_jobs),
        symbols(quotas.max_symbols);
    soci::rowset<soci::row> rows =
        (lease->prepare << kInsert, soci::use(name, "name"), soci::use(key_hash, "hash"),
         soci::use(scope_list, "scopes"), soci::use(rpm.value, rpm.indicator, "rpm"),
         soci::use(jobs.value, jobs.indicator, "jobs"),
         soci::use(symbols.value, symbols.indicator, "symbols"));
    for (const soci::row& row : rows) created = ReadKey(row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!created.has_value()) {
    return absl::AlreadyExistsError(absl::StrCat("an API key called ", name, " already exists"));
  }
  return *created;
}

absl::StatusOr<std::vector<ApiKey>> PostgresApiKeyStore::List() {
  std::vector<ApiKey> keys;
  absl::Status status = WithSession(db_, "listing API keys", [&](Database::Lease& lease) {
    soci::rowset<soci::row> rows = lease->prepare << kList;
    for (const soci::row& row : rows) keys.push_back(ReadKey(row));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return keys;
}

absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> PostgresApiKeyStore::ListActive() {
  std::vector<std::pair<std::string, ApiKey>> keys;
  absl::Status status = WithSession(db_, "reading API keys", [&](Database::Lease& lease) {
    soci::rowset<soci::row> rows = lease->prepare << kListActive;
    for (const soci::row& row : rows) keys.emplace_back(row.get<std::string>(8), ReadKey(row));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return keys;
}

absl::StatusOr<std::optional<ApiKey>> PostgresApiKeyStore::FindActive(
    const std::string& key_hash) {
  std::optional<ApiKey> found;
  absl::Status status = WithSession(db_, "checking an API key", [&](Database::Lease& lease) {
    soci::rowset<soci::row> rows = (lease->prepare << kFindActive, soci::use(key_hash, "hash"));
    for (const soci::row& row : rows) found = ReadKey(row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<ApiKey> PostgresApiKeyStore::Revoke(const std::string& name) {
  std::optional<ApiKey> revoked;
  absl::Status status = WithSession(db_, "revoking an API key", [&](Database::Lease& lease) {
    soci::rowset<soci::row> rows = (lease->prepare << kRevoke, soci::use(name, "name"));
    for (const soci::row& row : rows) revoked = ReadKey(row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!revoked.has_value()) {
    return absl::NotFoundError(absl::StrCat("no active API key called ", name));
  }
  return *revoked;
}

absl::StatusOr<ApiKey> PostgresApiKeyStore::SetQuotas(const std::string& name,
                                                      const KeyQuotas& quotas) {
  std::optional<ApiKey> changed;
  absl::Status status = WithSession(db_, "changing an API key", [&](Database::Lease& lease) {
    NullableInt rpm(quotas.requests_per_minute), jobs(quotas.max_jobs),
        symbols(quotas.max_symbols);
    soci::rowset<soci::row> rows =
        (lease->prepare << kSetQuotas, soci::use(rpm.value, rpm.indicator, "rpm"),
         soci::use(jobs.value, jobs.indicator, "jobs"),
         soci::use(symbols.value, symbols.indicator, "symbols"), soci::use(name, "name"));
    for (const soci::row& row : rows) changed = ReadKey(row);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!changed.has_value()) {
    return absl::NotFoundError(absl::StrCat("no active API key called ", name));
  }
  return *changed;
}

}  // namespace marketdata
