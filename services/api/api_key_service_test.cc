// ApiKeyServiceImpl in an in-process gRPC server, called through the generated client, over the
// in-memory key store: what an admin makes, lists, revokes and changes, and who is refused.
#include "services/api/api_key_service.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/auth/keyed_authorizer.h"
#include "services/common/testing/in_process_server.h"

namespace marketdata {
namespace {

class ApiKeyServiceTest : public ::testing::Test {
 protected:
  v1::CreateApiKeyRequest NewKey(const std::string& name, std::vector<std::string> scopes) {
    v1::CreateApiKeyRequest request;
    request.set_name(name);
    for (const std::string& scope : scopes) request.add_scopes(scope);
    return request;
  }
  grpc::Status Create(const v1::CreateApiKeyRequest& request, v1::CreateApiKeyResponse* out,
                      const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    return stub_->CreateApiKey(&context, request, out);
  }
  grpc::Status List(v1::ListApiKeysResponse* out, const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    return stub_->ListApiKeys(&context, {}, out);
  }
  grpc::Status Revoke(const std::string& name, v1::ApiKey* out, const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    v1::RevokeApiKeyRequest request;
    request.set_name(name);
    return stub_->RevokeApiKey(&context, request, out);
  }
  grpc::Status SetQuotas(const v1::SetApiKeyQuotasRequest& request, v1::ApiKey* out,
                         const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    return stub_->SetApiKeyQuotas(&context, request, out);
  }

  KeyedAuthorizer keys_;
  KeyAdmin admin_{keys_.store()};
  ApiKeyServiceImpl service_{admin_, keys_.auth()};
  InProcessServer server_{{&service_}};
  std::unique_ptr<v1::ApiKeyService::Stub> stub_ = server_.NewStub<v1::ApiKeyService>();
  const std::string root_ = keys_.AddKey("root", "admin");
};

TEST_F(ApiKeyServiceTest, AnAdminMakesAKeyThatWorksAtOnce) {
  v1::CreateApiKeyRequest request = NewKey("ingest", {"read", "write"});
  request.mutable_quotas()->set_max_jobs(3);
  v1::CreateApiKeyResponse created;
  const grpc::Status status = Create(request, &created, root_);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.key().name(), "ingest");
  ASSERT_EQ(created.key().scopes_size(), 2);
  EXPECT_EQ(created.key().scopes(0), "read");
  EXPECT_EQ(created.key().scopes(1), "write");
  EXPECT_EQ(created.key().quotas().max_jobs(), 3);
  EXPECT_FALSE(created.key().quotas().has_max_symbols());  // unset: the default applies
  EXPECT_GT(created.key().created_at().seconds(), 1600000000);
  EXPECT_FALSE(created.key().has_revoked_at());
  ASSERT_FALSE(created.secret().empty());
  // The secret is the key: it authorizes its scopes, and no more.
  EXPECT_TRUE(keys_.auth().Authorize("", created.secret(), Scope::kWrite).ok());
  v1::ListApiKeysResponse listed;
  EXPECT_EQ(List(&listed, created.secret()).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  ASSERT_TRUE(List(&listed, root_).ok());
  ASSERT_EQ(listed.keys_size(), 2);
  EXPECT_EQ(listed.keys(0).name(), "root");
  EXPECT_EQ(listed.keys(1).name(), "ingest");
}

TEST_F(ApiKeyServiceTest, RevokedKeysAreListedAsRevokedAndRefused) {
  v1::CreateApiKeyResponse created;
  ASSERT_TRUE(Create(NewKey("leaked", {"read"}), &created, root_).ok());
  v1::ApiKey revoked;
  ASSERT_TRUE(Revoke("leaked", &revoked, root_).ok());
  EXPECT_EQ(revoked.name(), "leaked");
  EXPECT_TRUE(revoked.has_revoked_at());
  ASSERT_TRUE(keys_.auth().Refresh().ok());  // what every replica does every refresh
  EXPECT_EQ(keys_.auth().Authorize("", created.secret(), Scope::kRead).status().code(),
            absl::StatusCode::kUnauthenticated);
  v1::ListApiKeysResponse listed;
  ASSERT_TRUE(List(&listed, root_).ok());
  ASSERT_EQ(listed.keys_size(), 2);
  EXPECT_TRUE(listed.keys(1).has_revoked_at());
  // Revoked once is revoked: there is no active key of that name any more.
  const grpc::Status again = Revoke("leaked", &revoked, root_);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(again.error_message(), "no active API key called leaked");
}

TEST_F(ApiKeyServiceTest, SettingQuotasChangesOnlyTheOnesGiven) {
  v1::CreateApiKeyRequest request = NewKey("batch", {"write"});
  request.mutable_quotas()->set_max_jobs(3);
  v1::CreateApiKeyResponse created;
  ASSERT_TRUE(Create(request, &created, root_).ok());
  v1::SetApiKeyQuotasRequest change;
  change.set_name("batch");
  change.mutable_quotas()->set_requests_per_minute(600);
  v1::ApiKey changed;
  ASSERT_TRUE(SetQuotas(change, &changed, root_).ok());
  EXPECT_EQ(changed.quotas().requests_per_minute(), 600);
  EXPECT_EQ(changed.quotas().max_jobs(), 3);
  change.set_name("ghost");
  const grpc::Status unknown = SetQuotas(change, &changed, root_);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.error_message(), "no active API key called ghost");
}

TEST_F(ApiKeyServiceTest, BadRequestsAreInvalidArgumentWithTheirMessage) {
  auto refused = [&](const v1::CreateApiKeyRequest& request) {
    v1::CreateApiKeyResponse created;
    const grpc::Status status = Create(request, &created, root_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    return status.error_message();
  };
  EXPECT_EQ(refused(NewKey("", {"read"})), "name: 1 to 64 characters");
  EXPECT_EQ(refused(NewKey("two words", {"read"})),
            "name: only letters, digits, '.', '_' and '-'");
  EXPECT_EQ(refused(NewKey("ok", {})), "scopes: name at least one of read, write, admin");
  EXPECT_EQ(refused(NewKey("ok", {"root"})), "unknown scope \"root\": use read, write or admin");
  v1::CreateApiKeyRequest negative = NewKey("ok", {"read"});
  negative.mutable_quotas()->set_max_symbols(-1);
  EXPECT_EQ(refused(negative), "max_symbols: 0 (no limit) or more");
  v1::SetApiKeyQuotasRequest change;
  change.set_name("root");
  change.mutable_quotas()->set_requests_per_minute(-5);
  v1::ApiKey changed;
  const grpc::Status status = SetQuotas(change, &changed, root_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "requests_per_minute: 0 (no limit) or more");
  v1::ListApiKeysResponse listed;
  ASSERT_TRUE(List(&listed, root_).ok());
  EXPECT_EQ(listed.keys_size(), 1);  // none was made
}

TEST_F(ApiKeyServiceTest, ANameInUseIsAlreadyExists) {
  v1::CreateApiKeyResponse created;
  const grpc::Status status = Create(NewKey("root", {"read"}), &created, root_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(status.error_message(), "an API key called root already exists");
}

TEST_F(ApiKeyServiceTest, EveryCallNeedsAnAdminKey) {
  v1::ListApiKeysResponse listed;
  const grpc::Status none = List(&listed, "");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const std::string writer = keys_.AddKey("writer", "read,write");
  const grpc::Status denied = List(&listed, writer);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "API key writer lacks the \"admin\" scope this call needs");
  v1::CreateApiKeyResponse created;
  EXPECT_EQ(Create(NewKey("sneaky", {"admin"}), &created, writer).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ApiKey revoked;
  EXPECT_EQ(Revoke("root", &revoked, writer).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(List(&listed, root_).ok());
  EXPECT_EQ(listed.keys_size(), 2);  // root and writer: nothing made, nothing revoked
  EXPECT_FALSE(listed.keys(0).has_revoked_at());
}

// Without required keys every caller would be an admin, so the service refuses everyone.
TEST(ApiKeyServiceWithoutKeysTest, RefusesEveryCall) {
  KeyedAuthorizer keys;
  KeyAdmin admin(keys.store());
  Authorizer open(nullptr, AuthOptions{});
  ApiKeyServiceImpl service(admin, open);
  InProcessServer server({&service});
  auto stub = server.NewStub<v1::ApiKeyService>();
  grpc::ClientContext context;
  v1::CreateApiKeyRequest request;
  request.set_name("first");
  request.add_scopes("admin");
  v1::CreateApiKeyResponse created;
  const grpc::Status status = stub->CreateApiKey(&context, request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("REQUIRE_API_KEYS=true"), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(keys.store().List()->empty());
}

}  // namespace
}  // namespace marketdata
