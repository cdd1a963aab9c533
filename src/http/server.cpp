#include "http/server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "core/log.hpp"

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {
class Session;
bool IsHttpError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}
}  // namespace

struct Server::Impl {
  ServerOptions opt;
  Dispatcher dispatcher;
  InlinePredicate run_inline;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::thread_pool workers;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions;
  bool stopped = false;

  Impl(ServerOptions o, Dispatcher d, InlinePredicate inl)
      : opt(std::move(o)), dispatcher(std::move(d)), run_inline(std::move(inl)), workers(static_cast<std::size_t>(std::max(1, opt.worker_threads))) {}
  void Accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& srv) : stream_(std::move(socket)), srv_(srv) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  ~Session() {
    srv_.connections.fetch_sub(1);
    srv_.cv.notify_all();
  }

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Called at shutdown: an idle connection (waiting for a request) is closed now; a busy
  // one finishes its request and closes after writing the response.
  void Drain() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  void ReadHeader() {
    if (srv_.stopping.load()) return Close();
    parser_.emplace();
    parser_->header_limit(srv_.opt.header_limit);
    parser_->body_limit(srv_.opt.body_limit);
    idle_ = buffer_.size() == 0;
    stream_.expires_after(std::chrono::milliseconds(srv_.opt.header_timeout_ms));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  // A failed header or body read: over the body limit → 413; a malformed message → 400;
  // end of stream, timeout or reset → nothing to answer. The connection closes either way.
  void ReadFailed(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return Fail(TransportError::BodyTooLarge);
    if (IsHttpError(ec) && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
      return Fail(TransportError::BadRequest);
    Close();
  }

  void OnHeader(beast::error_code ec) {
    idle_ = false;
    if (ec) return ReadFailed(ec);
    auto& h = parser_->get();
    if (auto it = h.find(bhttp::field::expect); it != h.end() && beast::iequals(it->value(), "100-continue")) {
      // Tell curl-like clients to send the body now instead of waiting a second.
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, h.version());
      bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(std::chrono::milliseconds(srv_.opt.body_timeout_ms));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec) return ReadFailed(ec);
    stream_.expires_never();
    auto msg = parser_->release();
    auto req = std::make_shared<Request>();
    req->received_at_us = SteadyMicros();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    std::string_view target(req->target);
    auto q = target.find('?');
    req->path = PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) req->query = ParseQuery(target.substr(q + 1));
    req->headers.reserve(8);
    for (const auto& f : msg) req->headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req->body = std::move(msg.body());
    req->remote_address = remote_;
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    Dispatch(std::move(req));
  }

  // Transport-level problem: still answer through the dispatcher (same error body, request
  // id and log line), then close because the stream position is unknown.
  void Fail(TransportError err) {
    auto req = std::make_shared<Request>();
    req->received_at_us = SteadyMicros();
    req->transport_error = err;
    if (parser_) {
      const auto& h = parser_->get();
      req->method = std::string(h.method_string());
      req->target = std::string(h.target());
      req->path = std::string(h.target().substr(0, h.target().find('?')));
      for (const auto& f : h) req->headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    req->remote_address = remote_;
    keep_alive_ = false;
    version_ = 11;
    Dispatch(std::move(req));
  }

  Response Run(Request& req) {
    try {
      return srv_.dispatcher(req);
    } catch (const std::exception& e) {
      core::Log(core::LogLevel::Error, "dispatcher_exception", {{"what", e.what()}});
      Response res;
      res.status = 500;
      res.body = R"({"error_code":1,"detail":"internal server error"})";
      res.Set("Content-Type", "application/json");
      return res;
    }
  }

  void Dispatch(std::shared_ptr<Request> req) {
    if (srv_.run_inline && req->transport_error == TransportError::None && srv_.run_inline(*req))
      return Write(Run(*req));
    asio::post(srv_.workers, [self = shared_from_this(), req] {
      Response res = self->Run(*req);
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    });
  }

  void Write(Response res) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(version_);
    out->result(res.status);
    for (auto& [k, v] : res.headers) out->insert(k, v);
    out->body() = std::move(res.body);
    bool keep = keep_alive_ && !srv_.stopping.load();
    out->keep_alive(keep);
    out->prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(srv_.opt.body_timeout_ms));
    bhttp::async_write(stream_, *out, [self = shared_from_this(), out, keep](beast::error_code ec, std::size_t) {
      if (ec || !keep) return self->Close();
      self->ReadHeader();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Server::Impl& srv_;
  std::string remote_;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool idle_ = true;
};

}  // namespace

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping.load()) return;
      // Out of file descriptors and the like: log and keep accepting.
      core::Log(core::LogLevel::Warn, "accept_failed", {{"error", ec.message()}});
      return Accept();
    }
    if (stopping.load()) return;
    if (connections.load() >= opt.max_connections) {
      core::Log(core::LogLevel::Warn, "connection_refused", {{"reason", "max_connections"}});
      beast::error_code ignored;
      socket.close(ignored);
      return Accept();
    }
    connections.fetch_add(1);
    socket.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<Session>(std::move(socket), *this);
    {
      std::lock_guard lk(mu);
      for (auto it = sessions.begin(); it != sessions.end();) it = it->expired() ? sessions.erase(it) : std::next(it);
      sessions.insert(s);
    }
    s->Run();
    Accept();
  });
}

Server::Server(ServerOptions options, Dispatcher dispatcher, InlinePredicate run_inline)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(dispatcher), std::move(run_inline))) {}

Server::~Server() {
  Stop();
}

bool Server::Start(std::string* error) {
  auto& im = *impl_;
  beast::error_code ec;
  auto addr = asio::ip::make_address(im.opt.address, ec);
  if (ec) {
    *error = "bad listen address '" + im.opt.address + "': " + ec.message();
    return false;
  }
  tcp::endpoint ep(addr, im.opt.port);
  im.acceptor.open(ep.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(ep, ec);
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "cannot listen on " + im.opt.address + ":" + std::to_string(im.opt.port) + ": " + ec.message();
    return false;
  }
  im.work.emplace(im.ioc.get_executor());
  im.Accept();
  for (int i = 0; i < std::max(1, im.opt.network_threads); ++i) im.threads.emplace_back([&im] { im.ioc.run(); });
  return true;
}

uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

int Server::open_connections() const { return impl_->connections.load(); }

void Server::Stop() {
  auto& im = *impl_;
  if (im.stopping.exchange(true)) {
    Wait();
    return;
  }
  asio::post(im.ioc, [&im] {
    beast::error_code ec;
    im.acceptor.close(ec);
  });
  {
    std::lock_guard lk(im.mu);
    for (auto& w : im.sessions)
      if (auto s = w.lock()) s->Drain();
  }
  {
    std::unique_lock lk(im.mu);
    im.cv.wait_for(lk, std::chrono::milliseconds(im.opt.shutdown_timeout_ms),
                   [&im] { return im.connections.load() == 0; });
  }
  im.work.reset();
  im.ioc.stop();
  for (auto& t : im.threads)
    if (t.joinable()) t.join();
  im.workers.join();
  {
    std::lock_guard lk(im.mu);
    im.stopped = true;
  }
  im.cv.notify_all();
}

void Server::Wait() {
  auto& im = *impl_;
  std::unique_lock lk(im.mu);
  im.cv.wait(lk, [&im] { return im.stopped || im.threads.empty(); });
}

}  // namespace http
