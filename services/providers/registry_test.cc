#include "services/providers/registry.h"

#include "gtest/gtest.h"
#include "services/providers/test_provider.h"

namespace marketdata {
namespace {

TEST(ProviderRegistryTest, FindsByNameCaseInsensitiveAndDefault) {
  ProviderRegistry registry("test");
  registry.Add(std::make_unique<TestProvider>(1));
  EXPECT_EQ((*registry.Find("TEST"))->name(), "test");
  EXPECT_EQ((*registry.Find(""))->name(), "test");
}

TEST(ProviderRegistryTest, UnknownProviderListsTheKnownOnes) {
  ProviderRegistry registry("test");
  registry.Add(std::make_unique<TestProvider>(1));
  auto result = registry.Find("bloomberg");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("bloomberg"), absl::string_view::npos);
  EXPECT_NE(result.status().message().find("available: test"), absl::string_view::npos);
}

}  // namespace
}  // namespace marketdata
