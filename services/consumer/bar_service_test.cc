// BarServiceImpl in an in-process gRPC server, called through the generated client, over an
// in-memory store, with keys required: the list's query and page, the live stream, and what a
// client is refused.
#include "services/consumer/bar_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "services/auth/keyed_authorizer.h"
#include "services/common/testing/in_process_server.h"

namespace marketdata {
namespace {

const absl::Time kAt = absl::FromUnixSeconds(1700000000);

// List answers its page and remembers the query; the service never writes.
class FakeBars final : public BarStore {
 public:
  absl::StatusOr<std::vector<Bar>> Update(const std::vector<BarKey>&, const Planner&) override {
    return absl::UnimplementedError("the service does not write bars");
  }
  absl::StatusOr<std::vector<Bar>> Merge(const std::vector<Bar>&) override {
    return absl::UnimplementedError("the service does not write bars");
  }
  absl::StatusOr<BarPage> List(const BarQuery& query) override {
    absl::MutexLock lock(&mu_);
    last_query_ = query;
    return page_;
  }

  void SetPage(BarPage page) {
    absl::MutexLock lock(&mu_);
    page_ = std::move(page);
  }
  BarQuery last_query() const {
    absl::MutexLock lock(&mu_);
    return last_query_;
  }

 private:
  mutable absl::Mutex mu_;
  BarPage page_ ABSL_GUARDED_BY(mu_);
  BarQuery last_query_ ABSL_GUARDED_BY(mu_);
};

Bar ABar(const std::string& symbol, int interval_seconds, absl::Time start, double close) {
  Bar bar;
  bar.key = BarKey{symbol, interval_seconds, start};
  bar.open = close - 1;
  bar.high = close + 2;
  bar.low = close - 3;
  bar.close = close;
  bar.price_count = 4;
  return bar;
}

class BarServiceTest : public ::testing::Test {
 protected:
  // Open streams end before the server shuts down.
  void TearDown() override { hub_.Shutdown(); }

  v1::ListBarsRequest ListOf(const std::string& symbol, const std::string& interval) {
    v1::ListBarsRequest request;
    request.set_symbol(symbol);
    request.set_interval(interval);
    return request;
  }
  grpc::Status List(const v1::ListBarsRequest& request, v1::ListBarsResponse* out,
                    const std::string& key) {
    grpc::ClientContext context;
    SendKey(context, key);
    return stub_->ListBars(&context, request, out);
  }

  FakeBars store_;
  BarHub hub_;
  KeyedAuthorizer keys_;
  BarServiceImpl service_{store_, {60, 300}, hub_, keys_.auth()};
  InProcessServer server_{{&service_}};
  std::unique_ptr<v1::BarService::Stub> stub_ = server_.NewStub<v1::BarService>();
  const std::string reader_ = keys_.AddKey("reader", "read");
};

TEST_F(BarServiceTest, ListPassesTheCheckedQueryOnAndReturnsTheBars) {
  BarPage page;
  Bar bar = ABar("MSFT", 300, kAt, 421.5);
  bar.volume = 1200;
  page.bars = {bar, ABar("MSFT", 300, kAt - absl::Minutes(5), 420)};
  page.next_page_token = "1699999700000000.7";
  store_.SetPage(page);
  v1::ListBarsRequest request = ListOf(" msft", "5m");
  request.mutable_start_time()->set_seconds(1699990000);
  request.mutable_end_time()->set_seconds(1700000300);
  request.set_limit(2);
  request.set_page_token("1700000300000000.9");
  v1::ListBarsResponse response;
  const grpc::Status status = List(request, &response, reader_);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const BarQuery query = store_.last_query();
  EXPECT_EQ(query.symbol, "MSFT");
  EXPECT_EQ(query.interval_seconds, 300);
  EXPECT_EQ(query.start, absl::FromUnixSeconds(1699990000));
  EXPECT_EQ(query.end, absl::FromUnixSeconds(1700000300));
  EXPECT_EQ(query.limit, 2);
  EXPECT_EQ(query.page_token, "1700000300000000.9");

  ASSERT_EQ(response.bars_size(), 2);
  const v1::Bar& first = response.bars(0);
  EXPECT_EQ(first.symbol(), "MSFT");
  EXPECT_EQ(first.interval(), "5m");
  EXPECT_EQ(first.start_time().seconds(), 1700000000);
  EXPECT_EQ(first.end_time().seconds(), 1700000300);
  EXPECT_EQ(first.open(), 420.5);
  EXPECT_EQ(first.high(), 423.5);
  EXPECT_EQ(first.low(), 418.5);
  EXPECT_EQ(first.close(), 421.5);
  EXPECT_EQ(first.price_count(), 4);
  ASSERT_TRUE(first.has_volume());
  EXPECT_EQ(first.volume(), 1200);
  EXPECT_FALSE(response.bars(1).has_volume());  // unknown, not zero
  EXPECT_EQ(response.next_page_token(), "1699999700000000.7");
}

TEST_F(BarServiceTest, WithoutAnIntervalTheFirstComputedOneAndTheDefaultLimit) {
  v1::ListBarsResponse response;
  ASSERT_TRUE(List(ListOf("AAPL", ""), &response, reader_).ok());
  EXPECT_EQ(store_.last_query().interval_seconds, 60);
  EXPECT_EQ(store_.last_query().limit, 100);
  EXPECT_FALSE(store_.last_query().start.has_value());
  EXPECT_EQ(response.bars_size(), 0);
  EXPECT_EQ(response.next_page_token(), "");
}

TEST_F(BarServiceTest, BadRequestsAreInvalidArgumentWithTheirMessage) {
  auto refused = [&](const v1::ListBarsRequest& request) {
    v1::ListBarsResponse response;
    const grpc::Status status = List(request, &response, reader_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    return status.error_message();
  };
  EXPECT_EQ(refused(ListOf("", "1m")), "symbol is required");
  EXPECT_EQ(refused(ListOf("AA PL", "1m")).rfind("invalid symbol \"AA PL\"", 0), 0u);
  EXPECT_EQ(refused(ListOf("AAPL", "7x")),
            "invalid interval \"7x\": a number and s, m, h or d, at most a day (e.g. 1m, 5m, 1h)");
  EXPECT_EQ(refused(ListOf("AAPL", "2d")),
            "invalid interval \"2d\": a number and s, m, h or d, at most a day (e.g. 1m, 5m, 1h)");
  EXPECT_EQ(refused(ListOf("AAPL", "1h")), "interval 1h is not computed; intervals: 1m, 5m");
  v1::ListBarsRequest reversed = ListOf("AAPL", "1m");
  reversed.mutable_start_time()->set_seconds(200);
  reversed.mutable_end_time()->set_seconds(100);
  EXPECT_EQ(refused(reversed), "start_time must not be after end_time");
  v1::ListBarsRequest bad_token = ListOf("AAPL", "1m");
  bad_token.set_page_token("next");
  EXPECT_EQ(refused(bad_token), "invalid page_token");
  v1::ListBarsRequest too_many = ListOf("AAPL", "1m");
  too_many.set_limit(1001);
  EXPECT_EQ(refused(too_many), "limit must be between 1 and 1000 (0 means 100)");
  EXPECT_EQ(store_.last_query().symbol, "");  // the store was never asked
}

TEST_F(BarServiceTest, EveryCallNeedsTheReadScope) {
  v1::ListBarsResponse response;
  const grpc::Status none = List(ListOf("AAPL", "1m"), &response, "");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const std::string writer = keys_.AddKey("writer", "write");
  const grpc::Status denied = List(ListOf("AAPL", "1m"), &response, writer);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "API key writer lacks the \"read\" scope this call needs");
  grpc::ClientContext context;
  SendKey(context, writer);
  v1::StreamBarsRequest request;
  request.add_symbols("AAPL");
  auto reader = stub_->StreamBars(&context, request);
  v1::Bar bar;
  EXPECT_FALSE(reader->Read(&bar));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(BarServiceTest, StreamsCommittedBarsOfTheSymbolsAndIntervalAsked) {
  grpc::ClientContext context;
  SendKey(context, reader_);
  v1::StreamBarsRequest request;
  request.add_symbols("msft");
  request.set_interval("5m");
  auto reader = stub_->StreamBars(&context, request);
  reader->WaitForInitialMetadata();  // subscribed once the headers arrive
  PublishBars(hub_, {ABar("AAPL", 300, kAt, 180),     // another symbol
                     ABar("MSFT", 60, kAt, 420),      // another interval
                     ABar("MSFT", 300, kAt, 421.5)});
  v1::Bar bar;
  ASSERT_TRUE(reader->Read(&bar));
  EXPECT_EQ(bar.symbol(), "MSFT");
  EXPECT_EQ(bar.interval(), "5m");
  EXPECT_EQ(bar.close(), 421.5);
  context.TryCancel();
}

TEST_F(BarServiceTest, AStreamOfAnIntervalNotComputedIsRefused) {
  grpc::ClientContext context;
  SendKey(context, reader_);
  v1::StreamBarsRequest request;
  request.add_symbols("MSFT");
  request.set_interval("15m");
  auto reader = stub_->StreamBars(&context, request);
  v1::Bar bar;
  EXPECT_FALSE(reader->Read(&bar));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "interval 15m is not computed; intervals: 1m, 5m");
}

}  // namespace
}  // namespace marketdata
