#pragma once
// Estimators: one small class per capability, all the same shape: constructed from the
// model of its manifest entry, one verb Estimate(const FaceView&). Internal to fp_face.
#include <opencv2/core.hpp>

#include <memory>
#include <vector>

#include "core/result.hpp"
#include "face/onnx_model.hpp"
#include "face/types.hpp"

namespace face {

// One face in the working image (all coordinates in `image` pixels).
struct FaceView {
  const cv::Mat& image;               // BGR frame the face is in
  cv::Rect2f box;                     // detector box
  Landmarks5 landmarks;               // five points
  std::vector<Point> landmarks68;     // may be empty (warped inputs)
  const cv::Mat& aligned;             // 112x112 descriptor-aligned face (BGR)
};

class AgeGenderEstimator {  // HSE faceres: aligned face at 224, NHWC RGB 0..255
 public:
  explicit AgeGenderEstimator(const OnnxModel& m) : model_(m) {}
  core::Result<AgeGender> Estimate(const FaceView& f) const;
 private:
  const OnnxModel& model_;
};

class EmotionEstimator {  // fr_expression: box from its top-left, 1.2x width/height
 public:
  explicit EmotionEstimator(const OnnxModel& m) : model_(m) {}
  core::Result<Emotions> Estimate(const FaceView& f) const;
 private:
  const OnnxModel& model_;
};

class PoseEstimator {  // fr_pose (Hopenet): box grown by a quarter on each side; pitch bias corrected
 public:
  static constexpr float kPitchBias = 8.f;  // degrees added to the raw pitch (measured, docs/FACE_ENGINE.md)
  explicit PoseEstimator(const OnnxModel& m) : model_(m) {}
  core::Result<HeadPose> Estimate(const FaceView& f) const;
 private:
  const OnnxModel& model_;
};

class LivenessEstimator {  // fr_liveness (MiniFASNet): 2.7x box in the whole frame, BGR 0..255
 public:
  explicit LivenessEstimator(const OnnxModel& m) : model_(m) {}
  core::Result<Liveness> Estimate(const FaceView& f) const;
 private:
  const OnnxModel& model_;
};

class EyeEstimator {  // fr_eye: 24x24 gray square around each eye, side 1.6x eye width
 public:
  explicit EyeEstimator(const OnnxModel& m) : model_(m) {}
  core::Result<Eyes> Estimate(const FaceView& f) const;
 private:
  const OnnxModel& model_;
};

class EthnicityEstimator {  // pluggable: any classifier with 4 outputs (asian, caucasian, african, indian)
 public:
  explicit EthnicityEstimator(const OnnxModel& m) : model_(m) {}
  core::Result<Ethnicities> Estimate(const FaceView& f) const;
 private:
  const OnnxModel& model_;
};

class QualityEstimator {  // no model: image statistics of the aligned face (docs/FACE_ENGINE.md)
 public:
  // Sharpness = std(Laplacian) / std(gray) of the aligned face, mapped linearly from
  // kBlurLow (0) to kBlurHigh (1); calibrated on LFW crops and their Gaussian-blurred copies.
  static constexpr double kBlurLow = 0.6, kBlurHigh = 1.3;
  core::Result<Quality> Estimate(const FaceView& f) const;
};

struct Estimators {
  std::unique_ptr<AgeGenderEstimator> age_gender;
  std::unique_ptr<EmotionEstimator> emotions;
  std::unique_ptr<PoseEstimator> pose;
  std::unique_ptr<LivenessEstimator> liveness;
  std::unique_ptr<EyeEstimator> eyes;
  std::unique_ptr<EthnicityEstimator> ethnicities;
  QualityEstimator quality;
};

}  // namespace face
