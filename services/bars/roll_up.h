// How a batch's planned bars are brought up to date (pure, no I/O): the bars of the smallest
// interval first, those to recompute read from price_points; then the others, each recomputed by
// rolling up the first ones where its interval is a multiple of theirs (far fewer rows than its
// prices; exact, since every bucket is aligned to the epoch), else from price_points too.
#ifndef MARKETDATA_SERVICES_BARS_ROLL_UP_H_
#define MARKETDATA_SERVICES_BARS_ROLL_UP_H_

#include <cstdint>
#include <vector>

#include "services/domain/bar.h"

namespace marketdata {

struct BarSteps {
  int base = 0;  // the smallest interval of the batch, seconds
  // Recomputed from price_points, each counting prices up to its `through` id.
  std::vector<BarKey> from_prices;
  std::vector<int64_t> through;
  // Recomputed from the stored bars of `base`, once those are written.
  std::vector<BarKey> rolled_up;
  // Bars already updated in memory: written first (of `base`), or after the roll-up.
  std::vector<Bar> first;
  std::vector<Bar> later;
};

// `keys`: every bar the batch touches; `planned`: what PlanBars made of them.
BarSteps PlanBarSteps(const std::vector<BarKey>& keys, BarPlan planned);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_BARS_ROLL_UP_H_
