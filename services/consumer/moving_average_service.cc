#include "services/consumer/moving_average_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/grpc/errors.h"
#include "services/common/grpc/proto_time.h"
#include "services/common/grpc/request_checks.h"
#include "services/averages/symbol_window.h"
#include "services/mapping/to_proto.h"
#include "services/domain/symbol.h"
#include "services/streaming/rejected_stream.h"

namespace marketdata {
namespace {

constexpr int kDefaultWindow = 5;
constexpr int kMaxWindow = 10000;
constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;

absl::StatusOr<int> CheckWindow(int window) {
  if (window == 0) return kDefaultWindow;
  if (window < 1 || window > kMaxWindow) {
    return absl::InvalidArgumentError(
        absl::StrCat("window must be between 1 and ", kMaxWindow, ", got ", window));
  }
  return window;
}

struct AverageKey {
  std::string symbol;
  int window = 0;
};

// The symbol and window of a request that names one average series.
absl::StatusOr<AverageKey> CheckAverageKey(const std::string& symbol, int window) {
  absl::StatusOr<std::string> normalized = NormalizeSymbol(symbol);
  if (!normalized.ok()) return normalized.status();
  absl::StatusOr<int> checked = CheckWindow(window);
  if (!checked.ok()) return checked.status();
  return AverageKey{*std::move(normalized), *checked};
}

}  // namespace

void PublishAverages(MovingAverageHub& hub, const std::vector<AverageRow>& rows) {
  for (const AverageRow& row : rows) {
    v1::MovingAverage message;
    ToProto(row, &message);
    hub.Publish(row.symbol, absl::StrCat(row.symbol, "/", row.window), message);
  }
}

bool MovingAverageServiceImpl::IsConfigured(int window) const {
  return std::find(windows_.begin(), windows_.end(), window) != windows_.end();
}

grpc::Status MovingAverageServiceImpl::GetLatestMovingAverage(
    grpc::ServerContext* context, const v1::GetLatestMovingAverageRequest* request,
    v1::MovingAverage* response) {
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return ToGrpcStatus(s, context);
  }
  absl::StatusOr<AverageKey> key = CheckAverageKey(request->symbol(), request->window());
  if (!key.ok()) return ToGrpcStatus(key.status(), context);
  const std::string& symbol = key->symbol;
  const int window = key->window;
  if (IsConfigured(window)) {
    absl::StatusOr<std::optional<AverageRow>> stored = store_.Latest(symbol, window);
    if (!stored.ok()) return ToGrpcStatus(stored.status(), context);
    if (stored->has_value()) {
      ToProto(**stored, response);
      return grpc::Status::OK;
    }
  }
  // Any other window (or one the consumer has not reached yet) is computed from price history
  // with the same rule: the mean of the newest N prices, summed oldest first.
  absl::StatusOr<std::vector<PricePoint>> recent = store_.RecentPrices(symbol, window);
  if (!recent.ok()) return ToGrpcStatus(recent.status(), context);
  std::optional<AverageRow> average = AverageOfNewest(symbol, window, *recent);
  if (!average.has_value()) {
    return ToGrpcStatus(
        absl::NotFoundError(absl::StrCat("not enough data: ", recent->size(), " price",
                                         recent->size() == 1 ? "" : "s", " stored for ", symbol,
                                         ", a moving average over ", window, " needs ", window)),
        context);
  }
  ToProto(*average, response);
  return grpc::Status::OK;
}

grpc::Status MovingAverageServiceImpl::ListMovingAverages(
    grpc::ServerContext* context, const v1::ListMovingAveragesRequest* request,
    v1::ListMovingAveragesResponse* response) {
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return ToGrpcStatus(s, context);
  }
  absl::StatusOr<AverageKey> key = CheckAverageKey(request->symbol(), request->window());
  if (!key.ok()) return ToGrpcStatus(key.status(), context);
  if (!IsConfigured(key->window)) {
    return ToGrpcStatus(
        absl::InvalidArgumentError(absl::StrCat(
            "window ", key->window, " is not stored; stored windows: ",
            absl::StrJoin(windows_, ", "), " (GET the latest average for any window instead)")),
        context);
  }
  AverageQuery query;
  query.symbol = key->symbol;
  query.window = key->window;
  absl::StatusOr<TimePage> paging = CheckTimePage(*request, kDefaultLimit, kMaxLimit);
  if (!paging.ok()) return ToGrpcStatus(paging.status(), context);
  paging->ApplyTo(&query);
  absl::StatusOr<AveragePage> page = store_.List(query);
  if (!page.ok()) return ToGrpcStatus(page.status(), context);
  for (const AverageRow& row : page->averages) ToProto(row, response->add_moving_averages());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<v1::MovingAverage>* MovingAverageServiceImpl::StreamMovingAverages(
    grpc::CallbackServerContext* context, const v1::StreamMovingAveragesRequest* request) {
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return new RejectedStream<v1::MovingAverage>(ToGrpcStatus(s, context));
  }
  std::vector<std::string> raw(request->symbols().begin(), request->symbols().end());
  absl::StatusOr<std::vector<std::string>> symbols = NormalizeSymbols(raw, kMaxStreamSymbols);
  if (!symbols.ok()) {
    return new RejectedStream<v1::MovingAverage>(ToGrpcStatus(symbols.status(), nullptr));
  }
  const int window = request->window();
  if (window != 0 && !IsConfigured(window)) {
    return new RejectedStream<v1::MovingAverage>(ToGrpcStatus(
        absl::InvalidArgumentError(absl::StrCat("window ", window,
                                                " is not computed live; live windows: ",
                                                absl::StrJoin(windows_, ", "))),
        nullptr));
  }
  std::function<bool(const v1::MovingAverage&)> filter;
  if (window != 0) {
    filter = [window](const v1::MovingAverage& m) { return m.window() == window; };
  }
  // No symbols: every symbol.
  return hub_.Subscribe(context, *std::move(symbols), std::move(filter));
}

}  // namespace marketdata
