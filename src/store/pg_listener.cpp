// PgStore, part 6: change notices across nodes (Store::ListenForChanges). A thread of its own
// holds a dedicated connection in LISTEN faceport_changes and calls wake() whenever a
// notification arrives; every write that appended change-feed rows sends one NOTIFY before
// its COMMIT (pg_store_impl.hpp), which PostgreSQL delivers at commit, to every listener.
//
// Notices are only a wake-up: followers still poll the feed (index_catchup_ms), so a notice
// lost while this connection was down delays a change by at most one poll, never forever.
// After a reconnect wake() is called once, because notices sent meanwhile are gone.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "core/log.hpp"
#include "store/pg_store_impl.hpp"

namespace store::pg {
namespace {

class PgListener final : public ChangeListener {
 public:
  PgListener(std::string url, std::function<void()> wake, int stop_fd)
      : url_(std::move(url)), wake_(std::move(wake)), stop_fd_(stop_fd) {
    thread_ = std::thread([this] { Run(); });
  }
  ~PgListener() override {
    const uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    close(stop_fd_);
  }

 private:
  // Waits up to ms for the stop event; true when stopping.
  bool Stopping(int ms) {
    pollfd p{stop_fd_, POLLIN, 0};
    return poll(&p, 1, ms) > 0;
  }

  void Run() {
    bool first = true;
    while (!Stopping(first ? 0 : 1000)) {
      auto conn = Connection::Open(url_);
      if (!conn) {
        core::Log(core::LogLevel::Warn, "change_listener_connect_failed", {{"detail", conn.error().log_detail}});
        first = false;
        continue;
      }
      if (auto st = (*conn)->ExecScript(std::string("LISTEN ") + kNotifyChannel, "listen"); !st) {
        core::Log(core::LogLevel::Warn, "change_listener_failed", {{"detail", st.error().log_detail}});
        first = false;
        continue;
      }
      if (!first) wake_();  // notices sent while we were disconnected are lost
      first = false;
      if (Listen(**conn)) return;
    }
  }

  // Returns true when asked to stop, false when the connection broke.
  bool Listen(Connection& conn) {
    PGconn* c = conn.raw();
    for (;;) {
      pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {PQsocket(c), POLLIN, 0}};
      if (fds[1].fd < 0) return false;
      const int n = poll(fds, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (fds[0].revents) return true;
      if (PQconsumeInput(c) == 0) {
        core::Log(core::LogLevel::Warn, "change_listener_disconnected", {{"detail", std::string(PQerrorMessage(c))}});
        return false;
      }
      bool any = false;
      while (PGnotify* note = PQnotifies(c)) {
        any = true;
        PQfreemem(note);
      }
      if (any) wake_();
    }
  }

  std::string url_;
  std::function<void()> wake_;
  int stop_fd_;
  std::thread thread_;
};

}  // namespace

core::Result<std::unique_ptr<ChangeListener>> PgStore::ListenForChanges(std::function<void()> wake) {
  return NoThrow("listen for changes", [&]() -> core::Result<std::unique_ptr<ChangeListener>> {
    const int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) return core::InternalError("listen for changes: eventfd failed");
    return std::unique_ptr<ChangeListener>(new PgListener(url_, std::move(wake), fd));
  });
}

}  // namespace store::pg
