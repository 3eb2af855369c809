#include "services/common/runtime/dependency_health.h"

#include "spdlog/spdlog.h"

namespace marketdata {

void DependencyHealth::Add(std::string name, Probe probe) {
  probes_.emplace_back(std::move(name), std::move(probe));
}

bool DependencyHealth::Check() {
  bool all = true;
  for (const auto& [name, probe] : probes_) {
    const absl::Status status = probe();
    const bool ok = status.ok();
    all = all && ok;
    absl::MutexLock lock(&mu_);
    auto [it, first] = healthy_.try_emplace(name, ok);
    if (!first && it->second == ok) continue;
    it->second = ok;
    if (!ok) {
      spdlog::warn("health: {} failing ({}); reporting NOT_SERVING", name, status.ToString());
    } else if (!first) {
      spdlog::info("health: {} back", name);
    }
  }
  report_(all);
  return all;
}

}  // namespace marketdata
