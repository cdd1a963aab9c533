#include "store/portraits.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <map>
#include <string>
#include <utility>

#include "core/uuid.hpp"

namespace store {
namespace {

constexpr std::array<std::string_view, 5> kSuffixes = {"", "_32", "_64", "_96", "_160"};
constexpr std::string_view kExt = ".jpg";
constexpr std::string_view kTmpExt = ".tmp";

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Ids become file names: only lowercase hex and '-', starting with two hex digits (the
// directory), so that no id can name a path outside the tree.
bool ValidId(std::string_view id) {
  if (id.size() < 2 || id.size() > 64 || !IsHex(id[0]) || !IsHex(id[1])) return false;
  for (char c : id)
    if (!IsHex(c) && c != '-') return false;
  return true;
}

bool ValidSuffix(std::string_view suffix) {
  for (auto s : kSuffixes)
    if (s == suffix) return true;
  return false;
}

core::Error SysError(std::string_view op, const std::string& path, int err) {
  return core::InternalError("portraits: " + std::string(op) + " '" + path + "': " + std::strerror(err));
}

// Closes the descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

core::Status FsyncPath(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (f.fd < 0) return SysError("open directory", path, errno);
  if (::fsync(f.fd) != 0) return SysError("fsync directory", path, errno);
  return {};
}

core::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Writes data to a new file at path (which must not exist) and fsyncs it.
core::Status WriteDurably(const std::string& path, std::string_view data) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
  if (f.fd < 0) return SysError("create", path, errno);
  if (auto st = WriteAll(f.fd, data, path); !st) return st;
  if (::fsync(f.fd) != 0) return SysError("fsync", path, errno);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) return SysError("close", path, errno);
  return {};
}

// A per-call unique temporary name: concurrent Puts of the same id never share one.
std::string TempName(const std::string& final_path) {
  unsigned char rnd[8];
  core::SecureRandom(rnd, sizeof rnd);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = final_path + ".";
  for (unsigned char b : rnd) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  out += kTmpExt;
  return out;
}

bool EndsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// "<id><suffix>.jpg" -> id, or "" when the name is not a portrait file name.
std::string_view PortraitIdOf(std::string_view name) {
  if (!EndsWith(name, kExt)) return {};
  std::string_view stem = name.substr(0, name.size() - kExt.size());
  // Longest suffix first is not needed: the suffixes never end one another.
  for (auto s : kSuffixes) {
    if (s.empty() || !EndsWith(stem, s)) continue;
    stem.remove_suffix(s.size());
    break;
  }
  return ValidId(stem) ? stem : std::string_view();
}

template <class Fn>
auto NoThrow(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return core::InternalError("portraits: " + std::string(what) + ": " + e.what());
  }
}

}  // namespace

PortraitStore::PortraitStore(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string PortraitStore::Path(std::string_view id, std::string_view suffix) const {
  std::string p = root_;
  p += '/';
  p += id.substr(0, 2);
  p += '/';
  p += id;
  p += suffix;
  p += kExt;
  return p;
}

core::Status PortraitStore::Open() {
  return NoThrow("open", [&]() -> core::Status {
    if (root_.empty()) return core::InternalError("portraits: empty root directory");
    // Create each missing level (like mkdir -p), then check the result is a directory.
    for (size_t pos = 1; pos <= root_.size(); ++pos) {
      if (pos != root_.size() && root_[pos] != '/') continue;
      const std::string part = root_.substr(0, pos);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return SysError("mkdir", part, errno);
    }
    struct stat st {};
    if (::stat(root_.c_str(), &st) != 0) return SysError("stat", root_, errno);
    if (!S_ISDIR(st.st_mode)) return core::InternalError("portraits: '" + root_ + "' is not a directory");
    return {};
  });
}

core::Status PortraitStore::Put(std::string_view descriptor_id,
                                const std::vector<std::pair<std::string, std::string>>& files) {
  return NoThrow("put", [&]() -> core::Status {
    if (!ValidId(descriptor_id)) return core::InternalError("portraits: invalid id '" + std::string(descriptor_id) + "'");
    for (const auto& [suffix, bytes] : files)
      if (!ValidSuffix(suffix)) return core::InternalError("portraits: invalid suffix '" + suffix + "'");
    if (files.empty()) return {};

    const std::string dir = root_ + "/" + std::string(descriptor_id.substr(0, 2));
    if (::mkdir(dir.c_str(), 0755) == 0) {
      // A new directory's own entry must be durable too.
      if (auto st = FsyncPath(root_); !st) return st;
    } else if (errno != EEXIST) {
      return SysError("mkdir", dir, errno);
    }

    // (temp, final) for every file; on failure everything this call created is removed, so
    // a failed Put leaves nothing behind (not even files for RemoveOrphans).
    std::vector<std::pair<std::string, std::string>> paths;
    size_t renamed = 0;
    auto cleanup = [&] {
      for (size_t i = 0; i < paths.size(); ++i) ::unlink((i < renamed ? paths[i].second : paths[i].first).c_str());
    };
    for (const auto& [suffix, bytes] : files) {
      std::string final_path = Path(descriptor_id, suffix);
      paths.emplace_back(TempName(final_path), std::move(final_path));
      if (auto st = WriteDurably(paths.back().first, bytes); !st) {
        cleanup();
        return st;
      }
    }
    for (; renamed < paths.size(); ++renamed) {
      if (::rename(paths[renamed].first.c_str(), paths[renamed].second.c_str()) != 0) {
        const int err = errno;
        cleanup();
        return SysError("rename", paths[renamed].first, err);
      }
    }
    if (auto st = FsyncPath(dir); !st) {
      cleanup();
      return st;
    }
    return {};
  });
}

core::Result<std::optional<std::string>> PortraitStore::Get(std::string_view descriptor_id,
                                                            std::string_view suffix) const {
  return NoThrow("get", [&]() -> core::Result<std::optional<std::string>> {
    if (!ValidId(descriptor_id) || !ValidSuffix(suffix)) return std::optional<std::string>();
    const std::string path = Path(descriptor_id, suffix);
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) {
      if (errno == ENOENT) return std::optional<std::string>();
      return SysError("open", path, errno);
    }
    std::string out;
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(f.fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return SysError("read", path, errno);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return std::optional<std::string>(std::move(out));
  });
}

core::Status PortraitStore::Remove(std::string_view descriptor_id) {
  return NoThrow("remove", [&]() -> core::Status {
    if (!ValidId(descriptor_id)) return core::InternalError("portraits: invalid id '" + std::string(descriptor_id) + "'");
    bool any = false;
    for (auto suffix : kSuffixes) {
      const std::string path = Path(descriptor_id, suffix);
      if (::unlink(path.c_str()) == 0)
        any = true;
      else if (errno != ENOENT)
        return SysError("unlink", path, errno);
    }
    if (!any) return {};
    return FsyncPath(root_ + "/" + std::string(descriptor_id.substr(0, 2)));
  });
}

core::Result<int> PortraitStore::RemoveOrphans(const std::function<core::Result<bool>(std::string_view id)>& exists,
                                               int64_t min_age_ms) {
  return NoThrow("remove orphans", [&]() -> core::Result<int> {
    // A file modified after `horizon` may belong to another node's Put in flight.
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const int64_t horizon = int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000 - min_age_ms;
    auto young = [&](const std::string& path) {
      if (min_age_ms <= 0) return false;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) return true;  // vanished or unreadable: not ours to judge
      return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000 > horizon;
    };
    std::vector<std::string> dirs;
    {
      DIR* d = ::opendir(root_.c_str());
      if (!d) return SysError("opendir", root_, errno);
      while (dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name.size() == 2 && IsHex(name[0]) && IsHex(name[1])) dirs.emplace_back(name);
      }
      ::closedir(d);
    }
    int removed = 0;
    for (const auto& sub : dirs) {
      const std::string dir = root_ + "/" + sub;
      std::map<std::string, std::vector<std::string>> by_id;  // portrait files per id
      bool changed = false;
      DIR* d = ::opendir(dir.c_str());
      if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        return SysError("opendir", dir, errno);
      }
      while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        const std::string path = dir + "/" + name;
        if (EndsWith(name, kTmpExt)) {
          // A Put that never finished (or crashed): its row was never committed.
          if (!young(path) && ::unlink(path.c_str()) == 0) changed = true;
          continue;
        }
        std::string_view id = PortraitIdOf(name);
        if (!id.empty() && id.substr(0, 2) == sub) by_id[std::string(id)].push_back(path);
        // Anything else is not ours: left alone.
      }
      ::closedir(d);
      for (const auto& [id, paths] : by_id) {
        bool any_young = false;
        for (const auto& p : paths) any_young = any_young || young(p);
        if (any_young) continue;
        auto row = exists(id);
        if (!row) return std::move(row).error();
        if (*row) continue;
        for (const auto& p : paths)
          if (::unlink(p.c_str()) != 0 && errno != ENOENT) return SysError("unlink", p, errno);
        changed = true;
        ++removed;
      }
      if (changed)
        if (auto st = FsyncPath(dir); !st) return std::move(st).error();
    }
    return removed;
  });
}

}  // namespace store
