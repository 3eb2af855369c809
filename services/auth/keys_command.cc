#include "services/auth/keys_command.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace marketdata {
namespace {

constexpr char kUsage[] =
    "usage: keys create NAME --scopes read,write[,admin] [--requests-per-minute N] "
    "[--max-jobs N] [--max-symbols N]\n"
    "       keys list\n"
    "       keys revoke NAME\n"
    "       keys quota NAME [--requests-per-minute N] [--max-jobs N] [--max-symbols N]\n"
    "Quotas: 0 is no limit; unset is the service's default.\n";

std::string QuotaText(const std::optional<int>& value) {
  if (!value.has_value()) return "default";
  return *value == 0 ? "none" : std::to_string(*value);
}

void PrintKey(const ApiKey& key, std::ostream& out) {
  out << key.name << "\tscopes=" << absl::StrJoin(key.scopes.Names(), ",")
      << "\trequests_per_minute=" << QuotaText(key.quotas.requests_per_minute)
      << "\tmax_jobs=" << QuotaText(key.quotas.max_jobs)
      << "\tmax_symbols=" << QuotaText(key.quotas.max_symbols)
      << "\tcreated=" << absl::FormatTime(absl::RFC3339_sec, key.created_at, absl::UTCTimeZone());
  if (key.revoked_at.has_value()) {
    out << "\trevoked=" << absl::FormatTime(absl::RFC3339_sec, *key.revoked_at,
                                            absl::UTCTimeZone());
  }
  out << "\n";
}

// Reads NAME and the options after it; false (with a message) on anything else.
bool ParseOptions(const std::vector<std::string>& args, bool allow_scopes, std::string* name,
                  std::vector<std::string>* scopes, KeyQuotas* quotas, std::ostream& err) {
  if (args.size() < 2 || absl::StartsWith(args[1], "-")) {
    err << "a key name is needed\n";
    return false;
  }
  *name = args[1];
  for (size_t i = 2; i < args.size(); i += 2) {
    const std::string& option = args[i];
    if (i + 1 >= args.size()) {
      err << option << " needs a value\n";
      return false;
    }
    const std::string& value = args[i + 1];
    if (option == "--scopes" && allow_scopes) {
      *scopes = absl::StrSplit(value, ',');
      continue;
    }
    std::optional<int>* target = nullptr;
    if (option == "--requests-per-minute") target = &quotas->requests_per_minute;
    if (option == "--max-jobs") target = &quotas->max_jobs;
    if (option == "--max-symbols") target = &quotas->max_symbols;
    int parsed = 0;
    if (target == nullptr) {
      err << "unknown option " << option << "\n";
      return false;
    }
    if (!absl::SimpleAtoi(value, &parsed)) {
      err << option << ": not a whole number: " << value << "\n";
      return false;
    }
    *target = parsed;
  }
  return true;
}

}  // namespace

int RunKeysCommand(const std::vector<std::string>& args, KeyAdmin& admin, std::ostream& out,
                   std::ostream& err) {
  const std::string verb = args.empty() ? "" : args[0];
  std::string name;
  std::vector<std::string> scopes;
  KeyQuotas quotas;
  absl::Status failed;
  if (verb == "create" && ParseOptions(args, true, &name, &scopes, &quotas, err)) {
    absl::StatusOr<NewKey> created = admin.Create(name, scopes, quotas);
    if (created.ok()) {
      PrintKey(created->key, out);
      out << "secret (shown once, only its hash is kept):\n" << created->secret << "\n";
      return 0;
    }
    failed = created.status();
  } else if (verb == "list" && args.size() == 1) {
    absl::StatusOr<std::vector<ApiKey>> keys = admin.List();
    if (keys.ok()) {
      for (const ApiKey& key : *keys) PrintKey(key, out);
      return 0;
    }
    failed = keys.status();
  } else if (verb == "revoke" && args.size() == 2) {
    absl::StatusOr<ApiKey> revoked = admin.Revoke(args[1]);
    if (revoked.ok()) {
      PrintKey(*revoked, out);
      return 0;
    }
    failed = revoked.status();
  } else if (verb == "quota" && ParseOptions(args, false, &name, &scopes, &quotas, err)) {
    absl::StatusOr<ApiKey> changed = admin.SetQuotas(name, quotas);
    if (changed.ok()) {
      PrintKey(*changed, out);
      return 0;
    }
    failed = changed.status();
  } else {
    err << kUsage;
    return 2;
  }
  err << "keys " << verb << ": " << failed.message() << "\n";
  return failed.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace marketdata
