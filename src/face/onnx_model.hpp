#pragma once
// One ONNX Runtime session for one manifest entry. Internal to fp_face (includes ORT).
// Run() is const and thread-safe (ORT sessions allow concurrent Run calls).
#include <onnxruntime_cxx_api.h>

#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "face/manifest.hpp"

namespace face {

struct OnnxOptions {
  int intra_op_threads = 1;
  bool verify_sha256 = true;
};

class OnnxModel {
 public:
  // Reads the file, checks sha256, creates the session (denormals as zero, no spinning,
  // all graph optimisations) and runs one inference on zeros. Errors name the model.
  static core::Result<std::unique_ptr<OnnxModel>> Load(Ort::Env& env, const ModelEntry& entry,
                                                       const std::string& dir, const OnnxOptions& options);

  // One input tensor (shape: the manifest's input_shape with dimension 0 = batch);
  // returns each manifest output flattened, in manifest order.
  core::Result<std::vector<std::vector<float>>> Run(const float* input, int64_t batch = 1) const;
  const ModelEntry& entry() const { return entry_; }
  size_t input_size() const;  // floats per batch item

 private:
  OnnxModel(const ModelEntry& entry, Ort::Session session);
  ModelEntry entry_;
  Ort::Session session_;
  Ort::MemoryInfo memory_info_;
  std::vector<const char*> output_names_;
};

}  // namespace face
