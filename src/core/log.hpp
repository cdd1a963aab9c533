#pragma once
// Structured logging: one JSON object per line on stdout, written with a single write(2)
// so lines from different threads never interleave. Callers pass only what may be logged:
// never passwords, tokens or Authorization headers.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace core {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

struct LogField {
  std::string_view key;
  std::variant<std::string_view, int64_t, double, bool> value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(int64_t(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(int64_t(v)) {}
  LogField(std::string_view k, std::size_t v) : key(k), value(int64_t(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
};

void SetLogLevel(LogLevel level);
LogLevel ParseLogLevel(std::string_view s);  // debug|info|warn|error, Info otherwise
// {"time":..., "level":..., "event":..., <fields>}
void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// JSON string escaping shared by the logger (no JSON library in core).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace core
