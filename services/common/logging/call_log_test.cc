#include "services/common/logging/call_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/marketdata/v1/price.grpc.pb.h"
#include "services/common/grpc/grpc_server.h"
#include "services/common/logging/logging.h"
#include "services/common/logging/request_context.h"
#include "spdlog/sinks/ostream_sink.h"

namespace marketdata {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";

// ListProviders is a sync handler; GetLatestPrice a callback one that finishes on a thread of
// its own, as mds-api's does, carrying the context over. Each logs one line.
class FakePrices final
    : public v1::PriceService::WithCallbackMethod_GetLatestPrice<v1::PriceService::Service> {
 public:
  grpc::Status ListProviders(grpc::ServerContext*, const v1::ListProvidersRequest*,
                             v1::ListProvidersResponse*) override {
    spdlog::info("listing providers");
    return grpc::Status::OK;
  }

  grpc::ServerUnaryReactor* GetLatestPrice(grpc::CallbackServerContext* context,
                                           const v1::GetLatestPriceRequest* request,
                                           v1::Price* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::thread([reactor, request, response, ids = CurrentRequestContext()] {
      ScopedRequestContext scope(ids);
      spdlog::info("pricing {}", request->symbol());
      if (request->symbol() == "NOSUCH") {
        reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such symbol"));
        return;
      }
      if (request->symbol() == "BROKEN") {
        reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "broken"));
        return;
      }
      response->set_symbol(request->symbol());
      reactor->Finish(grpc::Status::OK);
    }).detach();
    return reactor;
  }
};

// A server with the call log at `sample_rate`, a client, and the lines the process logged.
class CallLogTest : public ::testing::Test {
 protected:
  void StartServer(double sample_rate) {
    LogSettings settings;
    settings.call_sample_rate = sample_rate;
    ASSERT_TRUE(InitLogging("mds-test", settings).ok());
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_formatter(NewLogFormatter(LogFormat::kJson, "mds-test"));
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("mds-test", sink));
    absl::StatusOr<std::unique_ptr<GrpcServer>> server =
        GrpcServer::Start("127.0.0.1:0", {&service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::PriceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
  }

  grpc::Status Latest(const std::string& symbol, const std::string& request_id,
                      const std::string& traceparent = kTraceparent) {
    grpc::ClientContext context;
    if (!request_id.empty()) context.AddMetadata(kRequestIdKey, request_id);
    if (!traceparent.empty()) context.AddMetadata(kTraceparentKey, traceparent);
    v1::GetLatestPriceRequest request;
    request.set_symbol(symbol);
    v1::Price price;
    return stub_->GetLatestPrice(&context, request, &price);
  }

  // The JSON lines with `msg`, in order.
  std::vector<nlohmann::json> Lines(const std::string& msg) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      nlohmann::json parsed = nlohmann::json::parse(line);
      if (parsed["msg"] == msg) lines.push_back(std::move(parsed));
    }
    return lines;
  }

  std::ostringstream out_;
  FakePrices service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::PriceService::Stub> stub_;
};

TEST_F(CallLogTest, SyncCallLogsOneLineAndItsHandlerLinesCarryTheIds) {
  StartServer(1);
  grpc::ClientContext context;
  context.AddMetadata(kRequestIdKey, "req-sync");
  context.AddMetadata(kTraceparentKey, kTraceparent);
  v1::ListProvidersResponse response;
  ASSERT_TRUE(stub_->ListProviders(&context, v1::ListProvidersRequest(), &response).ok());

  std::vector<nlohmann::json> handler = Lines("listing providers");
  ASSERT_EQ(handler.size(), 1u) << out_.str();
  EXPECT_EQ(handler[0]["request_id"], "req-sync");
  EXPECT_EQ(handler[0]["trace_id"], kTraceId);
  std::vector<nlohmann::json> calls = Lines("call");
  ASSERT_EQ(calls.size(), 1u) << out_.str();
  EXPECT_EQ(calls[0]["method"], "/marketdata.v1.PriceService/ListProviders");
  EXPECT_EQ(calls[0]["code"], "OK");
  EXPECT_EQ(calls[0]["level"], "INFO");
  EXPECT_EQ(calls[0]["service"], "mds-test");
  EXPECT_EQ(calls[0]["request_id"], "req-sync");
  EXPECT_EQ(calls[0]["trace_id"], kTraceId);
  EXPECT_TRUE(calls[0]["duration_ms"].is_number());
  EXPECT_GE(calls[0]["duration_ms"].get<double>(), 0);
}

TEST_F(CallLogTest, CallFinishedOnAnotherThreadKeepsItsIds) {
  StartServer(1);
  ASSERT_TRUE(Latest("AAPL", "req-a").ok());
  ASSERT_EQ(Latest("NOSUCH", "req-b").error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Latest("MSFT", "", "").ok());  // no ids at all
  ASSERT_TRUE(Latest("IBM", "req-c", "not-a-traceparent").ok());

  std::vector<nlohmann::json> handler = Lines("pricing AAPL");
  ASSERT_EQ(handler.size(), 1u);
  EXPECT_EQ(handler[0]["request_id"], "req-a");
  std::vector<nlohmann::json> calls = Lines("call");
  ASSERT_EQ(calls.size(), 4u) << out_.str();
  EXPECT_EQ(calls[0]["request_id"], "req-a");
  EXPECT_EQ(calls[0]["trace_id"], kTraceId);
  EXPECT_EQ(calls[0]["method"], "/marketdata.v1.PriceService/GetLatestPrice");
  EXPECT_EQ(calls[1]["request_id"], "req-b");
  EXPECT_EQ(calls[1]["code"], "NOT_FOUND");
  EXPECT_EQ(calls[1]["level"], "INFO");
  EXPECT_FALSE(calls[2].contains("request_id"));
  EXPECT_FALSE(calls[2].contains("trace_id"));
  EXPECT_EQ(calls[3]["request_id"], "req-c");
  EXPECT_FALSE(calls[3].contains("trace_id"));
}

TEST_F(CallLogTest, SamplingDropsOnlySuccessfulCalls) {
  StartServer(0);
  ASSERT_TRUE(Latest("AAPL", "req-ok").ok());
  ASSERT_EQ(Latest("NOSUCH", "req-missing").error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_EQ(Latest("BROKEN", "req-broken").error_code(), grpc::StatusCode::INTERNAL);
  std::vector<nlohmann::json> calls = Lines("call");
  ASSERT_EQ(calls.size(), 2u) << out_.str();
  EXPECT_EQ(calls[0]["request_id"], "req-missing");
  EXPECT_EQ(calls[1]["request_id"], "req-broken");
  EXPECT_EQ(calls[1]["level"], "WARN");
  EXPECT_EQ(calls[1]["code"], "INTERNAL");
}

TEST_F(CallLogTest, HealthChecksAreLoggedAtDebugOnly) {
  StartServer(1);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                     grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::GenericStub generic(channel);
  // The health service is registered by GrpcServer; an empty request checks the server.
  grpc::Status status;
  absl::Notification done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) {
                      status = s;
                      done.Notify();
                    });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Lines("call").empty()) << out_.str();
}

// What the call log costs a call, apart from gRPC's own interceptor machinery (which the
// metrics interceptor pays already): the ids copied and installed, the clock read twice, and the
// line formatted and buffered by the service's own sink (stderr is /dev/null here). Printed for
// docs/metrics-and-logs.md; the bound only catches a gross regression.
TEST(CallLogCostTest, MicrosecondsPerCall) {
  const int saved_stderr = dup(STDERR_FILENO);
  const int devnull = open("/dev/null", O_WRONLY);
  ASSERT_GE(devnull, 0);
  dup2(devnull, STDERR_FILENO);
  double us[3] = {0, 0, 0};  // logged on 1 thread, sampled out, logged on 2 threads at once
  {
    ASSERT_TRUE(InitLogging("mds-bench", LogSettings()).ok());
    constexpr int kCalls = 200000;
    auto calls = [](int n, double rate) {
      for (int i = 0; i < n; ++i) {
        CallLogEntry entry("/marketdata.v1.PriceService/GetLatestPrice", rate);
        entry.Started("0123456789abcdef", kTraceparent);
        entry.Finished(grpc::StatusCode::OK);
      }
    };
    auto per_call = [](auto run, int n) {
      const auto start = std::chrono::steady_clock::now();
      run();
      return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                 .count() / n;
    };
    calls(10000, 1);  // warm up
    us[0] = per_call([&] { calls(kCalls, 1); }, kCalls);
    us[1] = per_call([&] { calls(kCalls, 0); }, kCalls);
    // Wall time per call with two threads logging at once: what two cores' worth of calls pay.
    us[2] = per_call(
        [&] {
          std::thread other([&] { calls(kCalls, 1); });
          calls(kCalls, 1);
          other.join();
        },
        2 * kCalls);
    spdlog::default_logger()->flush();
  }
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  close(devnull);
  std::printf("call log per call: %.3f us logged, %.3f us sampled out, %.3f us wall with two "
              "threads logging\n",
              us[0], us[1], us[2]);
  EXPECT_LT(us[0], 50.0);
}

}  // namespace
}  // namespace marketdata
