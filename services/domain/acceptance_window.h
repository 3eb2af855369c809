// Which quote times the service stores. Prices are kept in time partitions that reach back over
// the late window and a little ahead of now: a quote outside is answered to its caller but
// neither stored nor published. So no row lands where no partition was made, and nothing older
// than the late window can change a stored average or bar: those are final ("sealed").
#ifndef MARKETDATA_SERVICES_DOMAIN_ACCEPTANCE_WINDOW_H_
#define MARKETDATA_SERVICES_DOMAIN_ACCEPTANCE_WINDOW_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace marketdata {

struct AcceptanceWindow {
  absl::Duration late = absl::Hours(24 * 7);  // how far back of now
  absl::Duration ahead = absl::Hours(24);     // how far ahead of now (exclusive)

  enum class Verdict { kStore, kTooOld, kTooNew };
  Verdict Judge(absl::Time quote_time, absl::Time now) const;
};

// "too_old", "too_new" (metric labels); "stored" for kStore.
absl::string_view VerdictName(AcceptanceWindow::Verdict verdict);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_ACCEPTANCE_WINDOW_H_
