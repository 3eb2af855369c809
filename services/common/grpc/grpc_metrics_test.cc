#include "services/common/grpc/grpc_metrics.h"

#include <memory>
#include <string>

#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "proto/marketdata/v1/price.grpc.pb.h"

namespace marketdata {
namespace {

class Prices final : public v1::PriceService::Service {
  grpc::Status GetLatestPrice(grpc::ServerContext*, const v1::GetLatestPriceRequest* request,
                              v1::Price* reply) override {
    if (request->symbol() == "NOPE") return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown");
    reply->set_symbol(request->symbol());
    return grpc::Status::OK;
  }
};

using Labels = std::map<std::string, std::string>;

double Value(const std::vector<MetricSample>& samples, const Labels& labels) {
  for (const MetricSample& s : samples) {
    if (s.labels == labels) return s.value;
  }
  return -1;  // no such series
}

Labels MethodLabels(const std::string& type, const std::string& service,
                    const std::string& method) {
  return {{"grpc_type", type}, {"grpc_service", service}, {"grpc_method", method}};
}

Labels WithCode(Labels labels, const std::string& code) {
  labels["grpc_code"] = code;
  return labels;
}

class GrpcServerMetricsTest : public testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&prices_);
    builder.SetOption(metrics_.AddRegisteredServicesOption());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(metrics_.NewInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(creators));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override { server_->Shutdown(); }

  grpc::StatusCode GetLatestPrice(const std::string& symbol) {
    auto stub = v1::PriceService::NewStub(channel_);
    grpc::ClientContext context;
    v1::GetLatestPriceRequest request;
    request.set_symbol(symbol);
    v1::Price reply;
    return stub->GetLatestPrice(&context, request, &reply).error_code();
  }

  GrpcServerMetrics metrics_;
  Prices prices_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

const Labels kLatest = MethodLabels("unary", "marketdata.v1.PriceService", "GetLatestPrice");

TEST_F(GrpcServerMetricsTest, EveryRegisteredMethodHasSeriesBeforeItsFirstCall) {
  EXPECT_EQ(Value(metrics_.Started(), kLatest), 0);
  EXPECT_EQ(Value(metrics_.Handled(), WithCode(kLatest, "OK")), 0);
  EXPECT_EQ(Value(metrics_.Handled(), WithCode(kLatest, "Unauthenticated")), 0);
  EXPECT_EQ(Value(metrics_.Started(), MethodLabels("server_stream", "marketdata.v1.PriceService",
                                                   "StreamPrices")),
            0);
  // The services the server adds itself.
  EXPECT_EQ(Value(metrics_.Started(), MethodLabels("unary", "grpc.health.v1.Health", "Check")),
            0);
  EXPECT_EQ(Value(metrics_.Started(), MethodLabels("bidi_stream",
                                                   "grpc.reflection.v1alpha.ServerReflection",
                                                   "ServerReflectionInfo")),
            0);
  // A service the server does not register has none, though the binary knows it.
  EXPECT_EQ(Value(metrics_.Started(), MethodLabels("unary", "marketdata.v1.PollingService",
                                                   "GetPollingJob")),
            -1);
}

TEST_F(GrpcServerMetricsTest, CountsCallsByCodeAndTimesThem) {
  EXPECT_EQ(GetLatestPrice("AAPL"), grpc::StatusCode::OK);
  EXPECT_EQ(GetLatestPrice("MSFT"), grpc::StatusCode::OK);
  EXPECT_EQ(GetLatestPrice("NOPE"), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Value(metrics_.Started(), kLatest), 3);
  EXPECT_EQ(Value(metrics_.Handled(), WithCode(kLatest, "OK")), 2);
  EXPECT_EQ(Value(metrics_.Handled(), WithCode(kLatest, "NotFound")), 1);
  for (const HistogramSample& h : metrics_.HandlingSeconds()) {
    if (h.labels != kLatest) continue;
    EXPECT_EQ(h.snapshot.count, 3u);
    EXPECT_GT(h.snapshot.sum, 0);
    EXPECT_LT(h.snapshot.sum, 10);
  }
}

TEST_F(GrpcServerMetricsTest, AMethodTheServerDoesNotHaveAddsNoSeries) {
  const size_t series = metrics_.Started().size();
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), reply;
  grpc::Status status;
  bool done = false;
  absl::Mutex mu;
  stub.UnaryCall(&context, "/no.such.Service/Method", grpc::StubOptions(), &request, &reply,
                 [&](grpc::Status s) {
                   absl::MutexLock lock(&mu);
                   status = s;
                   done = true;
                 });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&done));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(metrics_.Started().size(), series);
}

TEST(GrpcCodeNameTest, SpelledAsGoSpellsThem) {
  EXPECT_EQ(GrpcCodeName(0), "OK");
  EXPECT_EQ(GrpcCodeName(1), "Canceled");
  EXPECT_EQ(GrpcCodeName(4), "DeadlineExceeded");
  EXPECT_EQ(GrpcCodeName(16), "Unauthenticated");
  EXPECT_EQ(GrpcCodeName(99), "Unknown");
}

}  // namespace
}  // namespace marketdata
