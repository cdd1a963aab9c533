#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/settings.hpp"

namespace {
using core::SettingType;
const std::vector<core::SettingDef> kTable = {
    {"port", SettingType::Int, "5000", "port", false, 0, 65535},
    {"name", SettingType::String, "x", "a name"},
    {"ratio", SettingType::Double, "0.5", "a ratio", false, 0, 1},
    {"verbose", SettingType::Bool, "false", "flag"},
    {"database_url", SettingType::String, "", "secret url", true},
};

std::string TempFile(const std::string& content) {
  char path[] = "/tmp/fp_settings_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << content;
  return path;
}
}  // namespace

TEST(Settings, DefaultsApply) {
  auto s = core::Settings::Load(kTable, "", {}, {});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->Int("port"), 5000);
  EXPECT_EQ(s->String("name"), "x");
  EXPECT_FALSE(s->Bool("verbose"));
  EXPECT_EQ(s->Source("port"), "default");
}

TEST(Settings, FileThenEnvThenFlagsEachLaterWins) {
  auto file = TempFile("# comment\nport = 6000\nname = \"from file\"\nratio=0.25\n");
  auto s = core::Settings::Load(kTable, file, {"FACEPORT_PORT=7000", "OTHER=1", "FACEPORT_VERBOSE=yes"},
                                {"--port", "8000", "--name=flag"});
  ASSERT_TRUE(s) << s.error().log_detail;
  EXPECT_EQ(s->Int("port"), 8000);
  EXPECT_EQ(s->Source("port"), "flag");
  EXPECT_EQ(s->String("name"), "flag");
  EXPECT_DOUBLE_EQ(s->Double("ratio"), 0.25);
  EXPECT_EQ(s->Source("ratio"), "file");
  EXPECT_TRUE(s->Bool("verbose"));
  EXPECT_EQ(s->Source("verbose"), "env");
  std::remove(file.c_str());
}

TEST(Settings, BareBooleanFlagAndDashes) {
  auto s = core::Settings::Load(kTable, "", {}, {"--verbose", "--database-url", "postgresql://u:p@h/db"});
  ASSERT_TRUE(s) << s.error().log_detail;
  EXPECT_TRUE(s->Bool("verbose"));
  EXPECT_EQ(s->String("database_url"), "postgresql://u:p@h/db");
}

TEST(Settings, ErrorsNameTheSetting) {
  auto bad_int = core::Settings::Load(kTable, "", {"FACEPORT_PORT=abc"}, {});
  ASSERT_FALSE(bad_int);
  EXPECT_NE(bad_int.error().log_detail.find("port"), std::string::npos);
  auto range = core::Settings::Load(kTable, "", {}, {"--port", "70000"});
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().log_detail.find("outside"), std::string::npos);
  auto unknown = core::Settings::Load(kTable, "", {}, {"--nope", "1"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().log_detail.find("nope"), std::string::npos);
  auto missing = core::Settings::Load(kTable, "", {}, {"--port"});
  EXPECT_FALSE(missing);
  auto bad_bool = core::Settings::Load(kTable, "", {}, {"--verbose=maybe"});
  EXPECT_FALSE(bad_bool);
  auto no_file = core::Settings::Load(kTable, "/nonexistent/faceport.conf", {}, {});
  EXPECT_FALSE(no_file);
}

TEST(Settings, SecretsAreMasked) {
  auto s = core::Settings::Load(kTable, "", {"FACEPORT_DATABASE_URL=postgresql://u:hunter2@h/db"}, {});
  ASSERT_TRUE(s);
  for (const auto& [k, v] : s->MaskedValues()) {
    EXPECT_EQ(v.find("hunter2"), std::string::npos);
    if (k == "database_url") EXPECT_EQ(v, "***");
  }
  auto help = core::Settings::HelpText(kTable);
  EXPECT_NE(help.find("--port <int>"), std::string::npos);
  EXPECT_NE(help.find("FACEPORT_DATABASE_URL"), std::string::npos);
}
