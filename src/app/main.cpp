// faceport: one binary, several subcommands. Settings come from the one table
// (app/settings_table.cpp): config file (--config FILE or FACEPORT_CONFIG), then FACEPORT_*
// environment variables, then --flags.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/face_cli.hpp"
#include "app/settings_table.hpp"
#include "app/wiring.hpp"
#include "core/log.hpp"

extern char** environ;

namespace {

const char* kUsage =
    "usage: faceport <command> [--setting value ...]\n"
    "commands:\n"
    "  serve                      run the HTTP API (faceport serve --help lists every setting)\n"
    "  config                     print the effective configuration (secrets masked) and where each value came from\n"
    "  version                    print the version\n"
    "  account suspend EMAIL      refuse every request of that account (403 11004)\n"
    "  account resume EMAIL       lift the suspension\n"
    "  gc                         delete unlinked descriptors older than descriptor_ttl_s now\n"
    "  detect IMAGE [--attributes] [--quality] [--pose] [--emotions]\n"
    "                             print the faces of an image as the API's face objects\n"
    "  compare IMAGE_A IMAGE_B    print the similarity of the best faces of two images\n"
    "common flag: --config FILE   read settings from FILE (name = value lines) before the environment and flags\n";

struct Cli {
  std::string command;
  std::vector<std::string> positional;  // words before the first --flag
  std::vector<std::string> flags;       // --flags without --config
  std::string config_file;
  bool help = false;
};

Cli ParseCli(int argc, char** argv) {
  Cli c;
  if (argc > 1) c.command = argv[1];
  if (const char* env = std::getenv("FACEPORT_CONFIG")) c.config_file = env;
  bool in_flags = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      c.help = true;
      continue;
    }
    if (a == "--config" && i + 1 < argc) {
      c.config_file = argv[++i];
      continue;
    }
    if (a.rfind("--config=", 0) == 0) {
      c.config_file = a.substr(9);
      continue;
    }
    if (a.rfind("--", 0) == 0) in_flags = true;
    (in_flags ? c.flags : c.positional).push_back(a);
  }
  return c;
}

core::Result<core::Settings> LoadSettings(const Cli& c) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  return core::Settings::Load(app::SettingsTable(), c.config_file, env, c.flags);
}

int ConfigError(const core::Error& e) {
  std::fprintf(stderr, "faceport: configuration error: %s\n", e.log_detail.c_str());
  return 2;
}

int RunAccount(const Cli& c, const core::Settings& s) {
  if (c.positional.size() != 2 || (c.positional[0] != "suspend" && c.positional[0] != "resume")) {
    std::fputs("usage: faceport account suspend|resume EMAIL [--data_dir DIR]\n", stderr);
    return 2;
  }
  auto st = app::OpenStore(s);
  if (!st) {
    std::fprintf(stderr, "faceport: cannot open the database: %s\n", st.error().log_detail.c_str());
    return 1;
  }
  std::string email = c.positional[1];
  std::transform(email.begin(), email.end(), email.begin(), [](unsigned char ch) { return std::tolower(ch); });
  bool suspend = c.positional[0] == "suspend";
  auto r = (*st)->SetAccountSuspended(email, suspend);
  if (!r) {
    std::fprintf(stderr, "faceport: %s\n", r.error().log_detail.c_str());
    return 1;
  }
  if (!*r) {
    std::fprintf(stderr, "faceport: no account with email %s\n", email.c_str());
    return 1;
  }
  std::printf("account %s %s\n", email.c_str(), suspend ? "suspended" : "resumed");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli = ParseCli(argc, argv);
  if (cli.command.empty() || cli.command == "help" || cli.command == "--help" || cli.command == "-h") {
    std::fputs(kUsage, cli.command.empty() ? stderr : stdout);
    return cli.command.empty() ? 2 : 0;
  }
  if (cli.command == "version" || cli.command == "--version") {
    std::printf("faceport %s\n", FACEPORT_VERSION);
    return 0;
  }
  if (cli.help) {
    std::printf("usage: faceport %s [--config FILE] [--setting value ...]\n\nsettings:\n%s", cli.command.c_str(),
                core::Settings::HelpText(app::SettingsTable()).c_str());
    return 0;
  }
  // detect's own switches are not settings.
  std::vector<std::string> face_flags;
  if (cli.command == "detect") {
    for (const char* f : {"--attributes", "--quality", "--pose", "--emotions"}) {
      auto it = std::find(cli.flags.begin(), cli.flags.end(), f);
      if (it != cli.flags.end()) {
        face_flags.push_back(f);
        cli.flags.erase(it);
      }
    }
  }
  auto settings = LoadSettings(cli);
  if (!settings) return ConfigError(settings.error());
  core::SetLogLevel(core::ParseLogLevel(settings->String("log_level")));
  if (cli.command == "serve") {
    if (!cli.positional.empty()) {
      std::fprintf(stderr, "faceport: unexpected argument '%s'\n", cli.positional[0].c_str());
      return 2;
    }
    return app::RunServe(*settings);
  }
  if (cli.command == "config") {
    for (const auto& [k, v] : settings->MaskedValues())
      std::printf("%s = %s  # %s\n", k.c_str(), v.c_str(), settings->Source(k).c_str());
    return 0;
  }
  if (cli.command == "account") return RunAccount(cli, *settings);
  if (cli.command == "gc") return app::RunGc(*settings);
  if (cli.command == "detect") {
    auto args = cli.positional;
    args.insert(args.end(), face_flags.begin(), face_flags.end());
    return app::RunDetect(args, *settings);
  }
  if (cli.command == "compare") return app::RunCompare(cli.positional, *settings);
  std::fprintf(stderr, "faceport: unknown command '%s'\n%s", cli.command.c_str(), kUsage);
  return 2;
}
