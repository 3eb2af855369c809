// GrpcServerMetrics: what every call of a gRPC server did, under the names and labels of
// go-grpc-prometheus, so dashboards and alerts written for Go services work unchanged:
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}  (histogram)
// grpc_code is Go's codes.Code name (OK, NotFound, ...). The series are created up front for the
// methods of the services the server registers, every code included, and a call is counted only
// against those: a client cannot add series by calling a method that does not exist.
//
// The interceptor is on every call's path: it finds the method's counters in a table that is
// fixed before the server starts (no lock), and each call costs a few relaxed atomic adds and
// two clock reads besides the interceptor object gRPC allocates per call.
#ifndef MARKETDATA_SERVICES_COMMON_GRPC_METRICS_H_
#define MARKETDATA_SERVICES_COMMON_GRPC_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/support/server_interceptor.h"
#include "services/common/metrics/histogram.h"
#include "services/common/metrics/metrics.h"

namespace marketdata {

// The go-grpc-prometheus name of a gRPC status code (0..16); "Unknown" for anything else.
absl::string_view GrpcCodeName(int code);

class GrpcServerMetrics {
 public:
  static constexpr int kCodes = 17;  // OK .. Unauthenticated

  GrpcServerMetrics() = default;
  GrpcServerMetrics(const GrpcServerMetrics&) = delete;
  GrpcServerMetrics& operator=(const GrpcServerMetrics&) = delete;

  // Creates the series of every method of `service_full_name` (e.g. "marketdata.v1.PriceService"),
  // read from the descriptors compiled into the binary. Only before the server starts. False
  // when the binary has no descriptor for it.
  bool AddService(absl::string_view service_full_name);

  // For ServerBuilder::SetOption: at build time, adds every service registered on the builder
  // (and grpc.health.v1.Health, which the server adds itself when it starts).
  std::unique_ptr<grpc::ServerBuilderOption> AddRegisteredServicesOption();
  // For ServerBuilder::experimental().SetInterceptorCreators. `this` must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  // The three families, for the exporter (see ExportGrpcServerMetrics).
  std::vector<MetricSample> Started() const;
  std::vector<MetricSample> Handled() const;
  std::vector<HistogramSample> HandlingSeconds() const;

 private:
  struct Method {
    Method() : seconds(LatencyBuckets()) {}
    std::string type, service, name;
    std::atomic<int64_t> started{0};
    std::array<std::atomic<int64_t>, kCodes> handled{};
    Histogram seconds;
  };
  class Interceptor;
  class InterceptorFactory;
  class RegisteredServices;

  // Null for a method that was not added.
  Method* Find(absl::string_view path) const;

  mutable absl::Mutex mu_;  // writers and scrapes; calls read the table without it
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> by_path_;  // "/service/method"
};

// Registers the three families of `grpc` on `metrics`; `grpc` must outlive `metrics`.
void ExportGrpcServerMetrics(MetricsExporter& metrics, const GrpcServerMetrics& grpc);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_GRPC_METRICS_H_
