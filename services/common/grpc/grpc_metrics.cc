#include "services/common/grpc/grpc_metrics.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/impl/server_initializer.h"

namespace marketdata {
namespace {

constexpr absl::string_view kCodeNames[GrpcServerMetrics::kCodes] = {
    "OK",           "Canceled",          "Unknown",          "InvalidArgument",
    "DeadlineExceeded", "NotFound",      "AlreadyExists",    "PermissionDenied",
    "ResourceExhausted", "FailedPrecondition", "Aborted",    "OutOfRange",
    "Unimplemented", "Internal",         "Unavailable",      "DataLoss",
    "Unauthenticated"};

// grpc_type as go-grpc-prometheus spells it.
const char* TypeName(bool client_streaming, bool server_streaming) {
  if (client_streaming && server_streaming) return "bidi_stream";
  if (client_streaming) return "client_stream";
  if (server_streaming) return "server_stream";
  return "unary";
}

// Added by the server itself in Start(), after the builder's plugins have seen the service list.
constexpr char kHealthService[] = "grpc.health.v1.Health";

}  // namespace

absl::string_view GrpcCodeName(int code) {
  if (code < 0 || code >= GrpcServerMetrics::kCodes) return "Unknown";
  return kCodeNames[code];
}

bool GrpcServerMetrics::AddService(absl::string_view service_full_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_full_name));
  if (service == nullptr) return false;
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* m = service->method(i);
    std::string path = absl::StrCat("/", service->full_name(), "/", m->name());
    if (by_path_.contains(path)) continue;
    auto method = std::make_unique<Method>();
    method->type = TypeName(m->client_streaming(), m->server_streaming());
    method->service = service->full_name();
    method->name = m->name();
    by_path_.emplace(std::move(path), std::move(method));
  }
  return true;
}

GrpcServerMetrics::Method* GrpcServerMetrics::Find(absl::string_view path) const {
  // No lock: the table only changes before the server starts taking calls.
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second.get();
}

class GrpcServerMetrics::Interceptor final : public grpc::experimental::Interceptor {
 public:
  explicit Interceptor(Method* method)
      : method_(method), start_(std::chrono::steady_clock::now()) {
    method_->started.fetch_add(1, std::memory_order_relaxed);
  }
  // A call that ends without sending a status (the server shut down under it) counts as
  // cancelled, so started and handled add up.
  ~Interceptor() override {
    if (!handled_) Handled(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!handled_ && methods->QueryInterceptionHookPoint(
                         grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Handled(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Handled(grpc::StatusCode code) {
    handled_ = true;
    const int index = static_cast<int>(code);
    method_->handled[index >= 0 && index < kCodes ? index : grpc::StatusCode::UNKNOWN].fetch_add(
        1, std::memory_order_relaxed);
    method_->seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

  Method* const method_;
  const std::chrono::steady_clock::time_point start_;
  bool handled_ = false;
};

class GrpcServerMetrics::InterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit InterceptorFactory(const GrpcServerMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    Method* method = info->method() == nullptr ? nullptr : metrics_->Find(info->method());
    return method == nullptr ? nullptr : new Interceptor(method);
  }

 private:
  const GrpcServerMetrics* metrics_;
};

// A builder plugin only to read the list of registered services once they are all registered
// and before the server starts.
class GrpcServerMetrics::RegisteredServices final : public grpc::ServerBuilderOption {
 public:
  explicit RegisteredServices(GrpcServerMetrics* metrics) : metrics_(metrics) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<Plugin>(metrics_));
  }

 private:
  class Plugin final : public grpc::ServerBuilderPlugin {
   public:
    explicit Plugin(GrpcServerMetrics* metrics) : metrics_(metrics) {}
    std::string name() override { return "mds_grpc_server_metrics"; }
    void InitServer(grpc::ServerInitializer* si) override {
      for (const std::string& service : *si->GetServiceList()) metrics_->AddService(service);
      metrics_->AddService(kHealthService);
    }
    void Finish(grpc::ServerInitializer*) override {}
    void ChangeArguments(const std::string&, void*) override {}

   private:
    GrpcServerMetrics* metrics_;
  };

  GrpcServerMetrics* metrics_;
};

std::unique_ptr<grpc::ServerBuilderOption> GrpcServerMetrics::AddRegisteredServicesOption() {
  return std::make_unique<RegisteredServices>(this);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcServerMetrics::NewInterceptorFactory() {
  return std::make_unique<InterceptorFactory>(this);
}

std::vector<MetricSample> GrpcServerMetrics::Started() const {
  absl::MutexLock lock(&mu_);
  std::vector<MetricSample> out;
  out.reserve(by_path_.size());
  for (const auto& [path, m] : by_path_) {
    out.push_back({{{"grpc_type", m->type}, {"grpc_service", m->service}, {"grpc_method", m->name}},
                   static_cast<double>(m->started.load(std::memory_order_relaxed))});
  }
  return out;
}

std::vector<MetricSample> GrpcServerMetrics::Handled() const {
  absl::MutexLock lock(&mu_);
  std::vector<MetricSample> out;
  out.reserve(by_path_.size() * kCodes);
  for (const auto& [path, m] : by_path_) {
    for (int code = 0; code < kCodes; ++code) {
      out.push_back({{{"grpc_type", m->type},
                      {"grpc_service", m->service},
                      {"grpc_method", m->name},
                      {"grpc_code", std::string(kCodeNames[code])}},
                     static_cast<double>(m->handled[code].load(std::memory_order_relaxed))});
    }
  }
  return out;
}

std::vector<HistogramSample> GrpcServerMetrics::HandlingSeconds() const {
  absl::MutexLock lock(&mu_);
  std::vector<HistogramSample> out;
  out.reserve(by_path_.size());
  for (const auto& [path, m] : by_path_) {
    out.push_back(
        {{{"grpc_type", m->type}, {"grpc_service", m->service}, {"grpc_method", m->name}},
         m->seconds.Snapshot()});
  }
  return out;
}

void ExportGrpcServerMetrics(MetricsExporter& metrics, const GrpcServerMetrics& grpc) {
  using Kind = MetricsExporter::Kind;
  metrics.AddLabeled(Kind::kCounter, "grpc_server_started_total",
                     "Calls the server began, by method.",
                     [&grpc] { return grpc.Started(); });
  metrics.AddLabeled(Kind::kCounter, "grpc_server_handled_total",
                     "Calls the server answered, by method and status code.",
                     [&grpc] { return grpc.Handled(); });
  metrics.AddHistograms("grpc_server_handling_seconds",
                        "Time from a call's start to its status, by method (for a stream: "
                        "how long it was open).",
                        [&grpc] { return grpc.HandlingSeconds(); });
}

}  // namespace marketdata
