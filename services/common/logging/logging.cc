#include "services/common/logging/logging.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <iterator>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "fmt/format.h"
#include "grpc/support/log.h"
#include "services/common/logging/request_context.h"
#include "spdlog/sinks/base_sink.h"

namespace marketdata {
namespace {

std::atomic<double> call_sample_rate{1};

// The fields of the LogWithFields call in progress on this thread: lines are formatted on the
// thread that logs them (the logger is synchronous), so the formatter finds them here.
thread_local const std::initializer_list<LogField>* pending_fields = nullptr;

absl::string_view JsonLevel(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "TRACE";
    case spdlog::level::debug: return "DEBUG";
    case spdlog::level::info: return "INFO";
    case spdlog::level::warn: return "WARN";
    case spdlog::level::err: return "ERROR";
    case spdlog::level::critical: return "CRITICAL";
    default: return "OFF";
  }
}

// Decodes one UTF-8 sequence at s[i]; its length, or 0 if it is not valid UTF-8 (overlong forms,
// surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

// "2026-01-05T14:03:07.120Z". The part up to the seconds is computed once per second.
class Rfc3339Clock {
 public:
  void Append(std::chrono::system_clock::time_point time, std::string& out) {
    const auto since_epoch = time.time_since_epoch();
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
    int64_t seconds = ms / 1000;
    int64_t millis = ms % 1000;
    if (millis < 0) millis += 1000, seconds -= 1;
    if (seconds != cached_second_) {
      const std::time_t t = static_cast<std::time_t>(seconds);
      std::tm tm;
      gmtime_r(&t, &tm);
      char buf[32];
      const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
      cached_.assign(buf, n);
      cached_second_ = seconds;
    }
    out.append(cached_);
    out.push_back('.');
    out.push_back(static_cast<char>('0' + millis / 100));
    out.push_back(static_cast<char>('0' + millis / 10 % 10));
    out.push_back(static_cast<char>('0' + millis % 10));
    out.push_back('Z');
  }

 private:
  int64_t cached_second_ = INT64_MIN;
  std::string cached_;
};

class LineFormatter final : public spdlog::formatter {
 public:
  LineFormatter(LogFormat format, std::string service)
      : format_(format), service_(std::move(service)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    thread_local std::string line;
    line.clear();
    const absl::string_view text(msg.payload.data(), msg.payload.size());
    const RequestContext& context = CurrentRequestContext();
    const absl::string_view service =
        service_.empty() ? absl::string_view(msg.logger_name.data(), msg.logger_name.size())
                         : absl::string_view(service_);
    if (format_ == LogFormat::kJson) {
      line.append("{\"time\":\"");
      clock_.Append(msg.time, line);
      line.append("\",\"level\":\"");
      line.append(JsonLevel(msg.level).data(), JsonLevel(msg.level).size());
      line.append("\",\"msg\":");
      AppendJsonString(line, text);
      line.append(",\"service\":");
      AppendJsonString(line, service);
    } else {
      clock_.Append(msg.time, line);
      line.push_back(' ');
      const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
      line.append(level.data(), level.size());
      line.push_back(' ');
      line.append(service.data(), service.size());
      line.append(": ");
      line.append(text.data(), text.size());
    }
    if (pending_fields != nullptr) {
      for (const LogField& field : *pending_fields) field.AppendTo(line, format_);
    }
    if (!context.request_id.empty()) LogField("request_id", context.request_id).AppendTo(line, format_);
    if (!context.traceparent.empty()) LogField("trace_id", context.trace_id()).AppendTo(line, format_);
    if (format_ == LogFormat::kJson) line.push_back('}');
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_, service_);
  }

 private:
  const LogFormat format_;
  const std::string service_;  // empty: the logger's name
  Rfc3339Clock clock_;
};

// stderr through a buffer: written out at once for warnings and errors, otherwise every 100 ms
// or when 64 KiB wait, and when the sink is destroyed.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BufferedStderrSink() : flusher_([this] { FlushPeriodically(); }) {}
  ~BufferedStderrSink() override {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    flusher_.join();
    flush();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (msg.level >= spdlog::level::warn || buffer_.size() >= kMaxBuffered) flush_();
  }

  void flush_() override {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // nowhere to write: drop rather than grow without bound
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

 private:
  static constexpr size_t kMaxBuffered = 64 << 10;

  void FlushPeriodically() {
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stopping_) {
      stop_cv_.wait_for(lock, std::chrono::milliseconds(100));
      lock.unlock();
      flush();
      lock.lock();
    }
  }

  std::string buffer_;  // guarded by base_sink's mutex
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread flusher_;  // last: starts once the rest is built
};

// gRPC's C core logs through gpr_log in a format of its own ("E1201 06:45:05.449 ...]"); this
// makes those lines JSON like every other.
// Set at exit, before spdlog's registry is destroyed: gRPC's threads may still log then.
std::atomic<bool> exiting{false};

void LogGrpcCore(gpr_log_func_args* args) {
  if (exiting.load(std::memory_order_relaxed)) {
    std::fprintf(stderr, "grpc: %s\n", args->message == nullptr ? "" : args->message);
    return;
  }
  spdlog::level::level_enum level = spdlog::level::debug;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) {
    level = spdlog::level::err;
  } else if (args->severity == GPR_LOG_SEVERITY_INFO) {
    level = spdlog::level::info;
  }
  // Not a request's line, whatever the thread served last.
  static const RequestContext* const kNone = new RequestContext();
  ScopedRequestContext none(*kNone);
  absl::string_view file = args->file == nullptr ? "" : args->file;
  if (size_t slash = file.rfind('/'); slash != absl::string_view::npos) file.remove_prefix(slash + 1);
  LogWithFields(level, absl::StrCat("grpc: ", args->message == nullptr ? "" : args->message),
                {LogField("source", absl::StrCat(file, ":", args->line))});
}

absl::Status SetLevel(const std::string& name, const std::string& value, LogSettings& settings) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(value);
  if (parsed == spdlog::level::off && value != "off") {
    return absl::InvalidArgumentError(absl::StrCat(
        name, "=\"", value, "\" is not one of trace, debug, info, warn, error, off"));
  }
  settings.level = parsed;
  return absl::OkStatus();
}

absl::Status SetFormat(const std::string& name, const std::string& value, LogSettings& settings) {
  if (value == "json") {
    settings.format = LogFormat::kJson;
  } else if (value == "text") {
    settings.format = LogFormat::kText;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=\"", value, "\" is not one of json, text"));
  }
  return absl::OkStatus();
}

}  // namespace

void AppendJsonString(std::string& out, absl::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); ++i; continue;
      case '\\': out.append("\\\\"); ++i; continue;
      case '\n': out.append("\\n"); ++i; continue;
      case '\r': out.append("\\r"); ++i; continue;
      case '\t': out.append("\\t"); ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      out.append("\\ufffd");
      ++i;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  out.push_back('"');
}

void LogField::AppendTo(std::string& out, LogFormat format) const {
  if (format == LogFormat::kJson) {
    out.push_back(',');
    AppendJsonString(out, key_);
    out.push_back(':');
  } else {
    out.push_back(' ');
    out.append(key_.data(), key_.size());
    out.push_back('=');
  }
  switch (kind_) {
    case Kind::kString:
      if (format == LogFormat::kJson) {
        AppendJsonString(out, text_);
      } else {
        out.append(text_.data(), text_.size());
      }
      break;
    case Kind::kInt:
      fmt::format_to(std::back_inserter(out), "{}", int_);
      break;
    case Kind::kDouble:
      if (std::isfinite(double_)) {
        fmt::format_to(std::back_inserter(out), "{}", double_);
      } else {
        out.append("null");  // JSON has no NaN or infinity
      }
      break;
  }
}

void LogWithFields(spdlog::level::level_enum level, absl::string_view message,
                   std::initializer_list<LogField> fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  const std::initializer_list<LogField>* previous = pending_fields;
  pending_fields = &fields;
  logger->log(level, spdlog::string_view_t(message.data(), message.size()));
  pending_fields = previous;
}

std::unique_ptr<spdlog::formatter> NewLogFormatter(LogFormat format, std::string service_name) {
  return std::make_unique<LineFormatter>(format, std::move(service_name));
}

SettingTable<LogSettings> LogSettingsTable() {
  return SettingTable<LogSettings>({
      CustomSetting<LogSettings>("LOG_LEVEL", "info", SetLevel,
                                 "log level: trace, debug, info, warn or error"),
      CustomSetting<LogSettings>("LOG_FORMAT", "json", SetFormat,
                                 "log lines as json (one object a line, the gateway's field "
                                 "names) or as text"),
      DoubleSetting("LOG_CALL_SAMPLE_RATE", 1, 0, 1, &LogSettings::call_sample_rate,
                    "share of successful gRPC calls (and, in mds-consumer, of price events "
                    "with a request id) logged at info, chosen by request id so that every "
                    "service keeps the same ones; failed calls are always logged"),
  });
}

absl::Status InitLogging(const std::string& service_name, const LogSettings& settings) {
  auto sink = std::make_shared<BufferedStderrSink>();
  sink->set_formatter(NewLogFormatter(settings.format, service_name));
  auto logger = std::make_shared<spdlog::logger>(service_name, std::move(sink));
  logger->set_level(settings.level);
  spdlog::set_default_logger(logger);
  gpr_set_log_function(LogGrpcCore);
  // Runs before the registry (made above) is destroyed; the sink flushes on its destruction.
  std::atexit([] { exiting.store(true); });
  call_sample_rate.store(settings.call_sample_rate);
  return absl::OkStatus();
}

double CallLogSampleRate() { return call_sample_rate.load(); }

bool SampledForLog(const RequestContext& context, double rate) {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const absl::string_view id =
      !context.request_id.empty() ? absl::string_view(context.request_id) : context.trace_id();
  uint64_t h;
  if (!id.empty()) {
    h = 14695981039346656037ull;  // FNV-1a: stable across processes and builds
    for (char c : id) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
  } else {
    thread_local uint64_t state =
        0x9e3779b97f4a7c15ull ^ std::hash<std::thread::id>()(std::this_thread::get_id());
    state ^= state << 13;  // xorshift64
    state ^= state >> 7;
    state ^= state << 17;
    h = state;
  }
  return static_cast<double>(h >> 11) * 0x1.0p-53 < rate;
}

}  // namespace marketdata
