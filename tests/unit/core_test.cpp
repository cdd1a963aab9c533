#include <gtest/gtest.h>

#include <set>

#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"

TEST(Uuid, NewUuidsAreValidUuid4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto u = core::NewUuid4();
    ASSERT_TRUE(core::IsUuid4(u)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, RequestUuidsAreValidAndDistinctAcrossPoolRefills) {
  // 1000 ids use four 4 KiB refills of the per-thread pool.
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto u = core::NewRequestUuid4();
    ASSERT_TRUE(core::IsUuid4(u)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, RejectsNonUuid4) {
  EXPECT_TRUE(core::IsUuid4("b668c4a5-2191-476e-a261-3b4f9ce2e25e"));
  EXPECT_FALSE(core::IsUuid4("B668C4A5-2191-476E-A261-3B4F9CE2E25E"));  // upper case
  EXPECT_FALSE(core::IsUuid4("b668c4a5-2191-176e-a261-3b4f9ce2e25e"));  // version 1
  EXPECT_FALSE(core::IsUuid4("b668c4a5-2191-476e-c261-3b4f9ce2e25e"));  // bad variant
  EXPECT_FALSE(core::IsUuid4("b668c4a52191476ea2613b4f9ce2e25e"));
  EXPECT_FALSE(core::IsUuid4("b668c4a5-2191-476e-a261-3b4f9ce2e25"));
  EXPECT_FALSE(core::IsUuid4("g668c4a5-2191-476e-a261-3b4f9ce2e25e"));
  EXPECT_FALSE(core::IsUuid4(""));
}

TEST(Base64, RoundTripsAllLengthsAndBytes) {
  std::string bytes;
  for (int len = 0; len < 70; ++len) {
    auto enc = core::Base64Encode(bytes);
    auto dec = core::Base64Decode(enc);
    ASSERT_TRUE(dec.has_value());
    EXPECT_EQ(*dec, bytes);
    bytes.push_back(static_cast<char>(len * 37 + 11));
  }
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(core::Base64Encode("login:password"), "bG9naW46cGFzc3dvcmQ=");
  EXPECT_EQ(core::Base64Decode("bG9naW46cGFzc3dvcmQ="), std::optional<std::string>("login:password"));
  EXPECT_EQ(core::Base64Decode("Zm9v\r\nYmFy"), std::optional<std::string>("foobar"));  // wrapped lines
}

TEST(Base64, RejectsMalformed) {
  EXPECT_FALSE(core::Base64Decode("abc"));        // truncated quantum
  EXPECT_FALSE(core::Base64Decode("ab$d"));       // bad character
  EXPECT_FALSE(core::Base64Decode("a==="));       // too much padding
  EXPECT_FALSE(core::Base64Decode("ab==cd=="));   // data after padding
  EXPECT_FALSE(core::Base64Decode("-_-_"));       // url alphabet is not accepted
}

TEST(Clock, IsoTimeHasMillisecondsAndZ) {
  EXPECT_EQ(core::IsoTime(1533978701674), "2018-08-11T09:11:41.674Z");
  EXPECT_EQ(core::IsoTime(0), "1970-01-01T00:00:00.000Z");
}
