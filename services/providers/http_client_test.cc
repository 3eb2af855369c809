#include "services/providers/http_client.h"
#include "services/providers/provider_outcome.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "services/providers/fake_http_server.h"

namespace marketdata {
namespace {

constexpr char kSecretQuery[] = "apikey=SECRET123";

TEST(UrlEncodeTest, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(UrlEncode("BRK.B-x_y~z09"), "BRK.B-x_y~z09");
  EXPECT_EQ(UrlEncode("^GSPC"), "%5EGSPC");
  EXPECT_EQ(UrlEncode("a b/c?d&e=f"), "a%20b%2Fc%3Fd%26e%3Df");
}

TEST(UrlWithoutQueryTest, DropsQueryAndFragment) {
  EXPECT_EQ(UrlWithoutQuery("https://h/p?apikey=1#x"), "https://h/p");
  EXPECT_EQ(UrlWithoutQuery("https://h/p#x"), "https://h/p");
  EXPECT_EQ(UrlWithoutQuery("https://h/p"), "https://h/p");
}

TEST(CurlHttpClientTest, ReturnsStatusAndBodyAndSendsUserAgent) {
  FakeHttpServer server;
  server.Reply("/ok", 200, R"({"a":1})");
  server.Reply("/down", 503, "<html>down</html>", "text/html");
  CurlHttpClient client;

  auto ok = client.Get(server.base_url() + "/ok?x=1", absl::Seconds(5));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, R"({"a":1})");

  auto down = client.Get(server.base_url() + "/down", absl::Seconds(5));
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(down->body, "<html>down</html>");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].query, "x=1");
  EXPECT_EQ(requests[0].user_agent, "marketdata/1");
}

TEST(CurlHttpClientTest, FollowsAFewRedirectsButNotALoop) {
  FakeHttpServer server;
  server.Redirect("/old", "/new");
  server.Reply("/new", 200, "{}");
  server.Redirect("/loop", "/loop");
  CurlHttpClient client;

  auto moved = client.Get(server.base_url() + "/old", absl::Seconds(5));
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->status, 200);

  auto loop = client.Get(server.base_url() + "/loop?" + kSecretQuery, absl::Seconds(5));
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(loop.status().message().find("SECRET123"), absl::string_view::npos);
}

TEST(CurlHttpClientTest, TimeoutIsUnavailableWithoutTheQuery) {
  FakeHttpServer server;
  server.Hang("/slow");
  CurlHttpClient client;
  auto result =
      client.Get(server.base_url() + "/slow?" + kSecretQuery, absl::Milliseconds(200));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("timed out"), absl::string_view::npos)
      << result.status();
  EXPECT_EQ(OutcomeOf(result.status()), ProviderOutcome::kTimeout);
  EXPECT_NE(result.status().message().find("/slow"), absl::string_view::npos);
  EXPECT_EQ(result.status().message().find("SECRET123"), absl::string_view::npos);
}

TEST(CurlHttpClientTest, ConnectionRefusedIsUnavailableWithoutTheQuery) {
  std::string url;
  {
    FakeHttpServer gone;  // a port that was just free and now has no listener
    url = gone.base_url() + "/query?" + kSecretQuery;
  }
  CurlHttpClient client;
  auto result = client.Get(url, absl::Seconds(5));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message().find("SECRET123"), absl::string_view::npos)
      << result.status();
}

TEST(CurlHttpClientTest, OversizedReplyIsUnavailable) {
  FakeHttpServer server;
  server.Reply("/big", 200, std::string(CurlHttpClient::kMaxBodyBytes + 1, 'x'), "text/plain");
  CurlHttpClient client;
  auto result = client.Get(server.base_url() + "/big", absl::Seconds(5));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
}

TEST(CurlHttpClientTest, ConcurrentCallsShareTheClient) {
  FakeHttpServer server;
  server.Reply("/ok", 200, "{}");
  CurlHttpClient client;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto r = client.Get(server.base_url() + "/ok", absl::Seconds(5));
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace marketdata
