#pragma once
// Plain value types of the face engine: what callers (api, CLI, benches) see. No OpenCV,
// no ONNX Runtime, no JSON here. Coordinates are in pixels of the decoded, EXIF-rotated
// source image (full resolution), origin top-left.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace face {

struct Point {
  float x = 0, y = 0;
};

struct Rect {
  float x = 0, y = 0, width = 0, height = 0;
};

// Five landmarks in this order: left eye, right eye (as seen in the image: left = smaller x),
// nose tip, left mouth corner, right mouth corner.
using Landmarks5 = std::array<Point, 5>;

// The image formats of the LUNA reference's content types.
enum class ImageFormat { Jpeg, Png, Bmp, Tiff, Gif, Ppm };
std::string_view ImageFormatName(ImageFormat f);

// A decoded image: 8-bit BGR, rows packed (stride = 3 * width).
// `pixels` may be a reduced-resolution decode (JPEG DCT scaling) of a larger source; then
// scale < 1 and the engine decodes the source again at full resolution only where a face is
// too small in the reduced image (descriptor, warp). Cheap to copy (pixels are shared).
struct Image {
  int width = 0, height = 0;                           // of `pixels`
  std::shared_ptr<const std::vector<uint8_t>> pixels;  // BGR, width*height*3 bytes
  int source_width = 0, source_height = 0;             // full resolution after EXIF orientation
  float scale = 1.f;                                   // width / source_width
  // Encoded source (already base64-decoded) and its EXIF orientation, kept when scale < 1.
  std::shared_ptr<const std::string> encoded;
  int exif_orientation = 1;

  bool empty() const { return !pixels || width <= 0 || height <= 0; }
  // Wraps raw BGR pixels (copied). For tests and warped inputs built in memory.
  static Image FromBgr(int width, int height, const uint8_t* bgr);
};

struct DetectedFace {
  Rect rect;                   // detector box
  Rect rect_iso;               // ISO/IEC 19794-5 token-frontal box from the eyes; may leave the image
  Landmarks5 landmarks{};      // five points
  float score = 0;             // detector confidence 0..1
  std::vector<Point> landmarks68;  // the 68-point model output (empty for warped inputs)
};

// Descriptor: L2-normalised float vector from the descriptor model.
struct Descriptor {
  uint32_t version = 0;
  std::vector<float> values;
};

struct Quality {  // each 0..1, 1 = good (docs/FACE_ENGINE.md has the formulas)
  float light = 0;       // 1 = not over-exposed
  float dark = 0;        // 1 = not under-exposed
  float saturation = 0;  // 1 = colour not washed out or clipped
  float blurriness = 0;  // 1 = sharp
};

struct HeadPose {  // degrees
  float pitch = 0, yaw = 0, roll = 0;
};

inline constexpr std::array<const char*, 7> kEmotionNames = {
    "anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"};

struct Emotions {
  std::array<float, 7> estimations{};  // probabilities in kEmotionNames order, sum 1
  int predominant = 6;                 // index into kEmotionNames
};

struct AgeGender {
  float age = 0;     // years
  float gender = 0;  // probability of male, 0..1 (LUNA: 0 female, 1 male)
};

struct Eyes {  // probability each eye is open, 0..1 (left/right as seen in the image)
  float left_open = 0, right_open = 0;
};

struct Ethnicities {
  // asian, caucasian, african, indian, in this order; only with a configured model.
  std::array<float, 4> estimations{};
  int predominant = 0;
};

struct Liveness {
  float real = 0;  // probability the face is a live person (not a print or a screen)
};

// Which estimators one request wants.
struct EstimateRequest {
  bool age_gender = false;
  bool emotions = false;
  bool pose = false;
  bool quality = false;
  bool eyes = false;
  bool ethnicities = false;
  bool liveness = false;
};

struct Estimations {
  std::optional<AgeGender> age_gender;
  std::optional<Emotions> emotions;
  std::optional<HeadPose> pose;
  std::optional<Quality> quality;
  std::optional<Eyes> eyes;
  std::optional<Ethnicities> ethnicities;
  std::optional<Liveness> liveness;
};

// A face as the API prints it (also what `faceport detect` prints): the detection plus
// whatever was estimated plus, when asked, the descriptor.
struct FaceObject {
  DetectedFace detection;
  Estimations estimations;
  std::optional<Descriptor> descriptor;
};

// Per-stage timings of one Process() call, in milliseconds (for benches and logs).
struct StageTimes {
  double decode = 0, detect = 0, landmarks = 0, align = 0, descriptor = 0, estimators = 0;
};

}  // namespace face
