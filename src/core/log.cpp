#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "core/clock.hpp"

namespace core {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel ParseLogLevel(std::string_view s) {
  for (int i = 0; i < 4; ++i)
    if (s == kLevelNames[i]) return static_cast<LogLevel>(i);
  return LogLevel::Info;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  std::string line;
  line.reserve(256);
  line += "{\"time\":";
  AppendJsonString(line, IsoTime(NowMillis()));
  line += ",\"level\":\"";
  line += kLevelNames[static_cast<int>(level)];
  line += "\",\"event\":";
  AppendJsonString(line, event);
  for (const auto& f : fields) {
    line.push_back(',');
    AppendJsonString(line, f.key);
    line.push_back(':');
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) {
            AppendJsonString(line, v);
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_same_v<V, double>) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.3f", v);
            line += buf;
          } else {
            line += std::to_string(v);
          }
        },
        f.value);
  }
  line += "}\n";
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t w = ::write(STDOUT_FILENO, p, left);
    if (w <= 0) break;  // logging must never take the service down
    p += w;
    left -= static_cast<std::size_t>(w);
  }
}

}  // namespace core
