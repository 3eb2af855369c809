#include "services/process/process.h"

#include "absl/time/time.h"
#include "services/common/metrics/build_info.h"
#include "services/common/grpc/grpc_metrics.h"
#include "services/common/metrics/process_metrics.h"
#include "spdlog/spdlog.h"

namespace marketdata {

void ShutdownSequence::Run() {
  while (next_ < steps_.size()) steps_[next_++]();
}

Process::~Process() {
  // Normally done by WaitAndShutdown(); stop what reads the binary's parts before they go.
  if (health_checks_ != nullptr) health_checks_->Stop();
  metrics_.reset();
}

void Process::OrExit(const absl::Status& status) const {
  if (!status.ok()) ExitWithError(program_, status);
}

GrpcServer& Process::Serve(const std::string& address,
                           const std::vector<grpc::Service*>& services, const ServerTls& tls) {
  server_ = OrExit(GrpcServer::Start(address, services, tls));
  spdlog::info("serving gRPC on {} (port {})", address, server_->port());
  return *server_;
}

void Process::WatchHealth(std::vector<std::pair<std::string, DependencyHealth::Probe>> probes) {
  GrpcServer* server = server_.get();
  health_ = std::make_unique<DependencyHealth>([server](bool serving) {
    if (server != nullptr) server->SetServing(serving);
  });
  for (auto& [name, probe] : probes) health_->Add(std::move(name), std::move(probe));
  DependencyHealth* health = health_.get();
  health_checks_ = std::make_unique<PeriodicLoop>(absl::Seconds(1), [health] { health->Check(); });
  health_checks_->Start();
}

void Process::ExportMetrics(const std::string& listen,
                            const std::function<void(MetricsExporter&)>& exports) {
  if (listen == "off") return;
  metrics_ = OrExit(MetricsExporter::Start(listen));
  exports(*metrics_);
  if (server_ != nullptr) ExportGrpcServerMetrics(*metrics_, server_->metrics());
  ExportProcessMetrics(*metrics_);
  ExportBuildInfo(*metrics_, program_);
  spdlog::info("metrics on http://{}/metrics", listen);
}

int Process::WaitAndShutdown() {
  const int signal = WaitForTerminationSignal();
  spdlog::info("signal {} received, shutting down", signal);
  if (health_checks_ != nullptr) health_checks_->Stop();
  shutdown_.Run();
  metrics_.reset();
  server_.reset();
  return 0;
}

}  // namespace marketdata
