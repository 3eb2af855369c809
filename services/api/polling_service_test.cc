// PollingServiceImpl in an in-process gRPC server, called through the generated client, with
// keys required: the jobs a client creates, reads, lists and stops, and what it is refused.
#include "services/api/polling_service.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/auth/keyed_authorizer.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/in_process_server.h"
#include "services/polling/fake_polling_job_store.h"
#include "services/providers/test_provider.h"

namespace marketdata {
namespace {

class PollingServiceTest : public ::testing::Test {
 protected:
  PollingServiceTest() { providers_.Add(std::make_unique<TestProvider>(1)); }

  v1::CreatePollingJobRequest Job(std::vector<std::string> symbols, int interval,
                                  const std::string& provider = "") {
    v1::CreatePollingJobRequest request;
    for (const std::string& symbol : symbols) request.add_symbols(symbol);
    request.set_interval(interval);
    request.set_provider(provider);
    return request;
  }
  grpc::Status Create(const v1::CreatePollingJobRequest& request, v1::PollingJob* out,
                      const std::string& key, grpc::ClientContext* context = nullptr) {
    grpc::ClientContext local;
    if (context == nullptr) context = &local;
    SendKey(*context, key);
    return stub_->CreatePollingJob(context, request, out);
  }
  grpc::Status Get(const std::string& job_id, v1::PollingJob* out, const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    v1::GetPollingJobRequest request;
    request.set_job_id(job_id);
    return stub_->GetPollingJob(&context, request, out);
  }
  grpc::Status List(const v1::ListPollingJobsRequest& request, v1::ListPollingJobsResponse* out,
                    const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    return stub_->ListPollingJobs(&context, request, out);
  }
  grpc::Status Delete(const std::string& job_id, v1::DeletePollingJobResponse* out,
                      const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    v1::DeletePollingJobRequest request;
    request.set_job_id(job_id);
    return stub_->DeletePollingJob(&context, request, out);
  }

  ProviderRegistry providers_{"test"};
  FakePollingJobStore store_;
  KeyedAuthorizer keys_;
  PollingServiceImpl service_{store_, providers_, PollingLimits{}, keys_.auth()};
  InProcessServer server_{{&service_}};
  std::unique_ptr<v1::PollingService::Stub> stub_ = server_.NewStub<v1::PollingService>();
  const std::string writer_ = keys_.AddKey("writer", "read,write");
};

TEST_F(PollingServiceTest, CreatesAJobThenGetsListsAndStopsIt) {
  v1::PollingJob created;
  const grpc::Status status = Create(Job({" aapl", "msft"}, 30), &created, writer_);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(IsValidJobId(created.job_id())) << created.job_id();
  EXPECT_EQ(created.status(), "accepted");
  ASSERT_EQ(created.config().symbols_size(), 2);
  EXPECT_EQ(created.config().symbols(0), "AAPL");
  EXPECT_EQ(created.config().symbols(1), "MSFT");
  EXPECT_EQ(created.config().interval(), 30);
  EXPECT_EQ(created.config().provider(), "test");  // the default, by name
  EXPECT_GT(created.created_at().seconds(), 1600000000);
  EXPECT_TRUE(created.has_next_run_at());
  EXPECT_EQ(created.run_count(), 0);

  v1::PollingJob got;
  ASSERT_TRUE(Get(created.job_id(), &got, writer_).ok());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());

  v1::ListPollingJobsResponse listed;
  ASSERT_TRUE(List({}, &listed, writer_).ok());
  ASSERT_EQ(listed.jobs_size(), 1);
  EXPECT_EQ(listed.jobs(0).job_id(), created.job_id());
  EXPECT_EQ(listed.next_page_token(), "");

  v1::DeletePollingJobResponse stopped;
  ASSERT_TRUE(Delete(created.job_id(), &stopped, writer_).ok());
  EXPECT_EQ(stopped.job_id(), created.job_id());
  EXPECT_EQ(stopped.status(), "stopped");
  EXPECT_FALSE(stopped.has_next_run_at());  // a stopped job never runs again
  EXPECT_EQ(stopped.message(), "Polling job " + created.job_id() + " stopped");
  EXPECT_EQ(store_.row(created.job_id())->job.status, JobStatus::kStopped);
}

TEST_F(PollingServiceTest, BadJobsAreInvalidArgumentNamingTheField) {
  auto refused = [&](const v1::CreatePollingJobRequest& request) {
    v1::PollingJob job;
    const grpc::Status status = Create(request, &job, writer_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    return status.error_message();
  };
  EXPECT_EQ(refused(Job({}, 30)), "symbols is required");
  EXPECT_EQ(refused(Job({"AAPL"}, 0)), "interval is required: whole seconds between 1 and 86400");
  EXPECT_EQ(refused(Job({"AAPL"}, 86401)),
            "interval must be between 1 and 86400 seconds, got 86401");
  EXPECT_EQ(refused(Job({"AAPL"}, -5)), "interval must be between 1 and 86400 seconds, got -5");
  EXPECT_NE(refused(Job({"AA PL"}, 30)).find("invalid symbol \"AA PL\""), std::string::npos);
  EXPECT_EQ(refused(Job({"AAPL"}, 30, "nope")), "unknown provider \"nope\"; available: test");
  std::vector<std::string> too_many;
  for (int i = 0; i < 51; ++i) too_many.push_back("S" + std::to_string(i));
  EXPECT_FALSE(refused(Job(too_many, 30)).empty());
  v1::ListPollingJobsResponse listed;
  EXPECT_TRUE(List({}, &listed, writer_).ok());
  EXPECT_EQ(listed.jobs_size(), 0);  // none was stored
}

TEST_F(PollingServiceTest, AMissingFieldCarriesItsReason) {
  grpc::ClientContext context;
  v1::PollingJob job;
  const grpc::Status status = Create(Job({"AAPL"}, 0), &job, writer_, &context);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto trailers = context.GetServerTrailingMetadata();
  const auto it = trailers.find(kErrorReasonKey);
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), kReasonMissingField);
}

TEST_F(PollingServiceTest, BadListQueriesAreInvalidArgument) {
  auto refused = [&](const v1::ListPollingJobsRequest& request) {
    v1::ListPollingJobsResponse listed;
    const grpc::Status status = List(request, &listed, writer_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    return status.error_message();
  };
  v1::ListPollingJobsRequest bad_token;
  bad_token.set_page_token("1700000000000000.42");  // a price token, not a job's
  EXPECT_EQ(refused(bad_token), "invalid page_token");
  v1::ListPollingJobsRequest bad_status;
  bad_status.set_status("sleeping");
  EXPECT_EQ(refused(bad_status),
            "invalid status \"sleeping\": expected accepted, running, stopped or failed");
  v1::ListPollingJobsRequest too_many;
  too_many.set_limit(501);
  EXPECT_EQ(refused(too_many), "limit must be between 1 and 500 (0 means 50)");
}

TEST_F(PollingServiceTest, UnknownOrMalformedJobsAreNotFound) {
  v1::PollingJob job;
  EXPECT_EQ(Get("poll_0000abcd", &job, writer_).error_code(), grpc::StatusCode::NOT_FOUND);
  const grpc::Status malformed = Get("nope", &job, writer_);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(malformed.error_message(), "polling job nope not found");
  v1::DeletePollingJobResponse stopped;
  EXPECT_EQ(Delete("poll_0000abcd", &stopped, writer_).error_code(), grpc::StatusCode::NOT_FOUND);
  const grpc::Status missing = Get("", &job, writer_);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing.error_message(), "job_id is required");
}

TEST_F(PollingServiceTest, CallsNeedAKeyWithTheirScope) {
  v1::PollingJob job;
  const grpc::Status none = Create(Job({"AAPL"}, 30), &job, "");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Create(Job({"AAPL"}, 30), &job, "mds_made_up").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string reader = keys_.AddKey("reader", "read");
  const grpc::Status denied = Create(Job({"AAPL"}, 30), &job, reader);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "API key reader lacks the \"write\" scope this call needs");
  v1::ListPollingJobsResponse listed;
  EXPECT_TRUE(List({}, &listed, reader).ok());  // reading needs only read
  v1::DeletePollingJobResponse stopped;
  EXPECT_EQ(Delete("poll_0000abcd", &stopped, reader).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PollingServiceTest, AJobBelongsToItsKeyUnlessTheCallerIsAnAdmin) {
  v1::PollingJob mine;
  ASSERT_TRUE(Create(Job({"AAPL"}, 30), &mine, writer_).ok());
  const std::string other = keys_.AddKey("other", "read,write");
  v1::PollingJob job;
  const grpc::Status hidden = Get(mine.job_id(), &job, other);
  EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(hidden.error_message(), "polling job " + mine.job_id() + " not found");
  v1::DeletePollingJobResponse stopped;
  EXPECT_EQ(Delete(mine.job_id(), &stopped, other).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListPollingJobsResponse listed;
  ASSERT_TRUE(List({}, &listed, other).ok());
  EXPECT_EQ(listed.jobs_size(), 0);
  const std::string admin = keys_.AddKey("admin", "read,admin");
  EXPECT_TRUE(Get(mine.job_id(), &job, admin).ok());
  ASSERT_TRUE(List({}, &listed, admin).ok());
  EXPECT_EQ(listed.jobs_size(), 1);
  EXPECT_EQ(store_.row(mine.job_id())->job.status, JobStatus::kAccepted);  // still running
}

TEST_F(PollingServiceTest, AKeysJobQuotaIsResourceExhausted) {
  KeyQuotas quotas;
  quotas.max_jobs = 1;
  const std::string small = keys_.AddKey("small", "read,write", quotas);
  v1::PollingJob job;
  ASSERT_TRUE(Create(Job({"AAPL"}, 30), &job, small).ok());
  const grpc::Status second = Create(Job({"MSFT"}, 30), &job, small);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(second.error_message(),
            "API key small already runs 1 polling jobs, its limit; stop one first");
}

}  // namespace
}  // namespace marketdata
