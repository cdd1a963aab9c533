#include "core/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace core {
namespace {

std::string Trim(std::string s) {
  auto ns = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), ns));
  s.erase(std::find_if(s.rbegin(), s.rend(), ns).base(), s.end());
  return s;
}

const SettingDef* Find(const std::vector<SettingDef>& t, const std::string& name) {
  for (const auto& d : t)
    if (d.name == name) return &d;
  return nullptr;
}

std::optional<bool> ParseBool(const std::string& v) {
  std::string l;
  for (char c : v) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l == "0" || l == "false" || l == "no" || l == "off") return false;
  return std::nullopt;
}

Error ConfigError(std::string msg) { return Error(Errc::Internal, {}, std::move(msg)); }

}  // namespace

std::string_view SettingTypeName(SettingType t) {
  switch (t) {
    case SettingType::String: return "string";
    case SettingType::Int: return "int";
    case SettingType::Double: return "float";
    case SettingType::Bool: return "bool";
  }
  return "?";
}

std::string EnvName(const std::string& n) {
  std::string e = "FACEPORT_";
  for (char c : n) e.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return e;
}

Status Settings::Set(const std::string& name, const std::string& value, const std::string& source) {
  const SettingDef* d = Find(table_, name);
  if (!d) return ConfigError("unknown setting '" + name + "' (" + source + ")");
  std::string where = "setting '" + name + "' from " + source;
  switch (d->type) {
    case SettingType::Int: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size())
        return ConfigError(where + ": '" + value + "' is not an integer");
      if (v < d->min || v > d->max)
        return ConfigError(where + ": " + value + " is outside " + std::to_string(d->min) + ".." +
                           std::to_string(d->max));
      break;
    }
    case SettingType::Double: {
      try {
        std::size_t pos = 0;
        double v = std::stod(value, &pos);
        if (pos != value.size()) throw std::invalid_argument("tail");
        if (v < static_cast<double>(d->min) || v > static_cast<double>(d->max))
          return ConfigError(where + ": " + value + " is out of range");
      } catch (const std::exception&) {
        return ConfigError(where + ": '" + value + "' is not a number");
      }
      break;
    }
    case SettingType::Bool:
      if (!ParseBool(value)) return ConfigError(where + ": '" + value + "' is not a boolean");
      break;
    case SettingType::String: break;
  }
  values_[name] = value;
  sources_[name] = source;
  return {};
}

Settings Settings::Defaults(const std::vector<SettingDef>& table) {
  Settings s;
  s.table_ = table;
  for (const auto& d : table) {
    s.values_[d.name] = d.default_value;
    s.sources_[d.name] = "default";
  }
  return s;
}

Result<Settings> Settings::Load(const std::vector<SettingDef>& table, const std::string& file_path,
                                const std::vector<std::string>& env, const std::vector<std::string>& flags) {
  Settings s = Defaults(table);
  if (!file_path.empty()) {
    std::ifstream in(file_path);
    if (!in) return ConfigError("cannot read config file '" + file_path + "'");
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      std::string t = Trim(line);
      if (t.empty() || t[0] == '#') continue;
      auto eq = t.find('=');
      if (eq == std::string::npos)
        return ConfigError(file_path + ":" + std::to_string(lineno) + ": expected 'name = value'");
      std::string value = Trim(t.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (auto st = s.Set(Trim(t.substr(0, eq)), value, "file"); !st) return std::move(st).error();
    }
  }
  for (const auto& kv : env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || kv.rfind("FACEPORT_", 0) != 0) continue;
    std::string key = kv.substr(0, eq);
    for (const auto& d : table) {
      if (EnvName(d.name) == key) {
        if (auto st = s.Set(d.name, kv.substr(eq + 1), "env"); !st) return std::move(st).error();
      }
    }
  }
  for (std::size_t i = 0; i < flags.size(); ++i) {
    const std::string& f = flags[i];
    if (f.rfind("--", 0) != 0) return ConfigError("unexpected argument '" + f + "'");
    std::string body = f.substr(2), name, value;
    auto eq = body.find('=');
    if (eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
    } else {
      name = body;
      std::replace(name.begin(), name.end(), '-', '_');
      const SettingDef* d = Find(table, name);
      if (d && d->type == SettingType::Bool && (i + 1 >= flags.size() || flags[i + 1].rfind("--", 0) == 0)) {
        value = "true";  // bare boolean flag
      } else {
        if (i + 1 >= flags.size()) return ConfigError("flag '" + f + "' needs a value");
        value = flags[++i];
      }
    }
    std::replace(name.begin(), name.end(), '-', '_');
    if (auto st = s.Set(name, value, "flag"); !st) return std::move(st).error();
  }
  return s;
}

const std::string& Settings::String(const std::string& name) const { return values_.at(name); }
int64_t Settings::Int(const std::string& name) const { return std::stoll(values_.at(name)); }
double Settings::Double(const std::string& name) const { return std::stod(values_.at(name)); }
bool Settings::Bool(const std::string& name) const { return *ParseBool(values_.at(name)); }
const std::string& Settings::Source(const std::string& name) const { return sources_.at(name); }

std::vector<std::pair<std::string, std::string>> Settings::MaskedValues() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& d : table_) {
    const std::string& v = values_.at(d.name);
    out.emplace_back(d.name, d.secret && !v.empty() ? "***" : v);
  }
  return out;
}

std::string Settings::HelpText(const std::vector<SettingDef>& table) {
  std::ostringstream o;
  for (const auto& d : table) {
    o << "  --" << d.name << " <" << SettingTypeName(d.type) << ">  (default: "
      << (d.default_value.empty() ? "\"\"" : d.default_value) << "; env " << EnvName(d.name) << ")\n      "
      << d.help << "\n";
  }
  return o.str();
}

}  // namespace core
