#include "services/domain/acceptance_window.h"

namespace marketdata {

AcceptanceWindow::Verdict AcceptanceWindow::Judge(absl::Time quote_time, absl::Time now) const {
  if (quote_time < now - late) return Verdict::kTooOld;
  if (quote_time >= now + ahead) return Verdict::kTooNew;
  return Verdict::kStore;
}

absl::string_view VerdictName(AcceptanceWindow::Verdict verdict) {
  switch (verdict) {
    case AcceptanceWindow::Verdict::kTooOld: return "too_old";
    case AcceptanceWindow::Verdict::kTooNew: return "too_new";
    case AcceptanceWindow::Verdict::kStore: break;
  }
  return "stored";
}

}  // namespace marketdata
