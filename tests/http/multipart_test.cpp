// The multipart/form-data parser (http/multipart.hpp): the RFC 7578 / 2046 forms it accepts,
// every malformation it refuses, its limits, and hostile inputs (near-miss boundaries
// everywhere, huge parts, header floods) that must stay cheap and safe.
#include <gtest/gtest.h>

#include <string>

#include "http/multipart.hpp"

namespace {
using core::Errc;
using http::MultipartBoundary;
using http::ParseMultipart;

std::string Detail(const core::Error& e) { return e.args.empty() ? std::string() : e.args.front(); }

TEST(MultipartBoundary, FromTheContentType) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;boundary=\"a b:c\"; charset=utf-8"), "a b:c");
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; charset=x; BOUNDARY=z"), "z");
  for (const char* bad : {"multipart/mixed; boundary=a", "multipart/form-data", "multipart/form-data; boundary=",
                          "multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=\"a \"",
                          "multipart/form-data; boundary=\"a", "multipart/form-data; boundary=a@b",
                          "multipart/form-data; boundary", "image/jpeg"}) {
    auto b = MultipartBoundary(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.error().code, Errc::MalformedMultipart) << bad;
  }
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
  EXPECT_TRUE(MultipartBoundary("multipart/form-data; boundary=" + std::string(70, 'a')).ok());
}

TEST(Multipart, PartsWithNamesFilenamesTypesAndExactBodies) {
  const std::string body =
      "preamble to ignore\r\n"
      "--B \t\r\n"
      "Content-Disposition: form-data; name=\"img\"; filename=\"a \\\"b\\\".jpg\"\r\n"
      "content-type: Image/JPEG; q=1\r\n"
      "X-Other: ignored\r\n"
      "\r\n"
      "bytes\r\nwith CRLF and --B- near misses\r\n"
      "--B\r\n"
      "Content-Disposition: form-data; name=meta\r\n"
      "\r\n"
      "\r\n"
      "--B--\r\nepilogue --B\r\n";
  auto parts = ParseMultipart(body, "B");
  ASSERT_TRUE(parts.ok()) << Detail(parts.error());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "img");
  EXPECT_EQ((*parts)[0].filename, std::optional<std::string>("a \"b\".jpg"));
  EXPECT_EQ((*parts)[0].content_type, "image/jpeg");
  EXPECT_EQ((*parts)[0].body, "bytes\r\nwith CRLF and --B- near misses");
  EXPECT_EQ((*parts)[1].name, "meta");
  EXPECT_FALSE((*parts)[1].filename);
  EXPECT_EQ((*parts)[1].content_type, "");
  EXPECT_EQ((*parts)[1].body, "");
  // No preamble, no trailing CRLF after the close delimiter.
  parts = ParseMultipart("--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--", "x");
  ASSERT_TRUE(parts.ok()) << Detail(parts.error());
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body, "1");
  // Only a close delimiter: no parts.
  parts = ParseMultipart("--x--", "x");
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(parts->empty());
}

TEST(Multipart, MalformedBodiesAreRefused) {
  const std::string disp = "Content-Disposition: form-data; name=a\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no boundary delimiter"},
      {"no delimiter here", "no boundary delimiter"},
      {"--b\r\n" + disp + "\r\nbody", "closing boundary"},                      // unterminated part
      {"--b\r\n" + disp + "\r\nbody\r\n--b\r\n", "unterminated part headers"},  // ends in headers
      {"--b\r\n" + disp, "unterminated part headers"},
      {"--bX\r\n" + disp + "\r\n\r\n--b--", "CRLF"},                            // longer boundary
      {"--b\r\n\r\nx\r\n--b--", "without Content-Disposition"},
      {"--b\r\nContent-Type: image/jpeg\r\n\r\nx\r\n--b--", "without Content-Disposition"},
      {"--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--", "not form-data"},
      {"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "without a name"},
      {"--b\r\nContent-Disposition: form-data; filename=f\r\n\r\nx\r\n--b--", "without a name"},
      {"--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--", "unterminated quoted"},
      {"--b\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--b--", "no value"},
      {"--b\r\nContent-Disposition: form-data; name=\r\n\r\nx\r\n--b--", "no value"},
      {"--b\r\nContent-Disposition: form-data name=a\r\n\r\nx\r\n--b--", "not form-data"},
      {"--b\r\n" + disp + disp + "\r\nx\r\n--b--", "repeated"},
      {"--b\r\n" + disp + " folded\r\n\r\nx\r\n--b--", "folded"},
      {"--b\r\n" + disp + "no colon\r\n\r\nx\r\n--b--", "without a name"},
      {"--b\r\n" + disp + ": empty name\r\n\r\nx\r\n--b--", "without a name"},
      {"--b\r\n" + disp + "Bad Name: v\r\n\r\nx\r\n--b--", "invalid part header name"},
      {"--b\r\n" + disp + "Content-Type:\r\n\r\nx\r\n--b--", "empty part Content-Type"},
      {"--b\r\nContent-Disposition: form-data; name=a\nContent-Type: x\r\n\r\nx\r\n--b--", "control character"},
      {"--b\r\n" + disp + "X: a\rb\r\n\r\nx\r\n--b--", "control character"},
      {"--b" + std::string("\r\n"), "unterminated part headers"},
  };
  for (const auto& [body, want] : cases) {
    auto parts = ParseMultipart(body, "b");
    ASSERT_FALSE(parts.ok()) << body;
    EXPECT_EQ(parts.error().code, Errc::MalformedMultipart) << body;
    EXPECT_NE(Detail(parts.error()).find(want), std::string::npos) << body << " -> " << Detail(parts.error());
  }
  EXPECT_FALSE(ParseMultipart("--b--", "").ok());
}

TEST(Multipart, LimitsOnPartsPartSizeAndHeaders) {
  http::MultipartLimits limits;
  limits.max_parts = 2;
  limits.max_part_bytes = 10;
  limits.max_header_bytes = 100;
  auto part = [](const std::string& body) {
    return "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n" + body + "\r\n";
  };
  EXPECT_TRUE(ParseMultipart(part("0123456789") + part("") + "--b--", "b", limits).ok());
  auto r = ParseMultipart(part("") + part("") + part("") + "--b--", "b", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::LimitExceeded);
  r = ParseMultipart(part("01234567890") + "--b--", "b", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::LimitExceeded);
  r = ParseMultipart("--b\r\nContent-Disposition: form-data; name=a\r\nX-Long: " + std::string(200, 'v') +
                         "\r\n\r\nx\r\n--b--",
                     "b", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::MalformedMultipart);
  EXPECT_NE(Detail(r.error()).find("longer than 100"), std::string::npos);
}

// Hostile bodies stay linear: 8 MB of near-miss delimiters, a part body made of boundary
// prefixes, and a flood of tiny parts against the part limit.
TEST(Multipart, HostileBodiesAreCheapAndSafe) {
  const std::string boundary(70, 'q');
  std::string near;
  while (near.size() < (8u << 20)) near += "\r\n--" + boundary.substr(0, 69) + "x";
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=a\r\n\r\n" + near + "\r\n--" +
                     boundary + "--";
  auto r = ParseMultipart(body, boundary, {1, 16u << 20, 8192});
  ASSERT_TRUE(r.ok()) << Detail(r.error());
  EXPECT_EQ((*r)[0].body.size(), near.size());
  // The same without the close delimiter: refused, not hung.
  body.resize(body.size() - boundary.size() - 6);
  EXPECT_FALSE(ParseMultipart(body, boundary, {1, 16u << 20, 8192}).ok());
  std::string flood;
  for (int i = 0; i < 100000; ++i) flood += "--z\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n";
  r = ParseMultipart(flood + "--z--", "z", {64, 1024, 1024});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::LimitExceeded);
}

}  // namespace
