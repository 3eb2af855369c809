// PriceServiceImpl in an in-process gRPC server, called through the generated client, with the
// store and the publisher faked.
#include "services/api/price_service.h"

#include <memory>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/in_process_server.h"
#include "services/domain/test_prices.h"
#include "services/events/fake_publisher.h"
#include "services/providers/fake_provider.h"
#include "services/providers/test_provider.h"
#include "services/storage/fake_price_store.h"

namespace marketdata {
namespace {

// Snapshots are read from PostgreSQL (tests/e2e covers them); none here.
class NoSnapshots final : public SnapshotStore {
 public:
  absl::StatusOr<std::vector<SymbolSnapshot>> Snapshot(const std::vector<std::string>&) override {
    return std::vector<SymbolSnapshot>{};
  }
};

class FakeHistory : public PriceHistory {
 public:
  absl::StatusOr<PricePage> ListPrices(const PriceQuery& query) override {
    last = query;
    PricePage page;
    page.prices.push_back(TestPrice(query.symbol, 2, 1.5, absl::FromUnixSeconds(1700000000)));
    page.next_page_token = "next";
    return page;
  }
  PriceQuery last;
};

class PriceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Add(std::make_unique<TestProvider>(1));
    auto failing = std::make_unique<FakeProvider>("failing");
    failing->Fail(absl::ResourceExhaustedError("slow down"));
    registry_.Add(std::move(failing));
  }
  // Open streams end before the server shuts down.
  void TearDown() override { hub_.Shutdown(); }

  grpc::Status Call(const std::string& symbol, const std::string& provider, v1::Price* out,
                    grpc::ClientContext* context = nullptr) {
    grpc::ClientContext local;
    v1::GetLatestPriceRequest request;
    request.set_symbol(symbol);
    request.set_provider(provider);
    return stub_->GetLatestPrice(context != nullptr ? context : &local, request, out);
  }

  ProviderRegistry registry_{"test"};
  FakePriceStore store_;
  FakePublisher publisher_;
  PriceRecorder recorder_{registry_, store_, publisher_};
  FakeHistory history_;
  PriceHub hub_;
  Authorizer auth_{nullptr, AuthOptions{}};  // keys not required
  NoSnapshots snapshots_;
  PriceServiceImpl service_{recorder_, registry_, history_, snapshots_, hub_, auth_};
  InProcessServer server_{{&service_}};
  std::unique_ptr<v1::PriceService::Stub> stub_ = server_.NewStub<v1::PriceService>();
};

TEST_F(PriceServiceTest, ReturnsStoresAndPublishesThePrice) {
  v1::Price price;
  ASSERT_TRUE(Call("aapl", "", &price).ok());
  EXPECT_EQ(price.symbol(), "AAPL");
  EXPECT_EQ(price.provider(), "test");
  EXPECT_NEAR(price.price(), 180, 180 * 0.02 + 0.01);
  EXPECT_GT(price.timestamp().seconds(), 1600000000);
  ASSERT_EQ(store_.saved().size(), 1u);
  EXPECT_EQ(store_.saved()[0].symbol, "AAPL");
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].price_point_id, 1);
  EXPECT_EQ(publisher_.published()[0].quote.price, price.price());
}

TEST_F(PriceServiceTest, MissingSymbolIsInvalidWithMissingFieldReason) {
  v1::Price price;
  grpc::ClientContext context;
  grpc::Status status = Call("", "test", &price, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "symbol is required");
  auto trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kErrorReasonKey);
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), kReasonMissingField);
  EXPECT_TRUE(store_.saved().empty());
}

TEST_F(PriceServiceTest, InvalidSymbolAndUnknownProviderAreInvalidArgument) {
  v1::Price price;
  grpc::ClientContext context;
  grpc::Status status = Call("AA PL", "test", &price, &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(context.GetServerTrailingMetadata().count(kErrorReasonKey), 0u);
  status = Call("AAPL", "nope", &price);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("unknown provider"), std::string::npos);
  EXPECT_TRUE(store_.saved().empty());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(PriceServiceTest, ProviderErrorsPassThroughWithTheirCode) {
  v1::Price price;
  grpc::Status status = Call("AAPL", "failing", &price);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(store_.saved().empty());
}

TEST_F(PriceServiceTest, StoreFailureIsNotPublished) {
  store_.Fail(absl::UnavailableError("database unavailable"));
  v1::Price price;
  EXPECT_EQ(Call("AAPL", "test", &price).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(PriceServiceTest, ListsProvidersWithTheDefault) {
  grpc::ClientContext context;
  v1::ListProvidersResponse response;
  ASSERT_TRUE(stub_->ListProviders(&context, {}, &response).ok());
  ASSERT_EQ(response.providers_size(), 2);
  EXPECT_EQ(response.providers(0).name(), "test");
  EXPECT_TRUE(response.providers(0).is_default());
  EXPECT_FALSE(response.providers(1).is_default());
}

}  // namespace
}  // namespace marketdata

namespace marketdata {
namespace {

TEST_F(PriceServiceTest, HistoryValidatesAndPassesTheQueryOn) {
  grpc::ClientContext context;
  v1::ListPriceHistoryRequest request;
  request.set_symbol("aapl");
  request.set_provider("TEST");
  request.mutable_start_time()->set_seconds(100);
  request.mutable_end_time()->set_seconds(200);
  request.set_limit(10);
  request.set_page_token("1700000000000000.42");
  v1::ListPriceHistoryResponse response;
  ASSERT_TRUE(stub_->ListPriceHistory(&context, request, &response).ok());
  EXPECT_EQ(history_.last.symbol, "AAPL");
  EXPECT_EQ(history_.last.provider, "test");
  EXPECT_EQ(*history_.last.start, absl::FromUnixSeconds(100));
  EXPECT_EQ(*history_.last.end, absl::FromUnixSeconds(200));
  EXPECT_EQ(history_.last.limit, 10);
  EXPECT_EQ(history_.last.page_token, "1700000000000000.42");
  ASSERT_EQ(response.prices_size(), 1);
  EXPECT_EQ(response.prices(0).timestamp().seconds(), 1700000000);
  EXPECT_EQ(response.next_page_token(), "next");
}

TEST_F(PriceServiceTest, HistoryRejectsBadQueries) {
  auto call = [&](v1::ListPriceHistoryRequest request) {
    grpc::ClientContext context;
    v1::ListPriceHistoryResponse response;
    return stub_->ListPriceHistory(&context, request, &response).error_code();
  };
  v1::ListPriceHistoryRequest missing;
  EXPECT_EQ(call(missing), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListPriceHistoryRequest reversed;
  reversed.set_symbol("AAPL");
  reversed.mutable_start_time()->set_seconds(200);
  reversed.mutable_end_time()->set_seconds(100);
  EXPECT_EQ(call(reversed), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListPriceHistoryRequest too_many;
  too_many.set_symbol("AAPL");
  too_many.set_limit(1001);
  EXPECT_EQ(call(too_many), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListPriceHistoryRequest bad_provider;
  bad_provider.set_symbol("AAPL");
  bad_provider.set_provider("nope");
  EXPECT_EQ(call(bad_provider), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace marketdata

namespace marketdata {
namespace {

TEST_F(PriceServiceTest, StreamsPublishedPricesOfTheRequestedSymbols) {
  grpc::ClientContext context;
  v1::StreamPricesRequest request;
  request.add_symbols("aapl,msft");
  auto reader = stub_->StreamPrices(&context, request);
  reader->WaitForInitialMetadata();  // subscribed once the headers arrive
  PublishPrice(hub_, TestPrice("TSLA", 1, 250, absl::Now()));  // not subscribed
  PublishPrice(hub_, TestPrice("MSFT", 2, 421.5, absl::Now()));
  v1::Price price;
  ASSERT_TRUE(reader->Read(&price));
  EXPECT_EQ(price.symbol(), "MSFT");
  EXPECT_EQ(price.price(), 421.5);
  context.TryCancel();
}

TEST_F(PriceServiceTest, StreamWithAnInvalidSymbolIsRefused) {
  grpc::ClientContext context;
  v1::StreamPricesRequest request;
  request.add_symbols("not valid");
  auto reader = stub_->StreamPrices(&context, request);
  v1::Price price;
  EXPECT_FALSE(reader->Read(&price));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace marketdata
