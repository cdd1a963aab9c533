#pragma once
// face::Engine: the one object the rest of the service uses for faces. It owns the model
// sessions (one small class per model-backed capability, see detector.hpp, extractor.hpp,
// estimators/*.hpp) and is safe to call from many threads at once: every verb is const and
// ONNX Runtime sessions are thread-safe for Run().
//
// Knows no HTTP, JSON or LUNA codes: errors are core::Error with core::Errc kinds:
//   ImageDecode          undecodable, truncated or garbage bytes
//   ImageTooSmall/Large  args {w, h, limit_w, limit_h}
//   ContentTypeMismatch  magic bytes do not match the declared format
//   Base64Decode         bad base64
//   NoFaces              (CompareBest only) an image without a face
//   EstimatorUnavailable args {name}: the estimator has no configured model
//   Internal             with log_detail
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "face/types.hpp"

namespace face {

struct EngineOptions {
  std::string models_dir;     // holds manifest.json and the model files it names
  int intra_op_threads = 1;   // ONNX Runtime threads per inference (the worker pool gives parallelism)
  int min_side = 96;          // accepted image sides, checked from the header before decoding
  int max_side = 4096;
  bool flip_augment = false;  // average the descriptor of the face and of its mirror image (+1 inference)
  int max_faces = 64;         // per image, best scores first
  float detect_threshold = 0.65f;   // detector score to keep a face
  float nms_iou = 0.4f;
  bool tiles = true;          // second detection pass on overlapping tiles of large images (small faces)
  int tile_min_side = 1600;   // decoded images whose longer side is at least this get the tile pass
  float tile_threshold = 0.65f;  // a face found only on tiles must score this again on a 4x region (verification)
  int decode_target_side = 1280;  // JPEG: DCT-scale down while the longer side stays >= this
  bool verify_sha256 = true;  // check every model file against the manifest at Create
  // OpenCV's own thread pool (resize, warps, colour conversions). Process-wide setting
  // (cv::setNumThreads), applied by Create; -1 leaves it alone. 1 avoids oversubscription when
  // the service's worker pool already runs one request per core.
  int opencv_threads = 1;
};

struct ProcessOptions {
  EstimateRequest estimate;        // which estimators to run per face
  bool extract_descriptor = true;  // run the descriptor model
  bool warped = false;             // the whole image is a 250x250 warped face: skip detection
  int max_faces = -1;              // -1: the engine's max_faces
};

// Parses a content type of the LUNA reference ("image/jpeg", "image/x-windows-bmp",
// "image/png-base64", ...). nullopt for anything else. base64 = the "-base64" variants.
struct ImageContentType {
  ImageFormat format;
  bool base64 = false;
};
std::optional<ImageContentType> ParseImageContentType(std::string_view content_type);

class Engine {
 public:
  // Reads models_dir/manifest.json, verifies each model file's sha256, loads the ONNX
  // sessions and runs one tiny inference on each. A missing or corrupt model is an error
  // naming the model (Errc::Internal, args {model name}, log_detail with the reason).
  static core::Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // OK when every model loaded and its start-up inference succeeded; otherwise
  // HealthCheckFailed with args {comma-separated failing models}. Cheap (cached status).
  core::Status Health() const;
  uint32_t descriptor_version() const;
  size_t descriptor_size() const;  // 512
  const EngineOptions& options() const;
  // Estimators this engine can run (names: age_gender, emotions, pose, quality, eyes,
  // ethnicities, liveness); requesting another gives EstimatorUnavailable.
  bool HasEstimator(std::string_view name) const;

  // --- image input -------------------------------------------------------------------
  // Decodes bytes of the declared format (nullopt: detect the format from the magic bytes)
  // to BGR, applying EXIF orientation. base64: the bytes are base64 text first. Checks the
  // header's dimensions against min_side..max_side before decoding pixels. Large JPEGs are
  // decoded at a reduced DCT scale (Image::scale < 1) unless full_resolution.
  core::Result<Image> Decode(std::string_view bytes, std::optional<ImageFormat> declared, bool base64 = false,
                             bool full_resolution = false) const;

  // --- faces -------------------------------------------------------------------------
  // Up to max_faces faces, best score first (empty vector when none).
  core::Result<std::vector<DetectedFace>> Detect(const Image& image, int max_faces = -1) const;
  // The face in a caller-given box (landmarks run on it; score 0): for benchmarks on
  // pre-cropped faces where the detector finds nothing, and for callers that know the box.
  core::Result<DetectedFace> FaceAt(const Image& image, const Rect& box) const;
  // The face of a 250x250 warped image (LUNA warped_image=1): the whole image, landmarks at
  // the warp template's positions.
  core::Result<DetectedFace> WarpedFace(const Image& warped) const;
  // Whether the image looks like a warped sample (what Warp produces, LUNA warped_image=1)
  // rather than a camera frame: 250x250 at the source, with the face's eyes within 6 % of the
  // side from the warp template's eye positions. Liveness refuses such images: its model
  // needs the context around the face that a sample has cropped away.
  bool IsWarpedSample(const Image& image, const DetectedFace& face) const;
  // Descriptors of the given faces of one image (batched where the model allows).
  core::Result<std::vector<Descriptor>> Extract(const Image& image, const std::vector<DetectedFace>& faces) const;
  core::Result<Descriptor> Extract(const Image& image, const DetectedFace& face) const;
  // The requested estimations of one face. EstimatorUnavailable if one has no model.
  core::Result<Estimations> Estimate(const Image& image, const DetectedFace& face, const EstimateRequest& request) const;
  // The 250x250 warped sample (face centred, eyes horizontal), from full resolution.
  core::Result<Image> Warp(const Image& image, const DetectedFace& face) const;
  // Detect + (descriptor) + estimators in one call; times filled when non-null.
  core::Result<std::vector<FaceObject>> Process(const Image& image, const ProcessOptions& options,
                                                StageTimes* times = nullptr) const;
  // Similarity (0..1, see similarity.hpp) of the best (highest-score) faces of two images;
  // NoFaces if either has none.
  core::Result<float> CompareBest(const Image& a, const Image& b) const;

  // JPEG-encodes an image (portraits, warped samples).
  core::Result<std::string> EncodeJpeg(const Image& image, int quality = 90) const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace face
