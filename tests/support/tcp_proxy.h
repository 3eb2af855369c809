// TcpProxy: a loopback TCP forwarder that a test can cut, to play a server that crashed or a
// network that dropped, without stopping the real server other tests share.
#ifndef MARKETDATA_TESTS_SUPPORT_TCP_PROXY_H_
#define MARKETDATA_TESTS_SUPPORT_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace marketdata::testing {

class TcpProxy {
 public:
  // Forwards 127.0.0.1:port() to target_host:target_port.
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Drops every open connection and closes new ones at once, as a dead server's host does.
  void Cut();
  // Forwards again.
  void Restore();
  // Drops every open connection but keeps accepting new ones: a connection lost mid-call.
  void DropConnections();

 private:
  void AcceptLoop();
  void Pump(int client, int server);

  std::string target_host_;
  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_{false};
  absl::Mutex mu_;
  std::vector<int> open_ ABSL_GUARDED_BY(mu_);  // sockets of live connections
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace marketdata::testing

#endif  // MARKETDATA_TESTS_SUPPORT_TCP_PROXY_H_
