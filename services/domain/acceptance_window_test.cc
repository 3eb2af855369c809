#include "services/domain/acceptance_window.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

using Verdict = AcceptanceWindow::Verdict;

TEST(AcceptanceWindowTest, StoresFromTheLateEdgeUpToTheAheadEdge) {
  const AcceptanceWindow w{absl::Hours(24 * 7), absl::Hours(24)};
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  EXPECT_EQ(w.Judge(now, now), Verdict::kStore);
  EXPECT_EQ(w.Judge(now - absl::Hours(24 * 7), now), Verdict::kStore);
  EXPECT_EQ(w.Judge(now - absl::Hours(24 * 7) - absl::Microseconds(1), now), Verdict::kTooOld);
  EXPECT_EQ(w.Judge(now + absl::Hours(24) - absl::Microseconds(1), now), Verdict::kStore);
  EXPECT_EQ(w.Judge(now + absl::Hours(24), now), Verdict::kTooNew);
  // A delisted symbol's last quote, years old.
  EXPECT_EQ(w.Judge(absl::FromUnixSeconds(1704412800), now), Verdict::kTooOld);
  EXPECT_EQ(VerdictName(Verdict::kTooOld), "too_old");
  EXPECT_EQ(VerdictName(Verdict::kTooNew), "too_new");
}

}  // namespace
}  // namespace marketdata
