#pragma once
// The one settings table of faceport (name, type, default, help). Every option struct of
// every module is filled from it in app/wiring.cpp.
#include <vector>

#include "core/settings.hpp"

namespace app {

const std::vector<core::SettingDef>& SettingsTable();

}  // namespace app
