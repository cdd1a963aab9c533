#pragma once
// models/manifest.json: the facts about each model file (where it is, its sha256, how to
// feed it, what it outputs). Read once by Engine::Create; code reads preprocessing from here.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace face {

struct ModelEntry {
  std::string name;       // role: detector, landmarks, descriptor, liveness, pose, emotions, eyes, age_gender, ethnicities
  std::string file;       // relative to the manifest's folder
  std::string sha256;     // lowercase hex
  std::string input;      // input tensor name
  std::vector<int64_t> input_shape;  // e.g. 1,3,112,112
  std::string layout = "NCHW";       // NCHW | NHWC
  std::string channels = "BGR";      // BGR | RGB | GRAY
  std::array<float, 3> mean{0, 0, 0};  // x' = (x - mean) / std, per channel in `channels` order
  std::array<float, 3> std{1, 1, 1};
  std::vector<std::string> outputs;
  bool optional = false;  // a missing file disables the capability instead of failing start-up

  int width() const;   // from input_shape and layout
  int height() const;
};

struct Manifest {
  uint32_t descriptor_version = 0;
  std::map<std::string, ModelEntry> models;  // by name
  std::string dir;                           // folder of the manifest

  static core::Result<Manifest> Load(const std::string& models_dir);
  static core::Result<Manifest> Parse(const std::string& json_text, const std::string& dir);
  const ModelEntry* Find(const std::string& name) const;
};

// Lowercase hex sha256 of a byte string.
std::string Sha256Hex(const std::string& bytes);

}  // namespace face
