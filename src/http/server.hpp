#pragma once
// HTTP/1.1 server on Boost.Beast/Asio.
//  - network threads only parse and write; every request is handed to a worker pool, so a
//    slow handler (face extraction) never blocks reading or writing other connections;
//  - keep-alive, header/body read timeouts, a header size limit and a body size limit
//    (over it: the dispatcher gets TransportError::BodyTooLarge and the connection closes);
//  - at most max_connections open connections (further ones are closed at accept);
//  - Stop() is graceful: no new connections, idle keep-alive connections close, requests in
//    flight finish and are written with "Connection: close", then the threads end.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/message.hpp"

namespace http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 5000;                 // 0 = pick a free port (see Server::port())
  int network_threads = 1;
  int worker_threads = 2;
  uint64_t body_limit = 16 * 1024 * 1024;
  uint32_t header_limit = 16 * 1024;
  int header_timeout_ms = 15000;        // waiting for (and reading) the next request's headers
  int body_timeout_ms = 60000;          // reading the body once headers are in
  int max_connections = 1024;
  int shutdown_timeout_ms = 30000;      // how long Stop() waits for in-flight requests
};

// Called on a worker thread for every request, including transport errors.
using Dispatcher = std::function<Response(Request&)>;
// Decides, on the network thread, whether a request is light enough (microseconds, no
// blocking work) to run right there instead of hopping to the worker pool and back.
using InlinePredicate = std::function<bool(const Request&)>;

class Server {
 public:
  Server(ServerOptions options, Dispatcher dispatcher, InlinePredicate run_inline = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws nothing: returns false and sets *error on failure.
  bool Start(std::string* error);
  uint16_t port() const;
  // Graceful stop; blocks until drained or shutdown_timeout_ms passed. Safe to call twice.
  void Stop();
  // Blocks until Stop() has finished (used by main after installing signal handling).
  void Wait();
  int open_connections() const;

  struct Impl;  // opaque; public only so that the connection class in server.cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace http
