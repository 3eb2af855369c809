#include "services/auth/key_material.h"

#include <set>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(KeyMaterialTest, NewKeysAreLongRandomAndDistinct) {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::string> key = NewApiKey();
    ASSERT_TRUE(key.ok());
    ASSERT_EQ(key->size(), 4u + 64u);
    EXPECT_EQ(key->substr(0, 4), "mds_");
    EXPECT_EQ(key->find_first_not_of("0123456789abcdef", 4), std::string::npos);
    keys.insert(*key);
  }
  EXPECT_EQ(keys.size(), 100u);
}

TEST(KeyMaterialTest, HashIsSha256InHex) {
  // The SHA-256 test vector of "abc" (FIPS 180-2).
  EXPECT_EQ(HashApiKey("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(HashApiKey("mds_a"), HashApiKey("mds_b"));
}

TEST(KeyMaterialTest, KeyFromEitherHeader) {
  EXPECT_EQ(KeyFromCredentials("Bearer mds_1", ""), "mds_1");
  EXPECT_EQ(KeyFromCredentials("bearer   mds_1 ", ""), "mds_1");
  EXPECT_EQ(KeyFromCredentials("", " mds_2"), "mds_2");
  // Bearer wins over X-API-Key; another scheme is no key, so X-API-Key is used.
  EXPECT_EQ(KeyFromCredentials("Bearer mds_1", "mds_2"), "mds_1");
  EXPECT_EQ(KeyFromCredentials("Basic dXNlcjpwYXNz", "mds_2"), "mds_2");
  EXPECT_EQ(KeyFromCredentials("Basic dXNlcjpwYXNz", ""), "");
  EXPECT_EQ(KeyFromCredentials("Bearer ", ""), "");
  EXPECT_EQ(KeyFromCredentials("", ""), "");
}

}  // namespace
}  // namespace marketdata
