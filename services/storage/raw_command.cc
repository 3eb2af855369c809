#include "services/storage/raw_command.h"

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace marketdata {
namespace {

constexpr char kUsage[] =
    "usage: raw ID...\n"
    "Prints the raw provider replies stored under each ID (a price's raw_response_id), one JSON\n"
    "line per reply: raw_id, symbol, provider, quote_time and the reply itself. The DATABASE_*\n"
    "settings are read from the environment.\n";

}  // namespace

int RunRawCommand(const std::vector<std::string>& args, const LoadRawRepliesFn& load,
                  std::ostream& out, std::ostream& err) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    out << kUsage;
    return 0;
  }
  std::vector<int64_t> ids;
  for (const std::string& a : args) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(a, &id) || id <= 0) {
      err << "raw: '" << a << "' is not an id (a positive integer)\n" << kUsage;
      return 2;
    }
    ids.push_back(id);
  }
  if (ids.empty()) {
    err << kUsage;
    return 2;
  }
  int code = 0;
  for (int64_t id : ids) {
    absl::StatusOr<std::vector<RawReply>> replies = load(id);
    if (!replies.ok()) {
      err << "raw: " << id << ": " << replies.status().message() << "\n";
      code = 1;
      continue;
    }
    for (const RawReply& r : *replies) {
      nlohmann::json line;
      line["raw_id"] = id;
      line["symbol"] = r.symbol;
      line["provider"] = r.provider;
      line["quote_time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", r.quote_time, absl::UTCTimeZone());
      // The reply as JSON when it is JSON (providers answer JSON), else as a string.
      nlohmann::json reply = nlohmann::json::parse(r.reply, nullptr, /*allow_exceptions=*/false);
      line["reply"] = reply.is_discarded() ? nlohmann::json(r.reply) : reply;
      out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  }
  return code;
}

}  // namespace marketdata
