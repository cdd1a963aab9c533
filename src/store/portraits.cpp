#include "store/portraits.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
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
constexpr std::string_view kExt = ".jpg";       // one file per image (before the bundle)
constexpr std::string_view kBundleExt = ".jpgs";  // one file per descriptor
constexpr std::string_view kTmpExt = ".tmp";

// Bundle layout: magic, then (offset, length) as little-endian u32 for each of kSuffixes in
// order (offset kAbsent: no such image), then the images.
constexpr std::string_view kMagic = "FPJPGS1\n";
constexpr uint32_t kAbsent = 0xffffffffu;
constexpr size_t kHeaderBytes = 8 + kSuffixes.size() * 8;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

size_t SuffixIndex(std::string_view suffix) {
  for (size_t i = 0; i < kSuffixes.size(); ++i)
    if (kSuffixes[i] == suffix) return i;
  return kSuffixes.size();
}

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

// "<id>.jpgs" or "<id><suffix>.jpg" -> id, or "" when the name is not a portrait file name.
std::string_view PortraitIdOf(std::string_view name) {
  if (EndsWith(name, kBundleExt)) {
    std::string_view stem = name.substr(0, name.size() - kBundleExt.size());
    return ValidId(stem) ? stem : std::string_view();
  }
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

namespace {

// A whole file; nullopt when it does not exist.
core::Result<std::optional<std::string>> ReadWhole(const std::string& path) {
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
}

core::Status PreadAll(int fd, char* out, size_t n, off_t at, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, out, n, at);
    if (r < 0) {
      if (errno == EINTR) continue;
      return SysError("read", path, errno);
    }
    if (r == 0) return core::InternalError("portraits: '" + path + "' is truncated");
    out += r;
    at += r;
    n -= static_cast<size_t>(r);
  }
  return {};
}

using Images = std::array<std::optional<std::string>, kSuffixes.size()>;

std::string EncodeBundle(const Images& images) {
  std::string out(kMagic);
  size_t offset = kHeaderBytes;
  for (const auto& img : images) {
    PutU32(out, img ? static_cast<uint32_t>(offset) : kAbsent);
    PutU32(out, img ? static_cast<uint32_t>(img->size()) : 0);
    if (img) offset += img->size();
  }
  for (const auto& img : images)
    if (img) out += *img;
  return out;
}

// The (offset, length) of image i, checked against the file size.
core::Result<std::optional<std::pair<uint32_t, uint32_t>>> Entry(std::string_view header, size_t i, uint64_t size,
                                                                 const std::string& path) {
  if (header.size() < kHeaderBytes || header.substr(0, kMagic.size()) != kMagic)
    return core::InternalError("portraits: '" + path + "' is not a portrait bundle");
  const uint32_t off = GetU32(header.data() + 8 + 8 * i), len = GetU32(header.data() + 12 + 8 * i);
  if (off == kAbsent) return std::optional<std::pair<uint32_t, uint32_t>>();
  if (off < kHeaderBytes || uint64_t{off} + len > size)
    return core::InternalError("portraits: '" + path + "' has an entry outside the file");
  return std::optional<std::pair<uint32_t, uint32_t>>(std::make_pair(off, len));
}

}  // namespace

std::string PortraitStore::BundlePath(std::string_view id) const {
  std::string p = root_;
  p += '/';
  p += id.substr(0, 2);
  p += '/';
  p += id;
  p += kBundleExt;
  return p;
}

core::Status PortraitStore::Put(std::string_view descriptor_id,
                                const std::vector<std::pair<std::string, std::string>>& files) {
  return NoThrow("put", [&]() -> core::Status {
    if (!ValidId(descriptor_id)) return core::InternalError("portraits: invalid id '" + std::string(descriptor_id) + "'");
    for (const auto& [suffix, bytes] : files) {
      if (!ValidSuffix(suffix)) return core::InternalError("portraits: invalid suffix '" + suffix + "'");
      if (bytes.size() >= kAbsent - kHeaderBytes) return core::InternalError("portraits: image too large");
    }
    if (files.empty()) return {};

    const std::string dir = root_ + "/" + std::string(descriptor_id.substr(0, 2));
    if (::mkdir(dir.c_str(), 0755) == 0) {
      // A new directory's own entry must be durable too.
      if (auto st = FsyncPath(root_); !st) return st;
    } else if (errno != EEXIST) {
      return SysError("mkdir", dir, errno);
    }

    // Images given replace those of the same suffix; the others are kept (from an existing
    // bundle, or from the one-file-per-image layout of older versions, which this converts).
    Images images;
    for (const auto& [suffix, bytes] : files) images[SuffixIndex(suffix)] = bytes;
    bool complete = true;
    for (const auto& img : images) complete = complete && img.has_value();
    bool legacy = false;
    const std::string final_path = BundlePath(descriptor_id);
    // A new descriptor brings all five images (the extraction path): nothing to merge, so no
    // reads of files that do not exist on the hot path. (Files of the older layout under the
    // same id would then stay, unread behind the bundle, until Remove; ids are never reused.)
    auto existing = complete ? core::Result<std::optional<std::string>>(std::optional<std::string>())
                             : ReadWhole(final_path);
    if (!existing) return std::move(existing).error();
    for (size_t i = 0; i < kSuffixes.size() && !complete; ++i) {
      if (images[i]) continue;  // given by the caller: replaces what is stored
      if (*existing) {
        auto e = Entry(**existing, i, (*existing)->size(), final_path);
        if (!e) return std::move(e).error();
        if (*e) images[i] = (*existing)->substr((*e)->first, (*e)->second);
      } else {
        auto old = ReadWhole(Path(descriptor_id, kSuffixes[i]));
        if (!old) return std::move(old).error();
        if (*old) {
          images[i] = std::move(**old);
          legacy = true;
        }
      }
    }

    // One file, written to a temporary name and fsynced, renamed into place, directory
    // fsynced: two fsyncs per Put instead of two per image (each fsync is a journal commit
    // and, on a VM, several exits to the host; docs/BENCHMARKS.md, Storage API).
    const std::string temp = TempName(final_path);
    if (auto st = WriteDurably(temp, EncodeBundle(images)); !st) {
      ::unlink(temp.c_str());
      return st;
    }
    if (::rename(temp.c_str(), final_path.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return SysError("rename", temp, err);
    }
    if (legacy)
      for (auto suffix : kSuffixes) ::unlink(Path(descriptor_id, suffix).c_str());
    return FsyncPath(dir);
  });
}

core::Result<std::optional<std::string>> PortraitStore::Get(std::string_view descriptor_id,
                                                            std::string_view suffix) const {
  return NoThrow("get", [&]() -> core::Result<std::optional<std::string>> {
    if (!ValidId(descriptor_id) || !ValidSuffix(suffix)) return std::optional<std::string>();
    const std::string path = BundlePath(descriptor_id);
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) {
      if (errno == ENOENT) return ReadWhole(Path(descriptor_id, suffix));  // older layout
      return SysError("open", path, errno);
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return SysError("stat", path, errno);
    std::string header(kHeaderBytes, '\0');
    if (static_cast<uint64_t>(st.st_size) < kHeaderBytes)
      return core::InternalError("portraits: '" + path + "' is truncated");
    if (auto r = PreadAll(f.fd, header.data(), header.size(), 0, path); !r) return std::move(r).error();
    auto e = Entry(header, SuffixIndex(suffix), static_cast<uint64_t>(st.st_size), path);
    if (!e) return std::move(e).error();
    if (!*e) return std::optional<std::string>();
    std::string out((*e)->second, '\0');
    if (auto r = PreadAll(f.fd, out.data(), out.size(), (*e)->first, path); !r) return std::move(r).error();
    return std::optional<std::string>(std::move(out));
  });
}

core::Status PortraitStore::Remove(std::string_view descriptor_id) {
  return NoThrow("remove", [&]() -> core::Status {
    if (!ValidId(descriptor_id)) return core::InternalError("portraits: invalid id '" + std::string(descriptor_id) + "'");
    bool any = false;
    std::vector<std::string> paths{BundlePath(descriptor_id)};
    for (auto suffix : kSuffixes) paths.push_back(Path(descriptor_id, suffix));
    for (const auto& path : paths) {
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
