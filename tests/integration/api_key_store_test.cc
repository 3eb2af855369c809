// PostgresApiKeyStore against a real PostgreSQL: only hashes are stored, names are unique among
// active keys, quotas are NULL unless set, and revoking frees the name.
#include "services/storage/api_key_store.h"

#include "gtest/gtest.h"
#include "services/storage/migrations.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::ScratchDatabase;

class ApiKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Connect(scratch_.url(), 2, absl::Seconds(10));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(ApplyMigrations(*db_, EmbeddedMigrations()).ok());
    store_ = std::make_unique<PostgresApiKeyStore>(*db_);
  }
  ScratchDatabase scratch_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<PostgresApiKeyStore> store_;
};

TEST_F(ApiKeyStoreTest, CreateFindRevoke) {
  KeyQuotas quotas;
  quotas.max_jobs = 3;
  absl::StatusOr<ApiKey> created =
      store_->Create("ci", "hash-ci", *ParseScopes("read,write"), quotas);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->name, "ci");
  EXPECT_EQ(created->scopes.Names(), (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(created->quotas.max_jobs, 3);
  EXPECT_FALSE(created->quotas.requests_per_minute.has_value());
  EXPECT_FALSE(created->revoked_at.has_value());

  EXPECT_EQ(store_->Create("ci", "hash-other", *ParseScopes("read"), {}).status().code(),
            absl::StatusCode::kAlreadyExists);

  absl::StatusOr<std::optional<ApiKey>> found = store_->FindActive("hash-ci");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, created->id);
  EXPECT_FALSE(store_->FindActive("hash-none")->has_value());

  KeyQuotas more;
  more.requests_per_minute = 0;
  absl::StatusOr<ApiKey> changed = store_->SetQuotas("ci", more);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->quotas.requests_per_minute, 0);
  EXPECT_EQ(changed->quotas.max_jobs, 3);  // kept

  ASSERT_TRUE(store_->Revoke("ci").ok());
  EXPECT_FALSE(store_->FindActive("hash-ci")->has_value());
  EXPECT_TRUE(store_->ListActive()->empty());
  EXPECT_EQ(store_->Revoke("ci").status().code(), absl::StatusCode::kNotFound);
  // The name is free again; the revoked key stays listed.
  ASSERT_TRUE(store_->Create("ci", "hash-ci-2", *ParseScopes("admin"), {}).ok());
  absl::StatusOr<std::vector<ApiKey>> all = store_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE((*all)[0].revoked_at.has_value());
  absl::StatusOr<std::vector<std::pair<std::string, ApiKey>>> active = store_->ListActive();
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].first, "hash-ci-2");
}

}  // namespace
}  // namespace marketdata
