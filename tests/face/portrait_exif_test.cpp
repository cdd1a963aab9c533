// Portrait files (rectISO crop + thumbnails) and EXIF tag reading.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "face/exif.hpp"
#include "face/portrait.hpp"
#include "test_util.hpp"

namespace {
using facetest::TheEngine;

cv::Mat DecodeMat(const std::string& jpeg) {
  return cv::imdecode(cv::Mat(1, int(jpeg.size()), CV_8UC1, const_cast<char*>(jpeg.data())), cv::IMREAD_COLOR);
}

TEST(Portrait, IsoBoxFittedInto250WithThumbnails) {
  auto img = TheEngine().Decode(facetest::ReadFile(facetest::Sample(3)), face::ImageFormat::Jpeg, false, true);
  ASSERT_TRUE(img.ok());
  auto faces = TheEngine().Detect(*img, 1);
  ASSERT_TRUE(faces.ok() && !faces->empty());
  auto p = face::MakePortraitFiles(*img, faces->front().rect_iso);
  ASSERT_TRUE(p.ok()) << p.error().log_detail;
  cv::Mat portrait = DecodeMat(p->portrait);
  EXPECT_EQ(portrait.rows, 250);                      // ISO box is taller than wide (3:4)
  EXPECT_NEAR(portrait.cols, 250 * 0.75, 2);
  ASSERT_EQ(p->thumbnails.size(), 4u);
  for (const auto& [side, jpeg] : p->thumbnails) {
    cv::Mat t = DecodeMat(jpeg);
    EXPECT_EQ(std::max(t.cols, t.rows), side);
    // Thumbnails are made from each other (portrait.cpp); they must still look like the
    // portrait scaled down in one step: same shape, and no further from it than JPEG's own
    // noise (the one-step resize encoded at the same quality; at 32 px both are ~9 levels).
    EXPECT_NEAR(double(t.cols) / t.rows, double(portrait.cols) / portrait.rows, 0.05) << side;
    cv::Mat direct;
    cv::resize(portrait, direct, t.size(), 0, 0, cv::INTER_AREA);
    std::vector<uchar> buf;
    ASSERT_TRUE(cv::imencode(".jpg", direct, buf, {cv::IMWRITE_JPEG_QUALITY, 90}));
    cv::Mat jpeg_noise, chained;
    cv::absdiff(direct, cv::imdecode(buf, cv::IMREAD_COLOR), jpeg_noise);
    cv::absdiff(direct, t, chained);
    EXPECT_LT(cv::mean(chained)[0], 1.15 * cv::mean(jpeg_noise)[0] + 0.5) << side;
  }
  // The portrait shows the face: the detector finds it again.
  auto again = TheEngine().Decode(p->portrait, face::ImageFormat::Jpeg);
  ASSERT_TRUE(again.ok());
  auto f2 = TheEngine().Detect(*again);
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2->size(), 1u);
}

TEST(Exif, ReadsTagsAndIgnoresNonJpeg) {
  EXPECT_TRUE(face::ReadExifTags("not a jpeg").empty());
  EXPECT_TRUE(face::ReadExifTags(facetest::ReadFile(facetest::Sample(1))).size() < 1000u);
  EXPECT_EQ(face::LowerCamel("GPSLatitude"), "gpsLatitude");
  EXPECT_EQ(face::LowerCamel("DateTime"), "dateTime");
  // A JPEG with an APP1 EXIF block holding Orientation = 6.
  std::vector<uchar> buf;
  cv::imencode(".jpg", cv::Mat(120, 120, CV_8UC3, cv::Scalar(9, 9, 9)), buf);
  std::string jpeg(buf.begin(), buf.end());
  std::string tiff("II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0", 26);
  std::string app1 = std::string("Exif\0\0", 6) + tiff;
  const size_t len = app1.size() + 2;
  jpeg = jpeg.substr(0, 2) + std::string("\xFF\xE1", 2) + char(len >> 8) + char(len & 0xff) + app1 + jpeg.substr(2);
  auto tags = face::ReadExifTags(jpeg);
  bool found = false;
  for (const auto& [k, v] : tags)
    if (k == "orientation") found = true;
  EXPECT_TRUE(found);
}

}  // namespace
