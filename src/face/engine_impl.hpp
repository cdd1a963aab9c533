#pragma once
// Engine internals shared by engine*.cpp (not part of the public API).
#include <onnxruntime_cxx_api.h>

#include <map>
#include <memory>
#include <string>

#include "face/engine.hpp"
#include "face/manifest.hpp"
#include "face/onnx_model.hpp"

namespace face {

struct Engine::Impl {
  EngineOptions options;
  Manifest manifest;
  std::unique_ptr<Ort::Env> env;
  std::map<std::string, std::unique_ptr<OnnxModel>> models;  // loaded, by manifest name
  std::string unhealthy;  // comma-separated models that failed after start-up ("" = healthy)

  const OnnxModel* Model(const std::string& name) const {
    auto it = models.find(name);
    return it == models.end() ? nullptr : it->second.get();
  }
};

}  // namespace face
