#include <gtest/gtest.h>

#include "api/query.hpp"

namespace {
http::Request WithQuery(const std::string& q) {
  http::Request r;
  r.query = http::ParseQuery(q);
  return r;
}
}  // namespace

TEST(Query, ParsesAndDecodes) {
  auto f = http::ParseQuery("a=1&b=x%20y&c=a+b&&d&e=%zz");
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[1].second, "x y");
  EXPECT_EQ(f[2].second, "a b");
  EXPECT_EQ(f[3].first, "d");
  EXPECT_EQ(f[4].second, "%zz");
}

TEST(Query, PaginationDefaultsAndRanges) {
  auto p = api::ParsePagination(WithQuery(""));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->page, 1);
  EXPECT_EQ(p->page_size, 10);
  auto q = api::ParsePagination(WithQuery("page=3&page_size=1000"));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->page, 3);
  EXPECT_EQ(q->page_size, 1000);
  for (const char* bad : {"page=0", "page=-1", "page=x", "page=1.5", "page=", "page_size=0", "page_size=1001",
                          "page_size=abc", "page=99999999999999999999"}) {
    auto r = api::ParsePagination(WithQuery(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, core::Errc::BadQueryParam);
    std::string name = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_EQ(r.error().args.at(0), name);
  }
}

TEST(Query, UuidEnumFlagString) {
  EXPECT_EQ(api::UuidParam(WithQuery(""), "person_id", true).error().code, core::Errc::MissingQueryParam);
  EXPECT_EQ(api::UuidParam(WithQuery("person_id=1"), "person_id", true).error().code, core::Errc::BadQueryParam);
  EXPECT_TRUE(api::UuidParam(WithQuery("person_id=b668c4a5-2191-476e-a261-3b4f9ce2e25e"), "person_id", true));
  EXPECT_FALSE(*api::UuidParam(WithQuery(""), "person_id", false));
  EXPECT_EQ(api::EnumParam(WithQuery("type=x"), "type", {"persons", "descriptors"}, true).error().code,
            core::Errc::BadQueryParam);
  EXPECT_EQ(**api::EnumParam(WithQuery("type=persons"), "type", {"persons", "descriptors"}, true), "persons");
  EXPECT_EQ(api::FlagParam(WithQuery("f=2"), "f", false).error().code, core::Errc::BadQueryParam);
  EXPECT_TRUE(*api::FlagParam(WithQuery("f=1"), "f", false));
  EXPECT_EQ(api::StringParam(WithQuery("u=" + std::string(129, 'a')), "u", 128).error().code,
            core::Errc::BadQueryParam);
  EXPECT_EQ(api::StringParam(WithQuery("u=a%00b"), "u", 128).error().code, core::Errc::BadQueryParam);
}
