// The engine on real photos: face counts, identity, robustness to re-encoding, warps.
#include <gtest/gtest.h>

#include <atomic>
#include <opencv2/imgcodecs.hpp>
#include <thread>
#include <opencv2/imgproc.hpp>

#include "face/descriptor_codec.hpp"
#include "face/similarity.hpp"
#include "test_util.hpp"

namespace {
using facetest::TheEngine;

std::vector<face::FaceObject> Faces(const face::Image& img, face::EstimateRequest est = {}) {
  face::ProcessOptions po;
  po.estimate = est;
  auto r = TheEngine().Process(img, po);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().log_detail);
  return r.ok() ? *r : std::vector<face::FaceObject>{};
}

float Cos(const face::Descriptor& a, const face::Descriptor& b) {
  return face::Cosine(a.values.data(), b.values.data(), a.values.size());
}

// npm @vladmandic/face-api demo/sample1..6.jpg: 3, 3, 3, 4, 5, 4 faces.
TEST(Pipeline, FaceCountsOnSamplePhotos) {
  const int expected[] = {3, 3, 3, 4, 5, 4};
  for (int i = 1; i <= 6; ++i) {
    auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(i)));
    auto faces = TheEngine().Detect(img);
    ASSERT_TRUE(faces.ok());
    EXPECT_EQ(int(faces->size()), expected[i - 1]) << "sample" << i;
    for (const auto& f : *faces) {
      EXPECT_GT(f.score, 0.5f);
      EXPECT_LE(f.score, 1.f);
      // Eyes inside the box, left eye left of the right one.
      EXPECT_LT(f.landmarks[0].x, f.landmarks[1].x);
      EXPECT_GT(f.landmarks[0].x, f.rect.x);
      EXPECT_LT(f.landmarks[1].x, f.rect.x + f.rect.width);
      EXPECT_GT(f.rect_iso.width, 0.f);
    }
  }
}

TEST(Pipeline, DeepfaceGroupPhotos) {
  if (!facetest::HaveShared()) GTEST_SKIP() << "shared data absent: " << facetest::SharedDir();
  const std::string dir = facetest::SharedDir() + "/data/faces/deepface_unit/";
  auto couple = TheEngine().Detect(facetest::DecodeOk(facetest::ReadFile(dir + "couple.jpg")));
  ASSERT_TRUE(couple.ok());
  EXPECT_EQ(couple->size(), 2u);
  auto selfie = TheEngine().Detect(facetest::DecodeOk(facetest::ReadFile(dir + "selfie-many-people.jpg")));
  ASSERT_TRUE(selfie.ok());
  EXPECT_GE(selfie->size(), 5u);  // 5 whole faces, 2 more cut by the frame edge
}

// Faces ~35 px wide in a 1920 px photo: a mosaic of a sample photo scaled by 0.2.
TEST(Pipeline, SmallFacesInLargePhoto) {
  cv::Mat src = cv::imread(facetest::Sample(1));
  cv::Mat small;
  cv::resize(src, small, cv::Size(), 0.2, 0.2, cv::INTER_AREA);
  cv::Mat big(small.rows * 4, small.cols * 5, CV_8UC3);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 5; ++c) small.copyTo(big(cv::Rect(c * small.cols, r * small.rows, small.cols, small.rows)));
  std::vector<uchar> buf;
  cv::imencode(".jpg", big, buf, {cv::IMWRITE_JPEG_QUALITY, 92});
  auto img = facetest::DecodeOk(std::string(buf.begin(), buf.end()));
  auto faces = TheEngine().Detect(img);
  ASSERT_TRUE(faces.ok());
  EXPECT_GE(faces->size(), 54u) << "recall under 90% of 60 faces";
  EXPECT_LE(faces->size(), 60u);
}

TEST(Pipeline, SamePersonMoreSimilarThanDifferentPeople) {
  if (!facetest::HaveShared()) GTEST_SKIP() << "shared data absent: " << facetest::SharedDir();
  const std::string dir = facetest::SharedDir() + "/data/faces/deepface_unit/";
  // identities.csv: id00 img1/img2/img4, id01 img26/img27, id02 img48/img50 (img47.jpg is a WebP file, img49.jpg is 4352 px wide).
  const std::vector<std::pair<std::string, int>> files = {{"img1.jpg", 0},  {"img2.jpg", 0},  {"img4.jpg", 0},
                                                          {"img26.jpg", 1}, {"img27.jpg", 1}, {"img50.jpg", 2},
                                                          {"img48.jpg", 2}};
  std::vector<face::Descriptor> d;
  for (const auto& [f, id] : files) {
    auto faces = Faces(facetest::DecodeOk(facetest::ReadFile(dir + f)));
    ASSERT_FALSE(faces.empty()) << f;
    d.push_back(*faces.front().descriptor);
  }
  float min_same = 1, max_diff = -1;
  for (size_t i = 0; i < d.size(); ++i)
    for (size_t j = i + 1; j < d.size(); ++j) {
      const float c = Cos(d[i], d[j]);
      if (files[i].second == files[j].second)
        min_same = std::min(min_same, c);
      else
        max_diff = std::max(max_diff, c);
    }
  EXPECT_GT(min_same, max_diff);
  EXPECT_GT(min_same, 0.34f);  // FAR 1e-3 operating point
  EXPECT_LT(max_diff, 0.34f);
}

TEST(Pipeline, ReencodedRescaledCopyKeepsDescriptor) {
  const std::string bytes = facetest::ReadFile(facetest::Sample(3));
  auto a = Faces(facetest::DecodeOk(bytes));
  cv::Mat m = cv::imread(facetest::Sample(3));
  cv::resize(m, m, cv::Size(), 0.6, 0.6, cv::INTER_AREA);
  std::vector<uchar> buf;
  cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, 70});
  auto b = Faces(facetest::DecodeOk(std::string(buf.begin(), buf.end())));
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (const auto& fa : a) {
    float best = -1;
    for (const auto& fb : b) best = std::max(best, Cos(*fa.descriptor, *fb.descriptor));
    EXPECT_GE(best, 0.9f);
  }
}

TEST(Pipeline, DescriptorIsUnitLengthAndRoundTrips) {
  auto faces = Faces(facetest::DecodeOk(facetest::ReadFile(facetest::Sample(1))));
  ASSERT_FALSE(faces.empty());
  const auto& d = *faces[0].descriptor;
  EXPECT_EQ(d.values.size(), TheEngine().descriptor_size());
  EXPECT_EQ(d.version, TheEngine().descriptor_version());
  EXPECT_NEAR(Cos(d, d), 1.f, 1e-4);
  auto back = face::DecodeDescriptor(face::EncodeDescriptor(d), TheEngine().descriptor_version(), 512);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->values, d.values);
}

TEST(Pipeline, WarpedSampleRoundTrip) {
  auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(3)));
  auto faces = Faces(img);
  ASSERT_FALSE(faces.empty());
  auto warped = TheEngine().Warp(img, faces[0].detection);
  ASSERT_TRUE(warped.ok());
  EXPECT_EQ(warped->width, 250);
  EXPECT_EQ(warped->height, 250);
  // Through JPEG, as a client would send it with warped_image=1.
  auto jpeg = TheEngine().EncodeJpeg(*warped);
  ASSERT_TRUE(jpeg.ok());
  auto wimg = facetest::DecodeOk(*jpeg);
  face::ProcessOptions po;
  po.warped = true;
  auto wf = TheEngine().Process(wimg, po);
  ASSERT_TRUE(wf.ok());
  ASSERT_EQ(wf->size(), 1u);
  EXPECT_GE(Cos(*wf->front().descriptor, *faces[0].descriptor), 0.9f);
  // Eyes horizontal in the warp: the detector's landmarks on it are level.
  auto again = TheEngine().Detect(wimg);
  ASSERT_TRUE(again.ok());
  ASSERT_FALSE(again->empty());
  EXPECT_NEAR(again->front().landmarks[0].y, again->front().landmarks[1].y, 6.f);
}

TEST(Pipeline, CompareBest) {
  auto a = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(1)));
  auto s = TheEngine().CompareBest(a, a);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(*s, 1.f, 1e-3);
  // A flat image has no face.
  cv::Mat flat(200, 200, CV_8UC3, cv::Scalar(128, 128, 128));
  auto f = TheEngine().CompareBest(a, face::Image::FromBgr(200, 200, flat.data));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, core::Errc::NoFaces);
}

TEST(Pipeline, ThreadSafe) {
  auto img = facetest::DecodeOk(facetest::ReadFile(facetest::Sample(4)));
  auto ref = Faces(img);
  ASSERT_EQ(ref.size(), 4u);
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int k = 0; k < 2; ++k) {
        face::ProcessOptions po;
        auto r = TheEngine().Process(img, po);
        if (!r.ok() || r->size() != ref.size()) {
          ++bad;
          continue;
        }
        for (size_t i = 0; i < ref.size(); ++i)
          if (Cos(*(*r)[i].descriptor, *ref[i].descriptor) < 0.9999f) ++bad;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace

namespace {

// Extreme shapes at the limits: no crash, no faces, sane timing.
TEST(Pipeline, ExtremeAspectRatiosAndLimits) {
  for (auto [w, h] : std::vector<std::pair<int, int>>{{96, 4096}, {4096, 96}, {96, 96}, {4096, 4096}}) {
    cv::Mat m(h, w, CV_8UC3, cv::Scalar(90, 120, 150));
    cv::randu(m, cv::Scalar::all(60), cv::Scalar::all(200));
    std::vector<uchar> buf;
    cv::imencode(".png", m, buf);
    auto img = facetest::TheEngine().Decode(std::string(buf.begin(), buf.end()), face::ImageFormat::Png);
    ASSERT_TRUE(img.ok()) << w << "x" << h;
    face::ProcessOptions po;
    po.estimate = {.quality = true};
    auto faces = facetest::TheEngine().Process(*img, po);
    ASSERT_TRUE(faces.ok()) << w << "x" << h;
    EXPECT_TRUE(faces->empty()) << w << "x" << h;
  }
}

}  // namespace
