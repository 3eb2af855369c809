#include "services/common/config/instance_name.h"

#include <unistd.h>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(InstanceNameTest, HostAndTheListenPort) {
  EXPECT_EQ(ListenPort("0.0.0.0:15052"), "15052");
  EXPECT_EQ(ListenPort("[::1]:50051"), "50051");
  EXPECT_EQ(ListenPort("no-port"), "");
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  EXPECT_EQ(HostAndPort("0.0.0.0:15052"), std::string(host) + ":15052");
}

}  // namespace
}  // namespace marketdata
