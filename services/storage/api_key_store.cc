#include "services/storage/api_key_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace marketdata {
namespace {

// Every query returns the columns in this order; ReadKey reads them (the hash last, when asked).
#define KEY_COLUMNS \
  "id, name, array_to_string(scopes, ','), requests_per_minute, max_jobs, max_symbols, " \
  "created_at, revoked_at"

constexpr PreparedSql kInsert = {
    "api_key_insert",
    "INSERT INTO api_keys (name, key_hash, scopes, requests_per_minute, max_jobs, max_symbols) "
    "VALUES ($1, $2, string_to_array($3, ','), CAST($4 AS INT), CAST($5 AS INT), "
    "CAST($6 AS INT)) "
    "ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING " KEY_COLUMNS};
constexpr PreparedSql kList = {"api_key_list", "SELECT " KEY_COLUMNS " FROM api_keys ORDER BY id"};
constexpr PreparedSql kListActive = {
    "api_key_list_active",
    "SELECT " KEY_COLUMNS ", key_hash FROM api_keys WHERE revoked_at IS NULL ORDER BY id"};
constexpr PreparedSql kFindActive = {
    "api_key_find_active",
    "SELECT " KEY_COLUMNS " FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"};
constexpr PreparedSql kRevoke = {
    "api_key_revoke",
    "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL "
    "RETURNING " KEY_COLUMNS};
constexpr PreparedSql kSetQuotas = {
    "api_key_set_quotas",
    "UPDATE api_keys SET requests_per_minute = coalesce(CAST($1 AS INT), requests_per_minute), "
    "  max_jobs = coalesce(CAST($2 AS INT), max_jobs), "
    "  max_symbols = coalesce(CAST($3 AS INT), max_symbols) "
    "WHERE name = $4 AND revoked_at IS NULL RETURNING " KEY_COLUMNS};

#undef KEY_COLUMNS

std::optional<int> OptionalInt(const PgResult& rows, int r, int column) {
  std::optional<int64_t> v = rows.optional_int64(r, column);
  if (!v.has_value()) return std::nullopt;
  return static_cast<int>(*v);
}

ApiKey ReadKey(const PgResult& rows, int r) {
  ApiKey key;
  key.id = rows.int64(r, 0);
  key.name = std::string(rows.text(r, 1));
  key.scopes =
      ParseScopes(std::vector<std::string>(absl::StrSplit(rows.text(r, 2), ',')))
          .value_or(ScopeSet());
  key.quotas.requests_per_minute = OptionalInt(rows, r, 3);
  key.quotas.max_jobs = OptionalInt(rows, r, 4);
  key.quotas.max_symbols = OptionalInt(rows, r, 5);
  key.created_at = rows.time(r, 6);
  key.revoked_at = rows.optional_time(r, 7);
  return key;
}

// The key a one-row answer holds, if any.
absl::StatusOr<std::optional<ApiKey>> OneKey(absl::StatusOr<PgResult> rows) {
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) return std::nullopt;
  return ReadKey(*rows, 0);
}

}  // namespace

absl::StatusOr<ApiKey> PostgresApiKeyStore::Create(const std::string& name,
                                                   const std::string& key_hash, ScopeSet scopes,
                                                   const KeyQuotas& quotas) {
  SqlParams params;
  params.Text(name).Text(key_hash).Text(absl::StrJoin(scopes.Names(), ","));
  params.OptionalInt(quotas.requests_per_minute)
      .OptionalInt(quotas.max_jobs)
      .OptionalInt(quotas.max_symbols);
  absl::StatusOr<std::optional<ApiKey>> created =
      OneKey(RunStatement(db_, kInsert, params, "creating an API key"));
  if (!created.ok()) return created.status();
  if (!created->has_value()) {
    return absl::AlreadyExistsError(absl::StrCat("an API key called ", name, " already exists"));
  }
  return **created;
}

absl::StatusOr<std::vector<ApiKey>> PostgresApiKeyStore::List() {
  absl::StatusOr<PgResult> rows = RunStatement(db_, kList, {}, "listing API keys");
  if (!rows.ok()) return rows.status();
  std::vector<ApiKey> keys;
  for (int r = 0; r < rows->rows(); ++r) keys.push_back(ReadKey(*rows, r));
  return keys;
}

absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> PostgresApiKeyStore::ListActive() {
  absl::StatusOr<PgResult> rows = RunStatement(db_, kListActive, {}, "reading API keys");
  if (!rows.ok()) return rows.status();
  std::vector<std::pair<std::string, ApiKey>> keys;
  for (int r = 0; r < rows->rows(); ++r) {
    keys.emplace_back(std::string(rows->text(r, 8)), ReadKey(*rows, r));
  }
  return keys;
}

absl::StatusOr<std::optional<ApiKey>> PostgresApiKeyStore::FindActive(
    const std::string& key_hash) {
  return OneKey(
      RunStatement(db_, kFindActive, SqlParams().Text(key_hash), "checking an API key"));
}

absl::StatusOr<ApiKey> PostgresApiKeyStore::Revoke(const std::string& name) {
  absl::StatusOr<std::optional<ApiKey>> revoked =
      OneKey(RunStatement(db_, kRevoke, SqlParams().Text(name), "revoking an API key"));
  if (!revoked.ok()) return revoked.status();
  if (!revoked->has_value()) {
    return absl::NotFoundError(absl::StrCat("no active API key called ", name));
  }
  return **revoked;
}

absl::StatusOr<ApiKey> PostgresApiKeyStore::SetQuotas(const std::string& name,
                                                      const KeyQuotas& quotas) {
  SqlParams params;
  params.OptionalInt(quotas.requests_per_minute)
      .OptionalInt(quotas.max_jobs)
      .OptionalInt(quotas.max_symbols);
  params.Text(name);
  absl::StatusOr<std::optional<ApiKey>> changed =
      OneKey(RunStatement(db_, kSetQuotas, params, "changing an API key"));
  if (!changed.ok()) return changed.status();
  if (!changed->has_value()) {
    return absl::NotFoundError(absl::StrCat("no active API key called ", name));
  }
  return **changed;
}

}  // namespace marketdata
