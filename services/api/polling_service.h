// PollingService over gRPC: create, inspect, list and stop polling jobs.
#ifndef MARKETDATA_SERVICES_API_POLLING_SERVICE_H_
#define MARKETDATA_SERVICES_API_POLLING_SERVICE_H_

#include "proto/marketdata/v1/polling.grpc.pb.h"
#include "services/polling/job_rules.h"
#include "services/providers/registry.h"
#include "services/storage/polling_job_store.h"

namespace marketdata {

class PollingServiceImpl final : public v1::PollingService::Service {
 public:
  PollingServiceImpl(PollingJobStore& store, const ProviderRegistry& providers,
                     PollingLimits limits)
      : store_(store), providers_(providers), limits_(limits) {}

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
  PollingJobStore& store_;
  const ProviderRegistry& providers_;
  const PollingLimits limits_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_POLLING_SERVICE_H_
