#pragma once
// Helpers for the storage families' component tests (persons, lists, linker): creating
// objects over HTTP, descriptors straight through the store (extraction is tested elsewhere),
// and reading JSON answers.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"

namespace fptest {

class StorageTest : public ApiTest {
 protected:
  // The account owning a token.
  std::string AccountOf(const std::string& token) {
    auto a = store_->FindTokenOwner(token);
    EXPECT_TRUE(a && a->has_value());
    return a && a->has_value() ? (*a)->id : std::string();
  }
  // A descriptor of the token's account, created through the store: a 512-float unit vector,
  // version 1, no portrait.
  std::string NewDescriptor(const std::string& token) {
    store::Descriptor d;
    d.id = core::NewUuid4();
    d.account_id = AccountOf(token);
    d.version = 1;
    d.values.assign(512, 0.0f);
    d.values[counter_++ % 512] = 1.0f;
    d.create_time_ms = d.last_update_ms = core::NowMillis();
    auto st = store_->CreateDescriptors({d});
    EXPECT_TRUE(st) << (st ? "" : st.error().log_detail);
    return d.id;
  }
  store::Descriptor StoredDescriptor(const std::string& token, const std::string& id) {
    auto d = store_->GetDescriptor(AccountOf(token), id);
    EXPECT_TRUE(d && d->has_value()) << id;
    return d && d->has_value() ? **d : store::Descriptor{};
  }
  std::string NewPerson(const std::string& token, boost::json::object body = {}) {
    auto r = SendJson("POST", "/4/storage/persons", body, Token(token));
    EXPECT_EQ(r.status, 201u) << r.body;
    return r.status == 201 ? std::string(r.Json().at("person_id").as_string()) : std::string();
  }
  std::string NewList(const std::string& token, const std::string& type, const std::string& list_data = "") {
    auto r = SendJson("POST", "/4/storage/lists?type=" + type, boost::json::object{{"list_data", list_data}},
                      Token(token));
    EXPECT_EQ(r.status, 201u) << r.body;
    return r.status == 201 ? std::string(r.Json().at("list_id").as_string()) : std::string();
  }
  boost::json::object GetJson(const std::string& target, const std::string& token) {
    auto r = Send("GET", target, "", Token(token));
    EXPECT_EQ(r.status, 200u) << target << " " << r.body;
    return r.status == 200 ? r.Json() : boost::json::object{};
  }
  boost::json::object Person(const std::string& token, const std::string& id) {
    return GetJson("/4/storage/persons/" + id, token);
  }
  Reply Link(const std::string& token, const std::string& action, const std::string& list_id, const char* key,
             const std::vector<std::string>& ids) {
    boost::json::array a;
    for (const auto& id : ids) a.emplace_back(id);
    return SendJson("PATCH", "/4/storage/linker",
                    boost::json::object{{"action", action}, {"list_id", list_id}, {key, std::move(a)}},
                    Token(token));
  }
  // Timestamps have millisecond resolution: wait so that the next write gets a later one.
  static void Tick() { std::this_thread::sleep_for(std::chrono::milliseconds(3)); }

  static std::vector<std::string> Ids(const boost::json::value& arr) {
    std::vector<std::string> out;
    for (const auto& v : arr.as_array()) out.emplace_back(v.as_string());
    return out;
  }
  static std::set<std::string> IdSet(const boost::json::value& arr) {
    auto v = Ids(arr);
    return {v.begin(), v.end()};
  }
  static bool IsIsoMillis(const boost::json::value& v) {
    static const std::regex re(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
    return v.is_string() && std::regex_match(std::string(v.as_string()), re);
  }
  static std::string Detail(const Reply& r) {
    auto o = r.Json();
    return o.contains("detail") ? std::string(o.at("detail").as_string()) : std::string();
  }

  int counter_ = 0;
};

}  // namespace fptest
