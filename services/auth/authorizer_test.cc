#include "services/auth/authorizer.h"

#include "gtest/gtest.h"
#include "services/auth/fake_api_key_store.h"
#include "services/auth/key_material.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/fake_clock.h"

namespace marketdata {
namespace {

class AuthorizerTest : public ::testing::Test {
 protected:
  // Stores a key with `scopes` and returns its secret.
  std::string AddKey(const std::string& name, const std::string& scopes, KeyQuotas quotas = {}) {
    const std::string secret = "mds_" + name;
    EXPECT_TRUE(store_.Create(name, HashApiKey(secret), *ParseScopes(scopes), quotas).ok());
    return secret;
  }
  AuthOptions Required() {
    AuthOptions options;
    options.required = true;
    options.max_jobs = 7;
    options.max_symbols = 70;
    options.clock = clock_.AsFunction();
    return options;
  }

  FakeApiKeyStore store_;
  FakeClock clock_;
};

TEST_F(AuthorizerTest, WithoutKeysEveryoneMayDoEverything) {
  Authorizer auth(nullptr, AuthOptions{});
  absl::StatusOr<Caller> caller = auth.Authorize("", "", Scope::kAdmin);
  ASSERT_TRUE(caller.ok());
  EXPECT_FALSE(caller->key_id.has_value());
  EXPECT_EQ(caller->name, "anonymous");
  EXPECT_TRUE(caller->Has(Scope::kAdmin));
  EXPECT_EQ(caller->max_jobs, 0);
}

TEST_F(AuthorizerTest, NoKeyOrAnUnknownOneIsUnauthenticated) {
  Authorizer auth(&store_, Required());
  absl::Status none = auth.Authorize("", "", Scope::kRead).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(none.message().find("Authorization: Bearer"), std::string::npos);
  EXPECT_EQ(auth.Authorize("Bearer mds_nobody", "", Scope::kRead).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, AKeyNeedsTheScope) {
  const std::string reader = AddKey("reader", "read");
  Authorizer auth(&store_, Required());
  absl::StatusOr<Caller> caller = auth.Authorize("", reader, Scope::kRead);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->name, "reader");
  EXPECT_EQ(caller->key_id, 1);
  EXPECT_EQ(caller->max_jobs, 7);  // the default
  absl::Status denied = auth.Authorize("Bearer " + reader, "", Scope::kWrite).status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "API key reader lacks the \"write\" scope this call needs");
}

TEST_F(AuthorizerTest, AKeysOwnQuotasWinOverTheDefaults) {
  KeyQuotas quotas;
  quotas.max_jobs = 2;
  const std::string secret = AddKey("small", "read,write", quotas);
  Authorizer auth(&store_, Required());
  absl::StatusOr<Caller> caller = auth.Authorize("", secret, Scope::kWrite);
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->max_jobs, 2);
  EXPECT_EQ(caller->max_symbols, 70);
}

TEST_F(AuthorizerTest, KnownKeysAreCheckedWithoutTheDatabase) {
  const std::string secret = AddKey("cached", "read");
  Authorizer auth(&store_, Required());
  ASSERT_TRUE(auth.Refresh().ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(auth.Authorize("", secret, Scope::kRead).ok());
  EXPECT_EQ(store_.lookups(), 0);
  // A key made after the last reload is looked up once, then known.
  const std::string fresh = AddKey("fresh", "read");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(auth.Authorize("", fresh, Scope::kRead).ok());
  EXPECT_EQ(store_.lookups(), 1);
}

TEST_F(AuthorizerTest, LookupsOfUnknownKeysAreRateLimited) {
  AuthOptions options = Required();
  options.unknown_lookups_per_minute = 60;  // one a second, bursts of one
  Authorizer auth(&store_, options);
  EXPECT_EQ(auth.Authorize("", "mds_a", Scope::kRead).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authorize("", "mds_b", Scope::kRead).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(store_.lookups(), 1);  // the second made-up key cost no query
  // A key made meanwhile is known from the next reload.
  const std::string secret = AddKey("new", "read");
  EXPECT_FALSE(auth.Authorize("", secret, Scope::kRead).ok());
  ASSERT_TRUE(auth.Refresh().ok());
  EXPECT_TRUE(auth.Authorize("", secret, Scope::kRead).ok());
}

TEST_F(AuthorizerTest, ARevokedKeyIsRefusedAfterTheNextReload) {
  const std::string secret = AddKey("gone", "read");
  Authorizer auth(&store_, Required());
  ASSERT_TRUE(auth.Authorize("", secret, Scope::kRead).ok());
  ASSERT_TRUE(store_.Revoke("gone").ok());
  ASSERT_TRUE(auth.Refresh().ok());
  EXPECT_EQ(auth.Authorize("", secret, Scope::kRead).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, ADatabaseOutageKeepsKnownKeysWorking) {
  const std::string secret = AddKey("steady", "read");
  Authorizer auth(&store_, Required());
  ASSERT_TRUE(auth.Refresh().ok());
  store_.Fail(absl::UnavailableError("database down"));
  EXPECT_FALSE(auth.Refresh().ok());
  EXPECT_TRUE(auth.Authorize("", secret, Scope::kRead).ok());
  // An unknown key cannot be checked: UNAVAILABLE, not UNAUTHENTICATED.
  EXPECT_EQ(auth.Authorize("", "mds_other", Scope::kRead).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(AuthorizerTest, RequestsPerMinuteRefuseWithRetryAdvice) {
  KeyQuotas quotas;
  quotas.requests_per_minute = 60;  // one a second, bursts of one
  const std::string secret = AddKey("busy", "read", quotas);
  Authorizer auth(&store_, Required());
  ASSERT_TRUE(auth.Authorize("", secret, Scope::kRead).ok());
  absl::Status refused = auth.Authorize("", secret, Scope::kRead).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(), "API key busy used its 60 requests a minute");
  std::optional<RetryAdvice> advice = RetryAdviceOf(refused);
  ASSERT_TRUE(advice.has_value());
  EXPECT_GT(advice->retry_after, absl::ZeroDuration());
  EXPECT_LE(advice->retry_after, absl::Seconds(1));
  EXPECT_EQ(advice->limit, 60);
  // Another key is not affected, and the reload keeps what was used.
  const std::string other = AddKey("other", "read", quotas);
  EXPECT_TRUE(auth.Authorize("", other, Scope::kRead).ok());
  ASSERT_TRUE(auth.Refresh().ok());
  EXPECT_FALSE(auth.Authorize("", secret, Scope::kRead).ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(auth.Authorize("", secret, Scope::kRead).ok());
}

}  // namespace
}  // namespace marketdata
