// PortraitStore: portrait files on disk (layout, round trip, removal, orphan clean-up).
#include "store/portraits.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/uuid.hpp"
#include "store_contract.hpp"  // EXPECT_OK, GET, Detail

namespace store_testing {
namespace {

namespace fs = std::filesystem;

class TempRoot {
 public:
  TempRoot() {
    std::string tmpl = (fs::temp_directory_path() / "faceport_portraits_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

using Files = std::vector<std::pair<std::string, std::string>>;

Files AllFiles(const std::string& tag) {
  return {{"", "full " + tag}, {"_32", "32 " + tag}, {"_64", "64 " + tag}, {"_96", "96 " + tag}, {"_160", "160 " + tag}};
}

void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string ReadFileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::set<std::string> FilesUnder(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), root).string());
  return out;
}

class Portraits : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(store.Open()); }
  TempRoot root;
  store::PortraitStore store{(root.path() / "portraits").string()};
};

TEST_F(Portraits, PutGetRemoveRoundTrip) {
  const std::string id = core::NewUuid4();
  std::string binary("\xff\xd8\xff\x00\x01jpeg\x00bytes", 14);
  Files files = AllFiles("a");
  files[0].second = binary;
  ASSERT_OK(store.Put(id, files));

  for (const auto& [suffix, bytes] : files) {
    auto got = GET(store.Get(id, suffix));
    ASSERT_TRUE(got.has_value()) << suffix;
    EXPECT_EQ(*got, bytes) << suffix;
  }
  // Layout: one bundle <root>/<first two hex>/<id>.jpgs, and no temporary file left behind.
  EXPECT_EQ(FilesUnder(store.root()), (std::set<std::string>{id.substr(0, 2) + "/" + id + ".jpgs"}));

  EXPECT_FALSE(GET(store.Get(core::NewUuid4(), "")).has_value());
  EXPECT_FALSE(GET(store.Get(id, "_128")).has_value());
  EXPECT_FALSE(GET(store.Get(id, "/../../etc/passwd")).has_value());

  ASSERT_OK(store.Remove(id));
  for (const auto& [suffix, bytes] : files) EXPECT_FALSE(GET(store.Get(id, suffix)).has_value()) << suffix;
  EXPECT_TRUE(FilesUnder(store.root()).empty());
  EXPECT_OK(store.Remove(id));  // nothing left: fine
  EXPECT_OK(store.Remove(core::NewUuid4()));
}

TEST_F(Portraits, PutReplacesAndAcceptsPartialAndEmptyFiles) {
  const std::string id = core::NewUuid4();
  ASSERT_OK(store.Put(id, AllFiles("old")));
  ASSERT_OK(store.Put(id, {{"", "new"}, {"_32", ""}}));
  EXPECT_EQ(*GET(store.Get(id, "")), "new");
  EXPECT_EQ(*GET(store.Get(id, "_32")), "");
  EXPECT_EQ(*GET(store.Get(id, "_64")), "64 old");
  EXPECT_OK(store.Put(id, {}));
  std::string big(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i * 31);
  ASSERT_OK(store.Put(id, {{"_160", big}}));
  EXPECT_EQ(*GET(store.Get(id, "_160")), big);
}

TEST_F(Portraits, OlderOneFilePerImageLayoutIsReadAndConvertedByTheNextPut) {
  const std::string id = core::NewUuid4();
  const fs::path dir = fs::path(store.root()) / id.substr(0, 2);
  for (const auto& [suffix, bytes] : AllFiles("legacy")) WriteFile(dir / (id + suffix + ".jpg"), bytes);
  for (const auto& [suffix, bytes] : AllFiles("legacy")) EXPECT_EQ(*GET(store.Get(id, suffix)), bytes) << suffix;

  ASSERT_OK(store.Put(id, {{"_32", "new 32"}}));
  EXPECT_EQ(FilesUnder(store.root()), (std::set<std::string>{id.substr(0, 2) + "/" + id + ".jpgs"}));
  for (const auto& [suffix, bytes] : AllFiles("legacy"))
    EXPECT_EQ(*GET(store.Get(id, suffix)), suffix == "_32" ? "new 32" : bytes) << suffix;

  const std::string other = core::NewUuid4();  // Remove takes both layouts
  WriteFile(fs::path(store.root()) / other.substr(0, 2) / (other + "_64.jpg"), "x");
  ASSERT_OK(store.Remove(other));
  EXPECT_FALSE(GET(store.Get(other, "_64")).has_value());
}

TEST_F(Portraits, DamagedBundlesAreErrorsNotCrashes) {
  const std::string id = core::NewUuid4();
  ASSERT_OK(store.Put(id, AllFiles("x")));
  const fs::path bundle = fs::path(store.root()) / id.substr(0, 2) / (id + ".jpgs");
  const std::string good = ReadFileBytes(bundle);
  for (const std::string& bad : {std::string(), good.substr(0, 10), good.substr(0, good.size() - 1),
                                 "NOTMAGIC" + good.substr(8)}) {
    WriteFile(bundle, bad);
    EXPECT_FALSE(store.Get(id, "_160").ok()) << bad.size();
  }
}

TEST_F(Portraits, InvalidIdsAndSuffixesAreRefused) {
  const std::vector<std::string> bad_ids = {"", "a", "../etc", "AB", "ab/cd", std::string("ab\0cd", 5), "zz-not-hex"};
  for (const auto& bad : bad_ids)
    EXPECT_FALSE(store.Put(bad, {{"", "x"}}).ok()) << bad;
  EXPECT_FALSE(store.Put(core::NewUuid4(), {{"_128", "x"}}).ok());
  EXPECT_FALSE(store.Put(core::NewUuid4(), {{"/../x", "x"}}).ok());
  EXPECT_FALSE(store.Remove("../..").ok());
  // A refused Put writes nothing, not even the valid files before the bad suffix.
  const std::string id = core::NewUuid4();
  EXPECT_FALSE(store.Put(id, {{"", "x"}, {"_1", "y"}}).ok());
  EXPECT_FALSE(GET(store.Get(id, "")).has_value());
  EXPECT_TRUE(FilesUnder(store.root()).empty());
}

TEST_F(Portraits, RemoveOrphansRemovesTempFilesAndRowlessFilesOnly) {
  const std::string kept = core::NewUuid4();
  const std::string orphan = core::NewUuid4();
  ASSERT_OK(store.Put(kept, AllFiles("kept")));
  ASSERT_OK(store.Put(orphan, AllFiles("orphan")));
  const fs::path root = store.root();
  // What a crash in the middle of a Put leaves: temporary files, here of a third id.
  const std::string crashed = core::NewUuid4();
  const fs::path tmp1 = root / crashed.substr(0, 2) / (crashed + ".jpg.0123456789abcdef.tmp");
  const fs::path tmp2 = root / kept.substr(0, 2) / (kept + "_32.jpg.feedfeedfeedfeed.tmp");
  WriteFile(tmp1, "partial");
  WriteFile(tmp2, "partial");
  // Files that are not portraits are none of its business.
  const fs::path foreign1 = root / kept.substr(0, 2) / "README";
  const fs::path foreign2 = root / "notes.txt";
  const fs::path foreign3 = root / "zz" / (orphan + ".jpg");
  WriteFile(foreign1, "x");
  WriteFile(foreign2, "x");
  WriteFile(foreign3, "x");

  std::vector<std::string> asked;
  auto removed = GET(store.RemoveOrphans([&](std::string_view id) -> core::Result<bool> {
    asked.emplace_back(id);
    return id == kept;
  }));
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(std::set<std::string>(asked.begin(), asked.end()), (std::set<std::string>{kept, orphan}));
  EXPECT_EQ(asked.size(), 2u) << "one question per id, not per file";
  for (const auto& [suffix, bytes] : AllFiles("kept")) EXPECT_EQ(*GET(store.Get(kept, suffix)), bytes);
  for (const auto& [suffix, bytes] : AllFiles("orphan")) EXPECT_FALSE(GET(store.Get(orphan, suffix)).has_value());
  EXPECT_FALSE(fs::exists(tmp1));
  EXPECT_FALSE(fs::exists(tmp2));
  EXPECT_TRUE(fs::exists(foreign1));
  EXPECT_TRUE(fs::exists(foreign2));
  EXPECT_TRUE(fs::exists(foreign3));

  // Nothing left to do the second time.
  EXPECT_EQ(GET(store.RemoveOrphans([&](std::string_view id) -> core::Result<bool> { return id == kept; })), 0);
}

// Several nodes on one directory: files another node is writing right now (a temporary file,
// or files renamed into place whose row is not committed yet) are young; with a minimum age
// they survive another node's start-up, and once old they are removed as orphans.
TEST_F(Portraits, RemoveOrphansLeavesYoungFilesOfOtherNodesAlone) {
  const std::string in_flight = core::NewUuid4();  // renamed into place, row not committed yet
  const std::string stale = core::NewUuid4();      // a crash long ago
  ASSERT_OK(store.Put(in_flight, AllFiles("new")));
  ASSERT_OK(store.Put(stale, AllFiles("old")));
  const fs::path root = store.root();
  const fs::path young_tmp = root / in_flight.substr(0, 2) / (in_flight + "_64.jpg.00000000000000aa.tmp");
  const fs::path old_tmp = root / stale.substr(0, 2) / (stale + "_96.jpg.00000000000000bb.tmp");
  WriteFile(young_tmp, "partial");
  WriteFile(old_tmp, "partial");
  const auto long_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename().string().starts_with(stale)) fs::last_write_time(e.path(), long_ago);
  // One file of a descriptor still young keeps all of its files (a descriptor has several
  // files in the older one-file-per-image layout).
  const std::string half = core::NewUuid4();
  for (const auto& [suffix, bytes] : AllFiles("half")) WriteFile(root / half.substr(0, 2) / (half + suffix + ".jpg"), bytes);
  fs::last_write_time(root / half.substr(0, 2) / (half + ".jpg"), long_ago);

  auto none = [](std::string_view) -> core::Result<bool> { return false; };
  EXPECT_EQ(GET(store.RemoveOrphans(none, 60 * 60 * 1000)), 1);
  for (const auto& [suffix, bytes] : AllFiles("new")) EXPECT_EQ(*GET(store.Get(in_flight, suffix)), bytes);
  for (const auto& [suffix, bytes] : AllFiles("half")) EXPECT_EQ(*GET(store.Get(half, suffix)), bytes);
  for (const auto& [suffix, bytes] : AllFiles("old")) EXPECT_FALSE(GET(store.Get(stale, suffix)).has_value());
  EXPECT_TRUE(fs::exists(young_tmp));
  EXPECT_FALSE(fs::exists(old_tmp));
  // Without a minimum age (one node) everything without a row goes.
  EXPECT_EQ(GET(store.RemoveOrphans(none, 0)), 2);
  EXPECT_FALSE(fs::exists(young_tmp));
}

TEST_F(Portraits, RemoveOrphansStopsOnLookupErrors) {
  const std::string id = core::NewUuid4();
  ASSERT_OK(store.Put(id, AllFiles("x")));
  auto r = store.RemoveOrphans([](std::string_view) -> core::Result<bool> { return core::InternalError("db down"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().log_detail, "db down");
  EXPECT_TRUE(GET(store.Get(id, "")).has_value()) << "an unknown answer never deletes";
}

TEST(PortraitStoreOpen, CreatesNestedRootAndRefusesAFile) {
  TempRoot root;
  store::PortraitStore nested((root.path() / "a" / "b" / "c").string());
  ASSERT_OK(nested.Open());
  EXPECT_TRUE(fs::is_directory(root.path() / "a" / "b" / "c"));
  ASSERT_OK(nested.Open());  // again: fine

  WriteFile(root.path() / "file", "x");
  store::PortraitStore on_file((root.path() / "file").string());
  EXPECT_FALSE(on_file.Open().ok());
  store::PortraitStore under_file((root.path() / "file" / "sub").string());
  EXPECT_FALSE(under_file.Open().ok());
  EXPECT_FALSE(store::PortraitStore("").Open().ok());
}

}  // namespace
}  // namespace store_testing
