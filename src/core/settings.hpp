#pragma once
// The settings mechanism: a table of typed settings with defaults and one line of help,
// filled from a config file (key = value lines), then FACEPORT_<NAME> environment
// variables, then --name=value / --name value flags; each later source wins.
// The concrete table lives in app/settings_table.cpp; modules get plain option structs.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace core {

enum class SettingType { String, Int, Double, Bool };

struct SettingDef {
  std::string name;           // snake_case, also the config-file key and flag (--name)
  SettingType type;
  std::string default_value;  // as text, parsed like any other source
  std::string help;           // one line
  bool secret = false;        // masked as *** by MaskedValues()
  int64_t min = INT64_MIN;    // for Int (and Double) settings
  int64_t max = INT64_MAX;
};

std::string_view SettingTypeName(SettingType t);
std::string EnvName(const std::string& setting_name);  // "body_limit" -> "FACEPORT_BODY_LIMIT"

class Settings {
 public:
  // file_path may be empty (no config file). env is the process environment as NAME=VALUE
  // strings. flags are the command-line words after the subcommand. Unknown keys in any
  // source, values that do not parse as the setting's type and out-of-range values are
  // errors naming the setting (Errc::Internal with a log_detail meant for the operator).
  static Result<Settings> Load(const std::vector<SettingDef>& table, const std::string& file_path,
                               const std::vector<std::string>& env, const std::vector<std::string>& flags);
  // Convenience: defaults only (tests).
  static Settings Defaults(const std::vector<SettingDef>& table);

  const std::string& String(const std::string& name) const;
  int64_t Int(const std::string& name) const;
  double Double(const std::string& name) const;
  bool Bool(const std::string& name) const;
  // Where each value came from: default | file | env | flag.
  const std::string& Source(const std::string& name) const;

  // (name, value) in table order with secrets replaced by "***" (empty secrets stay empty).
  std::vector<std::pair<std::string, std::string>> MaskedValues() const;
  const std::vector<SettingDef>& table() const { return table_; }

  // Help text: one line per setting with type, default and env variable.
  static std::string HelpText(const std::vector<SettingDef>& table);

 private:
  Status Set(const std::string& name, const std::string& value, const std::string& source);
  std::vector<SettingDef> table_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> sources_;
};

}  // namespace core
