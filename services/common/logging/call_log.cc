#include "services/common/logging/call_log.h"

#include "absl/strings/match.h"
#include "services/common/logging/logging.h"
#include "services/common/logging/request_context.h"

namespace marketdata {
namespace {

using grpc::experimental::InterceptionHookPoints;

bool IsServerFailure(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

absl::string_view Find(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                       absl::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

class CallLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallLogInterceptor(const char* method, double sample_rate)
      : entry_(method == nullptr ? "" : method, sample_rate) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (metadata != nullptr) {
        entry_.Started(Find(*metadata, kRequestIdKey), Find(*metadata, kTraceparentKey));
      } else {
        entry_.Started({}, {});
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      entry_.Finished(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  CallLogEntry entry_;
};

class CallLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallLogInterceptorFactory(double sample_rate) : sample_rate_(sample_rate) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallLogInterceptor(info->method(), sample_rate_);
  }

 private:
  const double sample_rate_;
};

}  // namespace

CallLogEntry::CallLogEntry(absl::string_view method, double sample_rate)
    : method_(method),
      sample_rate_(sample_rate),
      probe_(absl::StartsWith(method, "/grpc.health.v1.") ||
             absl::StartsWith(method, "/grpc.reflection.")),
      start_(std::chrono::steady_clock::now()) {}

void CallLogEntry::Started(absl::string_view request_id, absl::string_view traceparent) {
  context_ = RequestContext::From(request_id, traceparent);
  ended_ = std::make_shared<std::atomic<bool>>(false);
  SetThreadRequestContext(context_.request_id, context_.traceparent, ended_);
  handler_thread_ = std::this_thread::get_id();
}

void CallLogEntry::Finished(grpc::StatusCode code) {
  // A sync handler has returned by now; a callback one may still be running on its thread, or
  // have returned and left its ids there: either way they are no longer the thread's.
  if (ended_ != nullptr) ended_->store(true, std::memory_order_release);
  if (std::this_thread::get_id() == handler_thread_) ClearThreadRequestContext();
  spdlog::level::level_enum level = spdlog::level::info;
  if (probe_) {
    level = spdlog::level::debug;
  } else if (IsServerFailure(code)) {
    level = spdlog::level::warn;
  } else if (code == grpc::StatusCode::OK && !SampledForLog(context_, sample_rate_)) {
    return;
  }
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  const double duration_ms =
      static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()) /
      1000;
  ScopedRequestContext scope(context_);
  LogWithFields(level, "call",
                {LogField("method", method_), LogField("code", StatusCodeName(code)),
                 LogField("duration_ms", duration_ms)});
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewCallLogInterceptorFactory(double sample_rate) {
  return std::make_unique<CallLogInterceptorFactory>(sample_rate);
}

absl::string_view StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

}  // namespace marketdata
