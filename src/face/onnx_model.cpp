#include "face/onnx_model.hpp"

#include <xmmintrin.h>

#include <fstream>
#include <sstream>

namespace face {
namespace {

core::Error ModelError(const ModelEntry& e, const std::string& why) {
  return core::Error(core::Errc::Internal, {e.name}, "model " + e.name + " (" + e.file + "): " + why);
}

// Flush-to-zero + denormals-are-zero on the calling thread for the duration of a Run: ORT's
// session.set_denormal_as_zero only covers its own pool threads, while with one intra-op
// thread the inference runs on the caller's thread (a worker of the service's pool).
class DenormalsAsZero {
 public:
  DenormalsAsZero() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }
  ~DenormalsAsZero() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
};

}  // namespace

OnnxModel::OnnxModel(const ModelEntry& entry, Ort::Session session)
    : entry_(entry),
      session_(std::move(session)),
      memory_info_(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)) {
  for (const auto& n : entry_.outputs) output_names_.push_back(n.c_str());
}

size_t OnnxModel::input_size() const {
  size_t n = 1;
  for (size_t i = 1; i < entry_.input_shape.size(); ++i) n *= static_cast<size_t>(entry_.input_shape[i]);
  return n;
}

core::Result<std::unique_ptr<OnnxModel>> OnnxModel::Load(Ort::Env& env, const ModelEntry& entry,
                                                         const std::string& dir, const OnnxOptions& options) {
  const std::string path = dir + "/" + entry.file;
  std::ifstream f(path, std::ios::binary);
  if (!f) return ModelError(entry, "missing file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  if (options.verify_sha256) {
    const std::string got = Sha256Hex(bytes);
    if (got != entry.sha256) return ModelError(entry, "sha256 mismatch (corrupt file?): got " + got);
  }
  try {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(options.intra_op_threads);
    so.SetInterOpNumThreads(1);
    so.SetExecutionMode(ORT_SEQUENTIAL);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    so.AddConfigEntry("session.set_denormal_as_zero", "1");
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    so.AddConfigEntry("session.inter_op.allow_spinning", "0");
    Ort::Session session(env, bytes.data(), bytes.size(), so);
    // Check the manifest's names against the model.
    Ort::AllocatorWithDefaultOptions alloc;
    bool input_found = false;
    for (size_t i = 0; i < session.GetInputCount(); ++i)
      if (entry.input == session.GetInputNameAllocated(i, alloc).get()) input_found = true;
    if (!input_found) return ModelError(entry, "no input named " + entry.input);
    for (const auto& out : entry.outputs) {
      bool found = false;
      for (size_t i = 0; i < session.GetOutputCount(); ++i)
        if (out == session.GetOutputNameAllocated(i, alloc).get()) found = true;
      if (!found) return ModelError(entry, "no output named " + out);
    }
    std::unique_ptr<OnnxModel> m(new OnnxModel(entry, std::move(session)));
    std::vector<float> zeros(m->input_size(), 0.f);
    auto r = m->Run(zeros.data());
    if (!r) return ModelError(entry, "start-up inference failed: " + r.error().log_detail);
    return m;
  } catch (const std::exception& e) {
    return ModelError(entry, std::string("cannot load: ") + e.what());
  }
}

core::Result<std::vector<std::vector<float>>> OnnxModel::Run(const float* input, int64_t batch) const {
  try {
    DenormalsAsZero daz;
    std::vector<int64_t> shape = entry_.input_shape;
    shape[0] = batch;
    const size_t n = input_size() * static_cast<size_t>(batch);
    Ort::Value in = Ort::Value::CreateTensor<float>(memory_info_, const_cast<float*>(input), n, shape.data(),
                                                    shape.size());
    const char* in_name = entry_.input.c_str();
    auto outs = const_cast<Ort::Session&>(session_).Run(Ort::RunOptions{nullptr}, &in_name, &in, 1,
                                                        output_names_.data(), output_names_.size());
    std::vector<std::vector<float>> result;
    result.reserve(outs.size());
    for (auto& o : outs) {
      const size_t count = o.GetTensorTypeAndShapeInfo().GetElementCount();
      const float* p = o.GetTensorData<float>();
      result.emplace_back(p, p + count);
    }
    return result;
  } catch (const std::exception& e) {
    return core::InternalError("model " + entry_.name + " run failed: " + e.what());
  }
}

}  // namespace face
