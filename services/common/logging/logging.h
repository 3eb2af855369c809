// Process-wide logging: one line per event on stderr, as JSON (the default) or as text.
//
// JSON lines carry the gateway's field names, so one grep or one log pipeline reads all three
// processes:
//   {"time":"2026-01-05T14:03:07.120Z","level":"INFO","msg":"call","service":"mds-api",
//    "method":"/marketdata.v1.PriceService/GetLatestPrice","code":"OK","duration_ms":0.412,
//    "request_id":"7f3a...","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}
// `time` is RFC 3339 in UTC with milliseconds; `request_id` and `trace_id` come from the
// RequestContext of the thread that logs (see request_context.h), and are left out when it has
// none; further fields are those of LogWithFields.
//
// Lines are written from a buffer: at once from warnings up, otherwise every 100 ms or when 64
// KiB are waiting, so that a line per call does not cost a system call per call. Formatting
// happens on the logging thread, which is what lets a line pick up that thread's context.
#ifndef MARKETDATA_SERVICES_COMMON_LOGGING_LOGGING_H_
#define MARKETDATA_SERVICES_COMMON_LOGGING_LOGGING_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/config/settings_table.h"
#include "spdlog/formatter.h"
#include "spdlog/spdlog.h"

namespace marketdata {

enum class LogFormat { kJson, kText };

struct LogSettings {
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kJson;
  // Share of successful calls logged at info (see call_log.h); failed calls are always logged.
  double call_sample_rate = 1;
};

// LOG_LEVEL, LOG_FORMAT and LOG_CALL_SAMPLE_RATE, the same in both services.
SettingTable<LogSettings> LogSettingsTable();

// Makes the process's default logger write `settings.format` lines at `settings.level` and up,
// named `service_name`. Call once, early in main().
absl::Status InitLogging(const std::string& service_name, const LogSettings& settings);

// LOG_CALL_SAMPLE_RATE as InitLogging was given it; 1 before.
double CallLogSampleRate();

struct RequestContext;

// Whether a line sampled at `rate` in [0, 1] is kept: decided by the request id (else the trace
// id), so that every process keeps the lines of the same requests; at random without either.
bool SampledForLog(const RequestContext& context, double rate);

// One field of a structured line: a string, an integer or a number.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value)
      : key_(key), kind_(Kind::kString), text_(value) {}
  LogField(absl::string_view key, const std::string& value) : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, const char* value) : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, int64_t value) : key_(key), kind_(Kind::kInt), int_(value) {}
  LogField(absl::string_view key, int value) : LogField(key, static_cast<int64_t>(value)) {}
  LogField(absl::string_view key, double value) : key_(key), kind_(Kind::kDouble), double_(value) {}

  // `"key":value` (JSON) or `key=value` (text), after a separator.
  void AppendTo(std::string& out, LogFormat format) const;

 private:
  enum class Kind { kString, kInt, kDouble };
  absl::string_view key_;
  Kind kind_;
  absl::string_view text_;
  int64_t int_ = 0;
  double double_ = 0;
};

// Logs `message` with `fields` after the standard ones, through the default logger.
void LogWithFields(spdlog::level::level_enum level, absl::string_view message,
                   std::initializer_list<LogField> fields);

// The formatter InitLogging installs, for tests and for loggers of their own.
std::unique_ptr<spdlog::formatter> NewLogFormatter(LogFormat format, std::string service_name);

// `text` as a JSON string, quotes included: control characters escaped, and bytes that are not
// UTF-8 replaced by U+FFFD, so that every line is valid JSON whatever a message holds.
void AppendJsonString(std::string& out, absl::string_view text);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_LOGGING_LOGGING_H_
