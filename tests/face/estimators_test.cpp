// Estimators on real photos: values in plausible ranges, quality reacting to degradations,
// liveness on the labelled samples, ethnicities unavailable without a model.
#include <gtest/gtest.h>

#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_util.hpp"

namespace {
using facetest::TheEngine;

const face::EstimateRequest kAll{.age_gender = true, .emotions = true, .pose = true, .quality = true,
                                 .eyes = true, .ethnicities = false, .liveness = true};

TEST(Estimators, PlausibleOnSamplePhotos) {
  for (int i : {1, 3, 6}) {
    auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(i)));
    face::ProcessOptions po;
    po.estimate = kAll;
    auto faces = TheEngine().Process(img, po);
    ASSERT_TRUE(faces.ok()) << faces.error().log_detail;
    ASSERT_FALSE(faces->empty());
    for (const auto& f : *faces) {
      const auto& e = f.estimations;
      ASSERT_TRUE(e.age_gender && e.emotions && e.pose && e.quality && e.eyes && e.liveness);
      EXPECT_GT(e.age_gender->age, 12.f);  // adults in the samples
      EXPECT_LT(e.age_gender->age, 70.f);
      EXPECT_GE(e.age_gender->gender, 0.f);
      EXPECT_LE(e.age_gender->gender, 1.f);
      EXPECT_NEAR(std::accumulate(e.emotions->estimations.begin(), e.emotions->estimations.end(), 0.f), 1.f, 1e-4);
      EXPECT_EQ(e.emotions->predominant,
                int(std::max_element(e.emotions->estimations.begin(), e.emotions->estimations.end()) -
                    e.emotions->estimations.begin()));
      for (float a : {e.pose->pitch, e.pose->yaw, e.pose->roll}) EXPECT_LT(std::abs(a), 90.f);
      for (float v : {e.quality->light, e.quality->dark, e.quality->saturation, e.quality->blurriness,
                      e.eyes->left_open, e.eyes->right_open, e.liveness->real}) {
        EXPECT_GE(v, 0.f);
        EXPECT_LE(v, 1.f);
      }
    }
  }
}

TEST(Estimators, SmilingGroupIsHappy) {
  // sample3: three smiling people, looking roughly at the camera.
  auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(3)));
  face::ProcessOptions po;
  po.estimate = {.emotions = true, .pose = true};
  auto faces = TheEngine().Process(img, po);
  ASSERT_TRUE(faces.ok());
  for (const auto& f : *faces) {
    EXPECT_STREQ(face::kEmotionNames[size_t(f.estimations.emotions->predominant)], "happiness");
    EXPECT_LT(std::abs(f.estimations.pose->yaw), 35.f);
    EXPECT_LT(std::abs(f.estimations.pose->pitch), 25.f);
  }
}

TEST(Estimators, RollFollowsTheEyeLine) {
  // sample1: the first face tilts one way, the third the other way (eye lines at about -25
  // and +45 degrees).
  auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(1)));
  auto faces = TheEngine().Detect(img);
  ASSERT_TRUE(faces.ok());
  for (const auto& f : *faces) {
    auto e = TheEngine().Estimate(img, f, {.pose = true});
    ASSERT_TRUE(e.ok());
    const float eye_roll = std::atan2(f.landmarks[1].y - f.landmarks[0].y, f.landmarks[1].x - f.landmarks[0].x) * 57.3f;
    if (std::abs(eye_roll) > 15) EXPECT_GT(e->pose->roll * eye_roll, 0.f) << "roll sign follows the eye line";
  }
}

TEST(Estimators, QualityReactsToDegradations) {
  cv::Mat m = cv::imread(facetest::Sample(3));
  auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(3)));
  auto faces = TheEngine().Detect(img);
  ASSERT_TRUE(faces.ok());
  ASSERT_EQ(faces->size(), 3u);
  auto quality = [&](const cv::Mat& x) {
    std::vector<uchar> buf;
    cv::imencode(".jpg", x, buf, {cv::IMWRITE_JPEG_QUALITY, 95});
    auto d = facetest::DecodeOk(std::string(buf.begin(), buf.end()));
    std::vector<face::Quality> q;
    for (const auto& f : *faces) q.push_back(*TheEngine().Estimate(d, f, {.quality = true})->quality);
    return q;
  };
  cv::Mat blurred, bright, dark;
  cv::GaussianBlur(m, blurred, cv::Size(0, 0), 6);
  m.convertTo(bright, -1, 2.5, 0);
  m.convertTo(dark, -1, 0.25, 0);
  const auto q0 = quality(m), qb = quality(blurred), ql = quality(bright), qd = quality(dark);
  for (size_t i = 0; i < q0.size(); ++i) {
    EXPECT_GT(q0[i].light, 0.8f);
    EXPECT_GT(q0[i].dark, 0.8f);
    EXPECT_LT(qb[i].blurriness, q0[i].blurriness - 0.2f) << i;
    EXPECT_LT(qb[i].blurriness, 0.3f) << i;
    EXPECT_LT(ql[i].light, 0.3f) << i;
    EXPECT_LT(qd[i].dark, 0.3f) << i;
  }
}

TEST(Estimators, LivenessOnLabelledSamples) {
  if (!facetest::HaveShared()) GTEST_SKIP() << "shared data absent: " << facetest::SharedDir();
  const std::string dir = facetest::SharedDir() + "/data/faces/liveness_samples/";
  for (const auto& [file, real] : std::vector<std::pair<std::string, bool>>{
           {"image_F1.jpg", false}, {"image_F2.jpg", false}, {"image_T1.jpg", true}}) {
    auto img = facetest::DecodeOk(facetest::ReadFile(dir + file));
    auto faces = TheEngine().Detect(img, 1);
    ASSERT_TRUE(faces.ok());
    ASSERT_EQ(faces->size(), 1u) << file;
    auto e = TheEngine().Estimate(img, faces->front(), {.liveness = true});
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->liveness->real > 0.5f, real) << file << " real=" << e->liveness->real;
  }
}

TEST(Estimators, EthnicitiesWithoutAModelIsUnavailable) {
  EXPECT_FALSE(TheEngine().HasEstimator("ethnicities"));
  auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(3)));
  auto faces = TheEngine().Detect(img, 1);
  ASSERT_TRUE(faces.ok());
  auto e = TheEngine().Estimate(img, faces->front(), {.ethnicities = true});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, core::Errc::EstimatorUnavailable);
  EXPECT_EQ(e.error().args, std::vector<std::string>{"ethnicities"});
}

}  // namespace
