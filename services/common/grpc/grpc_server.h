// Starting a gRPC server the same way in every binary: health checking (grpc.health.v1),
// server reflection (so `grpcurl list` works), and a graceful stop on SIGTERM/SIGINT.
#ifndef MARKETDATA_SERVICES_COMMON_GRPC_SERVER_H_
#define MARKETDATA_SERVICES_COMMON_GRPC_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

#include "services/common/grpc/grpc_metrics.h"
#include "services/common/config/settings_table.h"

namespace marketdata {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts afterwards; call it
// first in main() so WaitForTerminationSignal() can receive them.
void BlockTerminationSignals();
// Returns the signal number once SIGTERM or SIGINT arrives.
int WaitForTerminationSignal();

// TLS of a gRPC server; all empty: plaintext. Files are PEM.
struct ServerTls {
  std::string cert_file;       // the server's certificate chain
  std::string key_file;        // its private key
  std::string client_ca_file;  // set: clients must present a certificate signed by this CA

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE.
SettingTable<ServerTls> ServerTlsSettingsTable();

class GrpcServer {
 public:
  // Binds `address` (host:port) and starts serving `services`, reported SERVING. INVALID_ARGUMENT
  // when TLS is half configured or its files cannot be read.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const std::string& address, const std::vector<grpc::Service*>& services,
      const ServerTls& tls = {});

  // What grpc.health.v1 answers for the whole server (service ""), e.g. from DependencyHealth.
  // No effect once Shutdown() has begun.
  void SetServing(bool serving);

  // Reports NOT_SERVING, stops accepting calls, and lets calls in flight finish until `grace`.
  void Shutdown(absl::Duration grace);
  int port() const { return port_; }
  // Counts and latencies of every call, for ExportGrpcServerMetrics.
  const GrpcServerMetrics& metrics() const { return *metrics_; }

 private:
  GrpcServer(std::unique_ptr<GrpcServerMetrics> metrics, std::unique_ptr<grpc::Server> server,
             int port)
      : metrics_(std::move(metrics)), server_(std::move(server)), port_(port) {}
  std::unique_ptr<GrpcServerMetrics> metrics_;  // outlives server_: calls in flight use it
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::atomic<bool> shutting_down_{false};
};

// Prints "<program>: <message>" on one line and exits with status 2.
[[noreturn]] void ExitWithError(const std::string& program, const absl::Status& status);

// The value, or ExitWithError: start-up steps of a composition root read as one line each.
template <typename T>
T ValueOrExit(const std::string& program, absl::StatusOr<T> value) {
  if (!value.ok()) ExitWithError(program, value.status());
  return *std::move(value);
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_GRPC_SERVER_H_
