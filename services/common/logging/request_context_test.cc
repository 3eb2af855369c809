#include "services/common/logging/request_context.h"

#include <thread>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, AcceptsTheW3CForm) {
  EXPECT_TRUE(IsValidTraceparent(kTraceparent));
  // A later version may add fields after a dash.
  EXPECT_TRUE(IsValidTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz"));
}

TEST(TraceparentTest, RefusesWhatTheSpecificationRefuses) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",          // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",       // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",       // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",       // zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",       // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // 00 has no extras
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",      // no dash before more
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(IsValidTraceparent(bad)) << bad;
  }
}

TEST(RequestContextTest, KeepsUsableIdsOnly) {
  RequestContext c = RequestContext::From("abc-123", kTraceparent);
  EXPECT_EQ(c.request_id, "abc-123");
  EXPECT_EQ(c.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  c = RequestContext::From("bad\nid", "not a traceparent");
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.trace_id(), "");
  EXPECT_TRUE(RequestContext::From(std::string(129, 'a'), "").empty());
  EXPECT_EQ(RequestContext::From(std::string(128, 'a'), "").request_id.size(), 128u);
}

TEST(RequestContextTest, ScopesNestAndStayOnTheirThread) {
  EXPECT_TRUE(CurrentRequestContext().empty());
  const RequestContext outer = RequestContext::From("outer", "");
  const RequestContext inner = RequestContext::From("inner", kTraceparent);
  {
    ScopedRequestContext a(outer);
    EXPECT_EQ(CurrentRequestContext().request_id, "outer");
    {
      ScopedRequestContext b(inner);
      EXPECT_EQ(CurrentRequestContext().request_id, "inner");
      std::thread([] { EXPECT_TRUE(CurrentRequestContext().empty()); }).join();
    }
    EXPECT_EQ(CurrentRequestContext().request_id, "outer");
  }
  EXPECT_TRUE(CurrentRequestContext().empty());
}

TEST(RequestContextTest, ThreadSlotIsSetAndCleared) {
  SetThreadRequestContext("call-1", kTraceparent);
  EXPECT_EQ(CurrentRequestContext().request_id, "call-1");
  SetThreadRequestContext("call-2", "bad");
  EXPECT_EQ(CurrentRequestContext().request_id, "call-2");
  EXPECT_EQ(CurrentRequestContext().traceparent, "");
  ClearThreadRequestContext();
  EXPECT_TRUE(CurrentRequestContext().empty());
}

TEST(RequestContextTest, ThreadSlotOfACallThatEndedElsewhereIsEmpty) {
  auto ended = std::make_shared<std::atomic<bool>>(false);
  SetThreadRequestContext("call-3", kTraceparent, ended);
  EXPECT_EQ(CurrentRequestContext().request_id, "call-3");
  std::thread([&] { ended->store(true); }).join();
  EXPECT_TRUE(CurrentRequestContext().empty());
  // A scope installed over it still counts.
  const RequestContext scoped = RequestContext::From("scoped", "");
  {
    ScopedRequestContext scope(scoped);
    EXPECT_EQ(CurrentRequestContext().request_id, "scoped");
  }
  SetThreadRequestContext("call-4", "");  // the next call
  EXPECT_EQ(CurrentRequestContext().request_id, "call-4");
  ClearThreadRequestContext();
}

}  // namespace
}  // namespace marketdata
