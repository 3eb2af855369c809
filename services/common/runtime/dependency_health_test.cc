#include "services/common/runtime/dependency_health.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(DependencyHealthTest, ServingOnlyWhileEveryProbePasses) {
  std::vector<bool> reports;
  bool database_up = true, producer_ok = true;
  DependencyHealth health([&](bool serving) { reports.push_back(serving); });
  health.Add("database", [&] {
    return database_up ? absl::OkStatus() : absl::UnavailableError("database unavailable");
  });
  health.Add("kafka producer", [&] {
    return producer_ok ? absl::OkStatus() : absl::InternalError("fatal");
  });
  EXPECT_TRUE(health.Check());
  database_up = false;
  EXPECT_FALSE(health.Check());
  producer_ok = false;
  EXPECT_FALSE(health.Check());
  database_up = true;
  EXPECT_FALSE(health.Check());
  producer_ok = true;
  EXPECT_TRUE(health.Check());
  EXPECT_EQ(reports, (std::vector<bool>{true, false, false, false, true}));
}

}  // namespace
}  // namespace marketdata
