#include "services/domain/api_key.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(ScopesTest, ParsesNamesInAnyOrderWithRepeatsAndSpaces) {
  absl::StatusOr<ScopeSet> scopes = ParseScopes(" write, read ,write");
  ASSERT_TRUE(scopes.ok()) << scopes.status();
  EXPECT_TRUE(scopes->Has(Scope::kRead));
  EXPECT_TRUE(scopes->Has(Scope::kWrite));
  EXPECT_FALSE(scopes->Has(Scope::kAdmin));
  EXPECT_EQ(scopes->Names(), (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(ScopeSet::All().Names(), (std::vector<std::string>{"read", "write", "admin"}));
}

TEST(ScopesTest, RefusesUnknownAndEmpty) {
  EXPECT_EQ(ParseScopes("read,root").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ParseScopes("read,root").status().message().find("root"), std::string::npos);
  EXPECT_EQ(ParseScopes("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseScopes(std::vector<std::string>{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseScopes("READ").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeyNameTest, AllowsASafeAlphabetOnly) {
  EXPECT_TRUE(CheckKeyName("ci-bot_2.eu").ok());
  EXPECT_FALSE(CheckKeyName("").ok());
  EXPECT_FALSE(CheckKeyName(std::string(65, 'a')).ok());
  EXPECT_TRUE(CheckKeyName(std::string(64, 'a')).ok());
  EXPECT_FALSE(CheckKeyName("a b").ok());
  EXPECT_FALSE(CheckKeyName("a\tb").ok());
  EXPECT_FALSE(CheckKeyName("caf\xc3\xa9").ok());
}

}  // namespace
}  // namespace marketdata
