#include "services/api/price_service.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc/errors.h"
#include "services/common/grpc/proto_time.h"
#include "services/common/grpc/request_checks.h"
#include "services/mapping/to_proto.h"
#include "services/domain/symbol.h"
#include "services/streaming/rejected_stream.h"

namespace marketdata {

grpc::ServerUnaryReactor* PriceServiceImpl::GetLatestPrice(
    grpc::CallbackServerContext* context, const v1::GetLatestPriceRequest* request,
    v1::Price* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = auth_.Authorize(*context, Scope::kRead);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status(), context));
    return reactor;
  }
  // The recorder checks the range; NaN, which absl::Seconds cannot take, is out of it too.
  const double max_age = request->max_age();
  const absl::Duration accepted =
      std::isnan(max_age) ? -absl::InfiniteDuration() : absl::Seconds(max_age);
  // context and response live until Finish, which is the last thing done here.
  recorder_.RecordAsync(
      request->symbol(), request->provider(),
      [context, response, reactor, with_age = accepted > absl::ZeroDuration()](absl::StatusOr<StoredPrice> stored) {
        if (!stored.ok()) {
          reactor->Finish(ToGrpcStatus(stored.status(), context));
          return;
        }
        response->set_symbol(stored->quote.symbol);
        response->set_price(stored->quote.price);
        ToProtoTimestamp(stored->quote.timestamp, response->mutable_timestamp());
        response->set_provider(stored->quote.provider);
        // How old the answer is: always as an `age` header (HTTP's Age, whole seconds), and as
        // a field for a client that asked with max_age (so that the body of a request the old
        // service knew keeps exactly its fields).
        const absl::Duration age =
            std::max(absl::ZeroDuration(), absl::Now() - stored->quote.fetched_at);
        if (with_age) response->set_age_seconds(absl::ToDoubleSeconds(age));
        context->AddInitialMetadata("age", absl::StrCat(absl::ToInt64Seconds(age)));
        reactor->Finish(grpc::Status::OK);
      },
      [context] { return context->IsCancelled(); }, caller->key_id, accepted);
  return reactor;
}

grpc::Status PriceServiceImpl::ListPriceHistory(grpc::ServerContext* context,
                                                const v1::ListPriceHistoryRequest* request,
                                                v1::ListPriceHistoryResponse* response) {
  constexpr int kDefaultLimit = 100;
  constexpr int kMaxLimit = 1000;
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return ToGrpcStatus(s, context);
  }
  absl::StatusOr<std::string> symbol = NormalizeSymbol(request->symbol());
  if (!symbol.ok()) return ToGrpcStatus(symbol.status(), context);
  PriceQuery query;
  query.symbol = *symbol;
  if (!request->provider().empty()) {
    absl::StatusOr<PriceProvider*> provider = providers_.Find(request->provider());
    if (!provider.ok()) return ToGrpcStatus(provider.status(), context);
    query.provider = (*provider)->name();
  }
  absl::StatusOr<TimePage> paging = CheckTimePage(*request, kDefaultLimit, kMaxLimit);
  if (!paging.ok()) return ToGrpcStatus(paging.status(), context);
  paging->ApplyTo(&query);
  absl::StatusOr<PricePage> page = history_.ListPrices(query);
  if (!page.ok()) return ToGrpcStatus(page.status(), context);
  for (const StoredPrice& p : page->prices) ToProto(p, response->add_prices());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

void PublishPrice(PriceHub& hub, const StoredPrice& price) {
  v1::Price out;
  ToProto(price, &out);
  hub.Publish(price.quote.symbol, price.quote.symbol, out);
}

grpc::ServerWriteReactor<v1::Price>* PriceServiceImpl::StreamPrices(
    grpc::CallbackServerContext* context, const v1::StreamPricesRequest* request) {
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return new RejectedStream<v1::Price>(ToGrpcStatus(s, context));
  }
  std::vector<std::string> raw(request->symbols().begin(), request->symbols().end());
  absl::StatusOr<std::vector<std::string>> symbols = NormalizeSymbols(raw, kMaxStreamSymbols);
  if (!symbols.ok()) return new RejectedStream<v1::Price>(ToGrpcStatus(symbols.status(), nullptr));
  return hub_.Subscribe(context, *std::move(symbols));  // no symbols: every symbol
}

grpc::Status PriceServiceImpl::ListProviders(grpc::ServerContext* context,
                                             const v1::ListProvidersRequest*,
                                             v1::ListProvidersResponse* response) {
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return ToGrpcStatus(s, context);
  }
  const absl::StatusOr<PriceProvider*> default_provider = providers_.Find("");
  for (PriceProvider* provider : providers_.providers()) {
    v1::ProviderStatus* status = response->add_providers();
    status->set_name(provider->name());
    status->set_configured(provider->configured());
    status->set_is_default(default_provider.ok() && *default_provider == provider);
    status->set_min_refresh_seconds(absl::ToDoubleSeconds(provider->min_refresh()));
    status->set_calls_left_today(-1);
    if (std::optional<ProviderStats> stats = provider->stats(); stats.has_value()) {
      status->set_rate_limit_per_minute(stats->rate_limit_per_minute);
      status->set_tokens_available(stats->tokens_available);
      status->set_recent_error_rate(stats->recent_error_rate);
      status->set_recent_requests(stats->recent_requests);
      status->set_rate_limit_per_day(static_cast<int32_t>(stats->rate_limit_per_day));
      status->set_calls_left_today(static_cast<int32_t>(stats->calls_left_today));
      if (stats->rate_limit_per_day > 0) {
        ToProtoTimestamp(stats->quota_resets_at, status->mutable_quota_resets_at());
      }
      status->set_next_call_in_seconds(absl::ToDoubleSeconds(stats->next_call_in));
      if (stats->circuit.has_value()) {
        status->set_circuit(std::string(StateName(*stats->circuit)));
        status->set_next_probe_in_seconds(absl::ToDoubleSeconds(stats->next_probe_in));
        status->set_circuit_opened_count(static_cast<int32_t>(stats->circuit_opened));
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status PriceServiceImpl::GetSnapshot(grpc::ServerContext* context,
                                           const v1::GetSnapshotRequest* request,
                                           v1::Snapshot* response) {
  constexpr size_t kMaxSnapshotSymbols = 100;
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return ToGrpcStatus(s, context);
  }
  std::vector<std::string> raw(request->symbols().begin(), request->symbols().end());
  absl::StatusOr<std::vector<std::string>> symbols =
      NormalizeSymbols(raw, kMaxSnapshotSymbols, "symbols");
  if (!symbols.ok()) return ToGrpcStatus(symbols.status(), context);
  if (symbols->empty()) return ToGrpcStatus(MissingFieldError("symbols"), context);
  absl::StatusOr<std::vector<SymbolSnapshot>> found = snapshots_.Snapshot(*symbols);
  if (!found.ok()) return ToGrpcStatus(found.status(), context);
  size_t next = 0;  // found is in the order of symbols, without the unknown ones
  for (const std::string& symbol : *symbols) {
    if (next < found->size() && (*found)[next].symbol == symbol) {
      const SymbolSnapshot& snap = (*found)[next++];
      v1::SymbolSnapshot* out = response->add_symbols();
      out->set_symbol(snap.symbol);
      ToProto(snap.price, out->mutable_price());
      for (const AverageRow& a : snap.averages) ToProto(a, out->add_averages());
      for (const Bar& b : snap.bars) ToProto(b, out->add_bars());
    } else {
      response->add_unknown_symbols(symbol);
    }
  }
  return grpc::Status::OK;
}

}  // namespace marketdata
