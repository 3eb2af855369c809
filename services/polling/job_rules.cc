#include "services/polling/job_rules.h"

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/grpc/errors.h"
#include "services/domain/symbol.h"

namespace marketdata {

absl::StatusOr<JobConfig> ValidateJobConfig(const std::vector<std::string>& symbols,
                                            int interval_seconds, absl::string_view provider,
                                            const PollingLimits& limits,
                                            const ProviderRegistry& providers) {
  if (symbols.empty()) return MissingFieldError("symbols");
  JobConfig config;
  absl::StatusOr<std::vector<std::string>> normalized =
      NormalizeSymbols(symbols, static_cast<size_t>(limits.max_symbols));
  if (!normalized.ok()) return normalized.status();
  config.symbols = *std::move(normalized);
  if (interval_seconds == 0) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "interval is required: whole seconds between ",
                          limits.min_interval_seconds, " and ", limits.max_interval_seconds)),
                      kReasonMissingField);
  }
  if (interval_seconds < limits.min_interval_seconds ||
      interval_seconds > limits.max_interval_seconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("interval must be between ", limits.min_interval_seconds, " and ",
                     limits.max_interval_seconds, " seconds, got ", interval_seconds));
  }
  config.interval_seconds = interval_seconds;
  absl::StatusOr<std::vector<PriceProvider*>> found = providers.FindChain(provider);
  if (!found.ok()) return found.status();
  config.provider = ProviderRegistry::ChainName(*found);
  return config;
}

std::string NewJobId() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return absl::StrFormat("poll_%08x", static_cast<uint32_t>(rng()));
}

bool IsValidJobId(absl::string_view job_id) {
  if (job_id.size() != 13 || job_id.substr(0, 5) != "poll_") return false;
  for (char c : job_id.substr(5)) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

absl::Time NextRunAfter(absl::Time planned, absl::Duration interval, absl::Time now) {
  absl::Time next = planned + interval;
  if (next > now) return next;
  absl::Duration remainder;
  const int64_t missed = absl::IDivDuration(now - planned, interval, &remainder);
  next = planned + interval * (missed + 1);
  return next > now ? next : next + interval;
}

}  // namespace marketdata
