// Process: what every service binary does around its own parts, written once. It reads the
// settings (`--help` answered from the binary's table), blocks SIGTERM and SIGINT before any
// thread starts, starts logging, serves gRPC, reports the dependencies' health to the server
// every second, exports the metrics with the process and build-info families, and on a signal
// runs the binary's stop steps in the order they were given. A main() only composes its parts
// and hands them to it:
//
//   Process process("mds-x");
//   const std::optional<XConfig> config = process.Configure(argc, argv, XSettings(), LoadX);
//   if (!config.has_value()) return 0;  // --help
//   ... build the parts ...
//   GrpcServer& server = process.Serve(config->listen_address, {&service}, config->tls);
//   process.WatchHealth({{"database", [&db] { return db->Ping(); }}});
//   process.ExportMetrics(config->metrics_listen, [&](MetricsExporter& m) { ... });
//   process.OnShutdown([&] { hub.Shutdown(); });
//   process.OnShutdown([&server] { server.Shutdown(absl::Seconds(10)); });
//   return process.WaitAndShutdown();
#ifndef MARKETDATA_SERVICES_PROCESS_PROCESS_H_
#define MARKETDATA_SERVICES_PROCESS_PROCESS_H_

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/runtime/dependency_health.h"
#include "services/common/grpc/grpc_server.h"
#include "services/common/logging/logging.h"
#include "services/common/metrics/metrics.h"
#include "services/common/runtime/periodic_loop.h"
#include "services/common/config/settings.h"
#include "services/common/config/settings_table.h"

namespace marketdata {

// Stop steps, each run once, in the order they were added. The order is the design, not the
// reverse of construction: e.g. a server is shut down before the writer its calls wait on stops,
// so that calls in flight are still answered.
class ShutdownSequence {
 public:
  void Then(std::function<void()> step) { steps_.push_back(std::move(step)); }
  // Runs every step not yet run, in order.
  void Run();

 private:
  std::vector<std::function<void()>> steps_;
  size_t next_ = 0;
};

class Process {
 public:
  explicit Process(std::string program) : program_(std::move(program)) {}
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Reads the settings of the command line and the environment. With `--help`, prints the
  // table's usage and returns nullopt (the binary then exits 0). Otherwise blocks SIGTERM and
  // SIGINT (before any thread starts, so that WaitAndShutdown() receives them), loads the
  // configuration with `load` and starts logging from its `log` member; a failure of either
  // exits with status 2 after one line naming it.
  template <typename Config>
  std::optional<Config> Configure(int argc, char** argv, const SettingTable<Config>& table,
                                  absl::StatusOr<Config> (*load)(const Settings&)) {
    Settings settings = Settings::FromProcess(argc, argv);
    if (settings.HelpRequested()) {
      std::cout << table.Help(program_);
      return std::nullopt;
    }
    BlockTerminationSignals();
    Config config = OrExit(load(settings));
    OrExit(InitLogging(program_, config.log));
    return config;
  }

  // The value, or exits with status 2 after one line "<program>: <message>".
  template <typename T>
  T OrExit(absl::StatusOr<T> value) const {
    return ValueOrExit(program_, std::move(value));
  }
  void OrExit(const absl::Status& status) const;

  // Starts the gRPC server on `address` and logs "serving gRPC on <address> (port N)". The
  // server lives until WaitAndShutdown() returns; shutting it down is a step of the binary's.
  GrpcServer& Serve(const std::string& address, const std::vector<grpc::Service*>& services,
                    const ServerTls& tls);

  // Runs every probe now and every second until the shutdown begins, and reports the answer to
  // the server (NOT_SERVING while one fails, so /ready says so). After Serve().
  void WatchHealth(std::vector<std::pair<std::string, DependencyHealth::Probe>> probes);

  // Unless `listen` is "off": serves /metrics on it with what `exports` adds, then the gRPC
  // server's, the process's and the build info, and logs "metrics on http://<listen>/metrics".
  // The exporter lives until WaitAndShutdown() returns, past every stop step.
  void ExportMetrics(const std::string& listen,
                     const std::function<void(MetricsExporter&)>& exports);

  // A stop step, run after the health checks stop; see ShutdownSequence.
  void OnShutdown(std::function<void()> step) { shutdown_.Then(std::move(step)); }

  // Waits for SIGTERM or SIGINT, logs "signal N received, shutting down", stops the health
  // checks, runs the stop steps in order, then closes the metrics exporter and the server.
  // Returns the exit status (0).
  int WaitAndShutdown();

 private:
  const std::string program_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<DependencyHealth> health_;
  std::unique_ptr<PeriodicLoop> health_checks_;
  std::unique_ptr<MetricsExporter> metrics_;
  ShutdownSequence shutdown_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROCESS_PROCESS_H_
