#include "face/engine.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base64.hpp"
#include "core/log.hpp"
#include "face/aligner.hpp"
#include "face/engine_impl.hpp"
#include "face/image_decode.hpp"
#include "face/similarity.hpp"

namespace face {

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

core::Error Unavailable(const char* name) { return core::MakeError(core::Errc::EstimatorUnavailable, {name}); }

float EyeDistance(const Landmarks5& lm) { return std::hypot(lm[1].x - lm[0].x, lm[1].y - lm[0].y); }

}  // namespace

// ---- construction -------------------------------------------------------------------------

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
  if (options.opencv_threads >= 0) {
    try {
      cv::setNumThreads(options.opencv_threads);
    } catch (const std::exception&) {
    }
  }
  OnnxOptions oo;
  oo.intra_op_threads = options.intra_op_threads < 1 ? 1 : options.intra_op_threads;
  oo.verify_sha256 = options.verify_sha256;
  for (const char* required : {"detector", "landmarks", "descriptor"}) {
    if (!impl->manifest.Find(required))
      return core::Error(core::Errc::Internal, {required},
                         std::string("models manifest lacks the required model ") + required);
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
  DetectorOptions dopt;
  dopt.threshold = options.detect_threshold;
  dopt.nms_iou = options.nms_iou;
  dopt.tiles = options.tiles;
  dopt.tile_min_side = options.tile_min_side;
  dopt.tile_threshold = options.tile_threshold;
  impl->detector = std::make_unique<Detector>(*impl->Model("detector"), dopt);
  impl->landmarker = std::make_unique<Landmarker>(*impl->Model("landmarks"));
  impl->extractor = std::make_unique<Extractor>(*impl->Model("descriptor"), options.flip_augment);
  Estimators& est = impl->estimators;
  if (auto* m = impl->Model("age_gender")) est.age_gender = std::make_unique<AgeGenderEstimator>(*m);
  if (auto* m = impl->Model("emotions")) est.emotions = std::make_unique<EmotionEstimator>(*m);
  if (auto* m = impl->Model("pose")) est.pose = std::make_unique<PoseEstimator>(*m);
  if (auto* m = impl->Model("liveness")) est.liveness = std::make_unique<LivenessEstimator>(*m);
  if (auto* m = impl->Model("eyes")) est.eyes = std::make_unique<EyeEstimator>(*m);
  if (auto* m = impl->Model("ethnicities")) est.ethnicities = std::make_unique<EthnicityEstimator>(*m);
  core::Log(core::LogLevel::Info, "face_engine_ready",
            {{"models", impl->models.size()}, {"descriptor_version", int64_t(impl->manifest.descriptor_version)},
             {"intra_op_threads", oo.intra_op_threads}});
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
  const Estimators& e = impl_->estimators;
  if (name == "quality") return true;
  if (name == "age_gender") return e.age_gender != nullptr;
  if (name == "emotions") return e.emotions != nullptr;
  if (name == "pose") return e.pose != nullptr;
  if (name == "liveness") return e.liveness != nullptr;
  if (name == "eyes") return e.eyes != nullptr;
  if (name == "ethnicities") return e.ethnicities != nullptr;
  return false;
}

// ---- images -------------------------------------------------------------------------------

core::Result<Image> Engine::Decode(std::string_view bytes, std::optional<ImageFormat> declared, bool base64,
                                   bool full_resolution) const {
  std::string decoded;
  if (base64) {
    auto d = core::Base64Decode(bytes);
    if (!d) return core::MakeError(core::Errc::Base64Decode);
    decoded = std::move(*d);
    bytes = decoded;
  }
  DecodeLimits limits;
  limits.min_side = impl_->options.min_side;
  limits.max_side = impl_->options.max_side;
  limits.target_side = impl_->options.decode_target_side;
  limits.full_resolution = full_resolution;
  auto px = DecodeImageBytes(bytes, declared, limits);
  if (!px) return std::move(px).error();
  Image im;
  im.width = px->bgr.cols;
  im.height = px->bgr.rows;
  im.pixels = std::make_shared<const std::vector<uint8_t>>(px->bgr.data, px->bgr.data + px->bgr.total() * 3);
  im.source_width = px->source_width;
  im.source_height = px->source_height;
  im.scale = float(im.width) / float(im.source_width);
  im.exif_orientation = px->orientation;
  if (px->denom > 1) im.encoded = std::make_shared<const std::string>(bytes);
  return im;
}

core::Result<std::string> Engine::EncodeJpeg(const Image& image, int quality) const {
  if (image.empty()) return core::InternalError("EncodeJpeg: empty image");
  try {
    std::vector<uchar> buf;
    cv::imencode(".jpg", MatOf(image), buf, {cv::IMWRITE_JPEG_QUALITY, quality});
    return std::string(buf.begin(), buf.end());
  } catch (const std::exception& e) {
    return core::InternalError(std::string("EncodeJpeg: ") + e.what());
  }
}

namespace {

// The pixels to crop a face from: the working image when the face is big enough there
// (eye distance >= need_eye_px), else the full-resolution decode. Returns the scale from
// source coordinates to the returned image.
core::Result<std::pair<cv::Mat, float>> FacePixels(const Engine& engine, const Image& image, const Landmarks5& lm,
                                                   float need_eye_px, std::optional<cv::Mat>& full_cache) {
  if (image.scale >= 0.999f || !image.encoded || EyeDistance(lm) * image.scale >= need_eye_px)
    return std::make_pair(MatOf(image), image.scale);
  if (!full_cache) {
    auto full = engine.Decode(*image.encoded, ImageFormat::Jpeg, false, true);
    if (!full) return std::move(full).error();
    // Keep the decoded buffer alive with the Mat.
    cv::Mat m = MatOf(*full).clone();
    full_cache = m;
  }
  return std::make_pair(*full_cache, 1.f);
}

}  // namespace

// ---- detection ----------------------------------------------------------------------------

core::Result<std::vector<DetectedFace>> Engine::Detect(const Image& image, int max_faces) const {
  if (image.empty()) return core::InternalError("Detect: empty image");
  if (max_faces < 0) max_faces = impl_->options.max_faces;
  const cv::Mat mat = MatOf(image);
  auto boxes = impl_->detector->Detect(mat);
  if (!boxes) return std::move(boxes).error();
  if (int(boxes->size()) > max_faces) boxes->resize(size_t(max_faces));
  const float inv = 1.f / image.scale;
  std::vector<DetectedFace> faces;
  faces.reserve(boxes->size());
  for (const Box& b : *boxes) {
    auto pts = impl_->landmarker->Estimate(mat, b.rect);
    if (!pts) return std::move(pts).error();
    DetectedFace f;
    f.rect = {b.rect.x * inv, b.rect.y * inv, b.rect.width * inv, b.rect.height * inv};
    f.score = std::clamp(b.score, 0.f, 1.f);
    f.landmarks68 = std::move(*pts);
    for (Point& p : f.landmarks68) {
      p.x *= inv;
      p.y *= inv;
    }
    f.landmarks = FivePoints(f.landmarks68);
    f.rect_iso = IsoRect(f.landmarks);
    faces.push_back(std::move(f));
  }
  return faces;
}

core::Result<DetectedFace> Engine::FaceAt(const Image& image, const Rect& box) const {
  if (image.empty()) return core::InternalError("FaceAt: empty image");
  const float s = image.scale, inv = 1.f / s;
  auto pts = impl_->landmarker->Estimate(MatOf(image), cv::Rect2f(box.x * s, box.y * s, box.width * s, box.height * s));
  if (!pts) return std::move(pts).error();
  DetectedFace f;
  f.rect = box;
  f.landmarks68 = std::move(*pts);
  for (Point& p : f.landmarks68) {
    p.x *= inv;
    p.y *= inv;
  }
  f.landmarks = FivePoints(f.landmarks68);
  f.rect_iso = IsoRect(f.landmarks);
  return f;
}

core::Result<DetectedFace> Engine::WarpedFace(const Image& warped) const {
  if (warped.empty()) return core::InternalError("WarpedFace: empty image");
  const float sx = float(warped.source_width) / kWarpSize, sy = float(warped.source_height) / kWarpSize;
  DetectedFace f;
  f.landmarks = WarpTemplate();
  for (Point& p : f.landmarks) {
    p.x *= sx;
    p.y *= sy;
  }
  f.rect = {0, 0, float(warped.source_width), float(warped.source_height)};
  f.rect_iso = IsoRect(f.landmarks);
  f.score = 1.f;
  return f;
}

bool Engine::IsWarpedSample(const Image& image, const DetectedFace& face) const {
  if (image.source_width != kWarpSize || image.source_height != kWarpSize) return false;
  const Landmarks5 tmpl = WarpTemplate();
  const float tolerance = 0.06f * kWarpSize;
  for (int eye = 0; eye < 2; ++eye) {  // landmarks 0 and 1: left and right eye
    const float dx = face.landmarks[eye].x - tmpl[eye].x, dy = face.landmarks[eye].y - tmpl[eye].y;
    if (dx * dx + dy * dy > tolerance * tolerance) return false;
  }
  return true;
}

// ---- descriptors --------------------------------------------------------------------------

core::Result<std::vector<Descriptor>> Engine::Extract(const Image& image, const std::vector<DetectedFace>& faces) const {
  if (image.empty()) return core::InternalError("Extract: empty image");
  const Landmarks5 tmpl = DescriptorTemplate();
  const float tmpl_eye = EyeDistance(tmpl);
  std::optional<cv::Mat> full;
  std::vector<cv::Mat> aligned;
  aligned.reserve(faces.size());
  try {
    for (const DetectedFace& f : faces) {
      auto px = FacePixels(*this, image, f.landmarks, tmpl_eye, full);
      if (!px) return std::move(px).error();
      aligned.push_back(AlignFace(px->first, ScaleLandmarks(f.landmarks, px->second), tmpl, 112));
    }
  } catch (const std::exception& e) {
    return core::InternalError(std::string("align: ") + e.what());
  }
  auto vecs = impl_->extractor->Extract(aligned);
  if (!vecs) return std::move(vecs).error();
  std::vector<Descriptor> out;
  out.reserve(vecs->size());
  for (auto& v : *vecs) out.push_back(Descriptor{descriptor_version(), std::move(v)});
  return out;
}

core::Result<Descriptor> Engine::Extract(const Image& image, const DetectedFace& face) const {
  auto r = Extract(image, std::vector<DetectedFace>{face});
  if (!r) return std::move(r).error();
  return std::move(r->front());
}

core::Result<Image> Engine::Warp(const Image& image, const DetectedFace& face) const {
  if (image.empty()) return core::InternalError("Warp: empty image");
  const Landmarks5 tmpl = WarpTemplate();
  std::optional<cv::Mat> full;
  auto px = FacePixels(*this, image, face.landmarks, EyeDistance(tmpl), full);
  if (!px) return std::move(px).error();
  try {
    cv::Mat w = AlignFace(px->first, ScaleLandmarks(face.landmarks, px->second), tmpl, kWarpSize);
    return Image::FromBgr(w.cols, w.rows, w.data);
  } catch (const std::exception& e) {
    return core::InternalError(std::string("warp: ") + e.what());
  }
}

// ---- estimators ---------------------------------------------------------------------------

core::Result<Estimations> Engine::Estimate(const Image& image, const DetectedFace& face,
                                           const EstimateRequest& req) const {
  const Estimators& est = impl_->estimators;
  if (req.age_gender && !est.age_gender) return Unavailable("age_gender");
  if (req.emotions && !est.emotions) return Unavailable("emotions");
  if (req.pose && !est.pose) return Unavailable("pose");
  if (req.liveness && !est.liveness) return Unavailable("liveness");
  if (req.eyes && !est.eyes) return Unavailable("eyes");
  if (req.ethnicities && !est.ethnicities) return Unavailable("ethnicities");
  Estimations out;
  if (!(req.age_gender || req.emotions || req.pose || req.liveness || req.eyes || req.ethnicities || req.quality))
    return out;
  if (image.empty()) return core::InternalError("Estimate: empty image");
  try {
    // Estimators work in the working image (maybe DCT-scaled); the aligned crop comes from
    // full resolution when the face is small there.
    const cv::Mat mat = MatOf(image);
    const float s = image.scale;
    std::vector<Point> lm68 = face.landmarks68;
    for (Point& p : lm68) {
      p.x *= s;
      p.y *= s;
    }
    const Landmarks5 tmpl = DescriptorTemplate();
    std::optional<cv::Mat> full;
    auto px = FacePixels(*this, image, face.landmarks, EyeDistance(tmpl), full);
    if (!px) return std::move(px).error();
    const cv::Mat aligned = AlignFace(px->first, ScaleLandmarks(face.landmarks, px->second), tmpl, 112);
    const FaceView view{mat, cv::Rect2f(face.rect.x * s, face.rect.y * s, face.rect.width * s, face.rect.height * s),
                        ScaleLandmarks(face.landmarks, s), std::move(lm68), aligned};
#define FP_EST(flag, member)                          \
  if (req.flag) {                                     \
    auto r = est.member->Estimate(view);              \
    if (!r) return std::move(r).error();              \
    out.flag = std::move(*r);                         \
  }
    FP_EST(age_gender, age_gender)
    FP_EST(emotions, emotions)
    FP_EST(pose, pose)
    FP_EST(liveness, liveness)
    FP_EST(eyes, eyes)
    FP_EST(ethnicities, ethnicities)
#undef FP_EST
    if (req.quality) {
      auto r = est.quality.Estimate(view);
      if (!r) return std::move(r).error();
      out.quality = *r;
    }
  } catch (const std::exception& e) {
    return core::InternalError(std::string("estimate: ") + e.what());
  }
  return out;
}

// ---- whole pipeline -----------------------------------------------------------------------

core::Result<std::vector<FaceObject>> Engine::Process(const Image& image, const ProcessOptions& opt,
                                                      StageTimes* times) const {
  const auto t0 = Clock::now();
  std::vector<DetectedFace> faces;
  if (opt.warped) {
    auto f = WarpedFace(image);
    if (!f) return std::move(f).error();
    faces.push_back(std::move(*f));
  } else {
    auto f = Detect(image, opt.max_faces);
    if (!f) return std::move(f).error();
    faces = std::move(*f);
  }
  const auto t1 = Clock::now();
  std::vector<FaceObject> out(faces.size());
  for (size_t i = 0; i < faces.size(); ++i) out[i].detection = faces[i];
  if (opt.extract_descriptor && !faces.empty()) {
    auto d = Extract(image, faces);
    if (!d) return std::move(d).error();
    for (size_t i = 0; i < faces.size(); ++i) out[i].descriptor = std::move((*d)[i]);
  }
  const auto t2 = Clock::now();
  for (size_t i = 0; i < faces.size(); ++i) {
    auto e = Estimate(image, faces[i], opt.estimate);
    if (!e) return std::move(e).error();
    out[i].estimations = std::move(*e);
  }
  const auto t3 = Clock::now();
  if (times) {
    times->detect += Ms(t0, t1);
    times->descriptor += Ms(t1, t2);
    times->estimators += Ms(t2, t3);
  }
  return out;
}

core::Result<float> Engine::CompareBest(const Image& a, const Image& b) const {
  ProcessOptions po;
  po.max_faces = 1;
  auto fa = Process(a, po);
  if (!fa) return std::move(fa).error();
  auto fb = Process(b, po);
  if (!fb) return std::move(fb).error();
  if (fa->empty() || fb->empty()) return core::MakeError(core::Errc::NoFaces);
  const auto& da = fa->front().descriptor->values;
  const auto& db = fb->front().descriptor->values;
  return SimilarityFromCosine(Cosine(da.data(), db.data(), da.size()));
}

// ---- small helpers --------------------------------------------------------------------------

std::string_view ImageFormatName(ImageFormat f) {
  switch (f) {
    case ImageFormat::Jpeg: return "jpeg";
    case ImageFormat::Png: return "png";
    case ImageFormat::Bmp: return "bmp";
    case ImageFormat::Tiff: return "tiff";
    case ImageFormat::Gif: return "gif";
    case ImageFormat::Ppm: return "x-portable-pixmap";
  }
  return "?";
}

std::optional<ImageContentType> ParseImageContentType(std::string_view ct) {
  std::string s;
  for (char c : ct) s.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  bool base64 = false;
  // Parameters: ";base64" marks base64 too; others (charset...) are ignored.
  if (auto semi = s.find(';'); semi != std::string::npos) {
    if (s.find("base64", semi) != std::string::npos) base64 = true;
    s.resize(semi);
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  const std::string suffix = "-base64";
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    base64 = true;
    s.resize(s.size() - suffix.size());
  }
  static const std::pair<const char*, ImageFormat> kTypes[] = {
      {"image/jpeg", ImageFormat::Jpeg}, {"image/jpg", ImageFormat::Jpeg},
      {"image/png", ImageFormat::Png},   {"image/bmp", ImageFormat::Bmp},
      {"image/x-windows-bmp", ImageFormat::Bmp}, {"image/tiff", ImageFormat::Tiff},
      {"image/gif", ImageFormat::Gif},   {"image/x-portable-pixmap", ImageFormat::Ppm},
      // The reference spells the base64 variants "image/x-jpeg-base64", "image/x-png-base64", …
      {"image/x-jpeg", ImageFormat::Jpeg}, {"image/x-png", ImageFormat::Png}, {"image/x-bmp", ImageFormat::Bmp},
      {"image/x-tiff", ImageFormat::Tiff}, {"image/x-gif", ImageFormat::Gif}};
  for (const auto& [name, fmt] : kTypes)
    if (s == name) return ImageContentType{fmt, base64};
  return std::nullopt;
}

Image Image::FromBgr(int width, int height, const uint8_t* bgr) {
  Image im;
  im.width = im.source_width = width;
  im.height = im.source_height = height;
  im.pixels = std::make_shared<const std::vector<uint8_t>>(bgr, bgr + size_t(width) * height * 3);
  return im;
}

}  // namespace face
