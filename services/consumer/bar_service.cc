#include "services/consumer/bar_service.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/bars/bars.h"
#include "services/common/grpc/errors.h"
#include "services/common/grpc/proto_time.h"
#include "services/common/grpc/request_checks.h"
#include "services/mapping/to_proto.h"
#include "services/domain/symbol.h"
#include "services/streaming/rejected_stream.h"

namespace marketdata {
namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;

}  // namespace

void PublishBars(BarHub& hub, const std::vector<Bar>& bars) {
  for (const Bar& bar : bars) {
    v1::Bar message;
    ToProto(bar, &message);
    hub.Publish(bar.key.symbol,
                absl::StrCat(bar.key.symbol, "/", bar.key.interval_seconds, "/",
                             absl::ToUnixSeconds(bar.key.start)),
                message);
  }
}

absl::StatusOr<int> BarServiceImpl::Interval(const std::string& text) const {
  if (text.empty()) return intervals_.front();
  absl::StatusOr<int> seconds = ParseBarInterval(text);
  if (!seconds.ok()) return seconds.status();
  if (std::find(intervals_.begin(), intervals_.end(), *seconds) == intervals_.end()) {
    std::vector<std::string> names;
    for (int i : intervals_) names.push_back(BarIntervalName(i));
    return absl::InvalidArgumentError(absl::StrCat(
        "interval ", text, " is not computed; intervals: ", absl::StrJoin(names, ", ")));
  }
  return *seconds;
}

grpc::Status BarServiceImpl::ListBars(grpc::ServerContext* context,
                                      const v1::ListBarsRequest* request,
                                      v1::ListBarsResponse* response) {
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return ToGrpcStatus(s, context);
  }
  absl::StatusOr<std::string> symbol = NormalizeSymbol(request->symbol());
  if (!symbol.ok()) return ToGrpcStatus(symbol.status(), context);
  absl::StatusOr<int> interval = Interval(request->interval());
  if (!interval.ok()) return ToGrpcStatus(interval.status(), context);
  BarQuery query;
  query.symbol = *symbol;
  query.interval_seconds = *interval;
  absl::StatusOr<TimePage> paging = CheckTimePage(*request, kDefaultLimit, kMaxLimit);
  if (!paging.ok()) return ToGrpcStatus(paging.status(), context);
  paging->ApplyTo(&query);
  absl::StatusOr<BarPage> page = store_.List(query);
  if (!page.ok()) return ToGrpcStatus(page.status(), context);
  for (const Bar& bar : page->bars) ToProto(bar, response->add_bars());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<v1::Bar>* BarServiceImpl::StreamBars(
    grpc::CallbackServerContext* context, const v1::StreamBarsRequest* request) {
  if (absl::Status s = auth_.Authorize(*context, Scope::kRead).status(); !s.ok()) {
    return new RejectedStream<v1::Bar>(ToGrpcStatus(s, context));
  }
  std::vector<std::string> raw(request->symbols().begin(), request->symbols().end());
  absl::StatusOr<std::vector<std::string>> symbols = NormalizeSymbols(raw, kMaxStreamSymbols);
  if (!symbols.ok()) return new RejectedStream<v1::Bar>(ToGrpcStatus(symbols.status(), nullptr));
  absl::StatusOr<int> interval = Interval(request->interval());
  if (!interval.ok()) return new RejectedStream<v1::Bar>(ToGrpcStatus(interval.status(), nullptr));
  const std::string name = BarIntervalName(*interval);
  return hub_.Subscribe(context, *std::move(symbols),
                        [name](const v1::Bar& bar) { return bar.interval() == name; });
}

}  // namespace marketdata
