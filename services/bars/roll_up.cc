#include "services/bars/roll_up.h"

#include <limits>
#include <utility>

namespace marketdata {

BarSteps PlanBarSteps(const std::vector<BarKey>& keys, BarPlan planned) {
  BarSteps steps;
  for (const BarKey& key : keys) {
    if (steps.base == 0 || key.interval_seconds < steps.base) steps.base = key.interval_seconds;
  }
  for (size_t i = 0; i < planned.recompute.size(); ++i) {
    BarKey& key = planned.recompute[i];
    if (key.interval_seconds != steps.base && key.interval_seconds % steps.base == 0) {
      steps.rolled_up.push_back(std::move(key));
    } else {
      steps.from_prices.push_back(std::move(key));
      steps.through.push_back(i < planned.recompute_through.size()
                                  ? planned.recompute_through[i]
                                  : std::numeric_limits<int64_t>::max());
    }
  }
  for (Bar& bar : planned.updated) {
    (bar.key.interval_seconds == steps.base ? steps.first : steps.later).push_back(std::move(bar));
  }
  return steps;
}

}  // namespace marketdata
