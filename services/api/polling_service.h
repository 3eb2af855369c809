// PollingService over gRPC: create, inspect, list and stop polling jobs.
#ifndef MARKETDATA_SERVICES_API_POLLING_SERVICE_H_
#define MARKETDATA_SERVICES_API_POLLING_SERVICE_H_

#include "proto/marketdata/v1/polling.grpc.pb.h"
#include "services/auth/authorizer.h"
#include "services/polling/job_rules.h"
#include "services/providers/registry.h"
#include "services/storage/polling_job_store.h"

namespace marketdata {

class PollingServiceImpl final : public v1::PollingService::Service {
 public:
  // With keys required, a job belongs to the key that created it: other keys neither see nor
  // stop it (NOT_FOUND, as for a job that does not exist), except with the admin scope.
  PollingServiceImpl(PollingJobStore& store, const ProviderRegistry& providers,
                     PollingLimits limits, Authorizer& auth)
      : store_(store), providers_(providers), limits_(limits), auth_(auth) {}

  grpc::Status CreatePollingJob(grpc::ServerContext* context,
                                const v1::CreatePollingJobRequest* request,
                                v1::PollingJob* response) override;
  grpc::Status GetPollingJob(grpc::ServerContext* context,
                             const v1::GetPollingJobRequest* request,
                             v1::PollingJob* response) override;
  grpc::Status ListPollingJobs(grpc::ServerContext* context,
                               const v1::ListPollingJobsRequest* request,
                               v1::ListPollingJobsResponse* response) override;
  grpc::Status DeletePollingJob(grpc::ServerContext* context,
                                const v1::DeletePollingJobRequest* request,
                                v1::DeletePollingJobResponse* response) override;

 private:
  // The job, when `caller` may see it.
  absl::StatusOr<PollingJob> Visible(const std::string& job_id, const Caller& caller);
  // RESOURCE_EXHAUSTED when `config` would take `caller` over its job or symbol quota.
  absl::Status CheckQuota(const Caller& caller, const JobConfig& config);

  PollingJobStore& store_;
  const ProviderRegistry& providers_;
  const PollingLimits limits_;
  Authorizer& auth_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_POLLING_SERVICE_H_
