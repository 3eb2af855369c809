// DependencyHealth: whether this process can do its work, from probes of what it depends on
// (PostgreSQL reachable, the Kafka producer usable). Every check runs each probe and reports the
// overall answer to `report` (the gRPC health service: SERVING or NOT_SERVING, which the
// gateway's /ready reads); a change is logged once, not on every check.
#ifndef MARKETDATA_SERVICES_COMMON_RUNTIME_DEPENDENCY_HEALTH_H_
#define MARKETDATA_SERVICES_COMMON_RUNTIME_DEPENDENCY_HEALTH_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace marketdata {

class DependencyHealth {
 public:
  using Probe = std::function<absl::Status()>;

  explicit DependencyHealth(std::function<void(bool serving)> report)
      : report_(std::move(report)) {}

  // Before the first Check().
  void Add(std::string name, Probe probe);

  // Runs every probe; true when all pass.
  bool Check();

 private:
  std::function<void(bool)> report_;
  std::vector<std::pair<std::string, Probe>> probes_;
  absl::Mutex mu_;
  std::map<std::string, bool> healthy_ ABSL_GUARDED_BY(mu_);  // last answer per probe
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_RUNTIME_DEPENDENCY_HEALTH_H_
