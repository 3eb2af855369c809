#include "services/common/grpc/grpc_server.h"

#include <fstream>
#include <iterator>

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/common/logging/call_log.h"
#include "services/common/logging/logging.h"

namespace marketdata {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  // Deadlock detection builds a lock graph on every Mutex operation: a debugging aid whose cost
  // showed up in production profiles.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

SettingTable<ServerTls> ServerTlsSettingsTable() {
  return SettingTable<ServerTls>({
      StringSetting("TLS_CERT_FILE", "", &ServerTls::cert_file,
                    "PEM certificate chain of the gRPC server; set with TLS_KEY_FILE to serve "
                    "TLS only, empty: plaintext"),
      StringSetting("TLS_KEY_FILE", "", &ServerTls::key_file,
                    "PEM private key of TLS_CERT_FILE"),
      StringSetting("TLS_CLIENT_CA_FILE", "", &ServerTls::client_ca_file,
                    "PEM CA; set: clients must present a certificate it signed (mutual TLS)"),
  });
}

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& setting, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) text.clear();
  if (text.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, ": cannot read a PEM file at ", path));
  }
  return text;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerTls& tls) {
  if (!tls.enabled()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both TLS_CERT_FILE and TLS_KEY_FILE");
  }
  absl::StatusOr<std::string> cert = ReadPem("TLS_CERT_FILE", tls.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("TLS_KEY_FILE", tls.key_file);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("TLS_CLIENT_CA_FILE", tls.client_ca_file);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const std::string& address, const std::vector<grpc::Service*>& services,
    const ServerTls& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(tls);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // One completion queue and few pollers: on small machines the default (a queue per core with
  // several pollers each) spends more time switching threads than serving calls.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 2);
  int port = 0;
  builder.AddListeningPort(address, *credentials, &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  auto metrics = std::make_unique<GrpcServerMetrics>();
  builder.SetOption(metrics->AddRegisteredServicesOption());
  // Interceptors, in the order they see each call.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(metrics->NewInterceptorFactory());
  interceptors.push_back(NewCallLogInterceptorFactory(CallLogSampleRate()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address,
                                               " (address in use or invalid?)"));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  return std::unique_ptr<GrpcServer>(
      new GrpcServer(std::move(metrics), std::move(server), port));
}

void GrpcServer::SetServing(bool serving) {
  if (shutting_down_.load()) return;
  server_->GetHealthCheckService()->SetServingStatus(serving);
}

void GrpcServer::Shutdown(absl::Duration grace) {
  shutting_down_.store(true);
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

void ExitWithError(const std::string& program, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", program.c_str(), std::string(status.message()).c_str());
  std::exit(2);
}

}  // namespace marketdata
