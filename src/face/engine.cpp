#include "face/engine.hpp"

#include <fstream>

#include "core/log.hpp"
#include "face/engine_impl.hpp"

namespace face {

namespace {
core::Error NotYet(const char* what) { return core::InternalError(std::string("face engine: ") + what + " not implemented"); }
}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

core::Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  auto manifest = Manifest::Load(options.models_dir);
  if (!manifest) return std::move(manifest).error();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->manifest = std::move(*manifest);
  try {
    impl->env = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "faceport");
  } catch (const std::exception& e) {
    return core::InternalError(std::string("onnxruntime env: ") + e.what());
  }
  OnnxOptions oo;
  oo.intra_op_threads = options.intra_op_threads < 1 ? 1 : options.intra_op_threads;
  oo.verify_sha256 = options.verify_sha256;
  for (const char* required : {"detector", "landmarks", "descriptor"}) {
    if (!impl->manifest.Find(required))
      return core::Error(core::Errc::Internal, {required}, std::string("models manifest lacks the required model ") + required);
  }
  for (const auto& [name, entry] : impl->manifest.models) {
    const bool missing_optional = entry.optional && !std::ifstream(impl->manifest.dir + "/" + entry.file).good();
    if (missing_optional) {
      core::Log(core::LogLevel::Warn, "face_model_absent", {{"model", name}, {"file", entry.file}});
      continue;
    }
    auto m = OnnxModel::Load(*impl->env, entry, impl->manifest.dir, oo);
    if (!m) return std::move(m).error();
    impl->models[name] = std::move(*m);
  }
  core::Log(core::LogLevel::Info, "face_engine_ready",
            {{"models", impl->models.size()}, {"descriptor_version", int64_t(impl->manifest.descriptor_version)}});
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

core::Status Engine::Health() const {
  if (!impl_->unhealthy.empty()) return core::MakeError(core::Errc::HealthCheckFailed, {impl_->unhealthy});
  return {};
}

uint32_t Engine::descriptor_version() const { return impl_->manifest.descriptor_version; }
size_t Engine::descriptor_size() const { return 512; }
const EngineOptions& Engine::options() const { return impl_->options; }

bool Engine::HasEstimator(std::string_view name) const {
  if (name == "quality") return true;
  return impl_->Model(std::string(name)) != nullptr;
}

core::Result<Image> Engine::Decode(std::string_view, std::optional<ImageFormat>, bool, bool) const { return NotYet("Decode"); }
core::Result<std::vector<DetectedFace>> Engine::Detect(const Image&, int) const { return NotYet("Detect"); }
core::Result<DetectedFace> Engine::WarpedFace(const Image&) const { return NotYet("WarpedFace"); }
core::Result<std::vector<Descriptor>> Engine::Extract(const Image&, const std::vector<DetectedFace>&) const { return NotYet("Extract"); }
core::Result<Descriptor> Engine::Extract(const Image&, const DetectedFace&) const { return NotYet("Extract"); }
core::Result<Estimations> Engine::Estimate(const Image&, const DetectedFace&, const EstimateRequest&) const { return NotYet("Estimate"); }
core::Result<Image> Engine::Warp(const Image&, const DetectedFace&) const { return NotYet("Warp"); }
core::Result<std::vector<FaceObject>> Engine::Process(const Image&, const ProcessOptions&, StageTimes*) const { return NotYet("Process"); }
core::Result<float> Engine::CompareBest(const Image&, const Image&) const { return NotYet("CompareBest"); }
core::Result<std::string> Engine::EncodeJpeg(const Image&, int) const { return NotYet("EncodeJpeg"); }

std::optional<ImageContentType> ParseImageContentType(std::string_view) { return std::nullopt; }
std::string_view ImageFormatName(ImageFormat) { return "?"; }
Image Image::FromBgr(int width, int height, const uint8_t* bgr) {
  Image im;
  im.width = im.source_width = width;
  im.height = im.source_height = height;
  im.pixels = std::make_shared<const std::vector<uint8_t>>(bgr, bgr + size_t(width) * height * 3);
  return im;
}

}  // namespace face
