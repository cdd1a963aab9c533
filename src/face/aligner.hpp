#pragma once
// Alignment: least-squares similarity transform (Umeyama) from five landmarks to a template.
#include <opencv2/core.hpp>

#include "face/types.hpp"

namespace face {

// The ArcFace 112x112 five-point template (descriptor input).
Landmarks5 DescriptorTemplate();
// The 250x250 warped-sample template: the ArcFace template scaled by 1.6 and centred
// (eyes at y = 105, eye distance 56 px, mouth at y = 170).
Landmarks5 WarpTemplate();
inline constexpr int kWarpSize = 250;

// 2x3 similarity (rotation, uniform scale, translation) mapping src onto dst in least squares.
cv::Matx23d SimilarityTransform(const Landmarks5& src, const Landmarks5& dst);

// The face warped to size x size by the transform to `dst`; anti-aliased when shrinking.
cv::Mat AlignFace(const cv::Mat& bgr, const Landmarks5& landmarks, const Landmarks5& dst, int size);

// Landmarks in source coordinates -> the coordinates of an image scaled by `scale`.
Landmarks5 ScaleLandmarks(const Landmarks5& lm, float scale);

}  // namespace face
