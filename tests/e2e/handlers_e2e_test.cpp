// Handlers on the real binary: concurrent PATCHes from many connections never lose a version
// (the store bumps it in one statement) and every answered version is distinct.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "server_process.hpp"

namespace fptest {
namespace json = boost::json;

TEST(HandlersE2e, ConcurrentPatchesNeverLoseAVersion) {
  ServerProcess s(kFastHash);
  const std::string token = RegisterAccount(s, "h@example.com");
  ASSERT_FALSE(token.empty());

  constexpr int kThreads = 8, kEach = 12;
  std::mutex mu;
  std::vector<int64_t> versions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Each thread writes its own key, so that every key's last value is known too.
        const char* keys[] = {"score_threshold", "verify_threshold"};
        json::object body{{keys[t % 2], (t * kEach + i + 1) / 1000.0}};
        auto p = s.Request("PATCH", "/4/handlers/verify", json::serialize(body),
                           {{"X-Auth-Token", token}, {"Content-Type", "application/json"}});
        EXPECT_EQ(p.status, 200) << p.body;
        if (p.status != 200) continue;
        json::value v = json::parse(p.body);
        std::lock_guard lock(mu);
        versions.push_back(v.at("version").as_int64());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(versions.size(), static_cast<std::size_t>(kThreads * kEach));
  std::sort(versions.begin(), versions.end());
  for (std::size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(versions[i], static_cast<int64_t>(i) + 2);

  auto g = s.Request("GET", "/4/handlers/verify", "", {{"X-Auth-Token", token}});
  ASSERT_EQ(g.status, 200) << g.body;
  json::value h = json::parse(g.body);
  EXPECT_EQ(h.at("version").as_int64(), 1 + kThreads * kEach);
  // Both keys hold a value some PATCH wrote (never lost to a read-modify-write race).
  EXPECT_NE(h.at("policies").at("score_threshold").to_number<double>(), 0.0);
  EXPECT_NE(h.at("policies").at("verify_threshold").to_number<double>(), 0.67);
}

}  // namespace fptest
