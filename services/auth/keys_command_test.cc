#include "services/auth/keys_command.h"

#include <sstream>

#include "gtest/gtest.h"
#include "services/auth/fake_api_key_store.h"
#include "services/auth/key_material.h"

namespace marketdata {
namespace {

class KeysCommandTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return RunKeysCommand(args, admin_, out_, err_);
  }
  FakeApiKeyStore store_;
  KeyAdmin admin_{store_};
  std::ostringstream out_, err_;
};

TEST_F(KeysCommandTest, CreatePrintsTheSecretOnceAndStoresOnlyItsHash) {
  ASSERT_EQ(Run({"create", "ci", "--scopes", "read,write", "--max-jobs", "3"}), 0) << err_.str();
  const std::string out = out_.str();
  EXPECT_NE(out.find("ci\tscopes=read,write\trequests_per_minute=default\tmax_jobs=3"),
            std::string::npos)
      << out;
  const size_t at = out.find("mds_");
  ASSERT_NE(at, std::string::npos);
  const std::string secret = out.substr(at, 68);
  absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> active = store_.ListActive();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].first, HashApiKey(secret));
  // The list never shows it again.
  ASSERT_EQ(Run({"list"}), 0);
  EXPECT_EQ(out_.str().find("mds_"), std::string::npos);
  EXPECT_NE(out_.str().find("ci\t"), std::string::npos);
}

TEST_F(KeysCommandTest, RevokeAndQuota) {
  ASSERT_EQ(Run({"create", "ops", "--scopes", "admin"}), 0);
  ASSERT_EQ(Run({"quota", "ops", "--requests-per-minute", "0"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("requests_per_minute=none"), std::string::npos) << out_.str();
  ASSERT_EQ(Run({"revoke", "ops"}), 0);
  EXPECT_NE(out_.str().find("revoked="), std::string::npos);
  EXPECT_EQ(Run({"revoke", "ops"}), 1);
  EXPECT_NE(err_.str().find("no active API key called ops"), std::string::npos);
  // The name is free again once revoked.
  EXPECT_EQ(Run({"create", "ops", "--scopes", "admin"}), 0);
}

TEST_F(KeysCommandTest, BadUsageIsExitCodeTwoWithAReason) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_NE(err_.str().find("usage:"), std::string::npos);
  EXPECT_EQ(Run({"create", "x"}), 2);  // no scopes
  EXPECT_NE(err_.str().find("scopes"), std::string::npos);
  EXPECT_EQ(Run({"create", "x", "--scopes", "root"}), 2);
  EXPECT_EQ(Run({"create", "bad name", "--scopes", "read"}), 2);
  EXPECT_EQ(Run({"create", "x", "--scopes", "read", "--max-jobs", "-1"}), 2);
  EXPECT_EQ(Run({"create", "x", "--scopes", "read", "--max-jobs", "many"}), 2);
  EXPECT_EQ(Run({"create", "x", "--scopes"}), 2);
  EXPECT_EQ(Run({"create", "x", "--colour", "red"}), 2);
  EXPECT_EQ(Run({"drop"}), 2);
  absl::StatusOr<std::vector<ApiKey>> keys = store_.List();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

}  // namespace
}  // namespace marketdata
