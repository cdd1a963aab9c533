// Fills one account of a faceport database (SQLite file, or PostgreSQL with --database-url) with descriptors for the matching benchmark
// through HTTP (bench/match/http_identify.sh). Going through the API for a million
// descriptors would take hours, so this writes through fp_store's own write methods, the same
// calls the API makes: CreateDescriptors as POST /4/storage/descriptors does for an uploaded
// descriptor (no portrait), then per descriptor CreatePerson + LinkPersonDescriptor (persons
// mode) or nothing (descriptors mode), and LinkList into one list as PATCH /4/storage/linker
// does. Every write therefore also appends its change-feed rows, exactly as the server would.
//
// Vectors: the real LFW descriptors of match_bench's cache first (when --lfw-cache is given
// and readable), then random unit vectors (normal components, normalised) up to --add.
// Rounds can be repeated on the same database (--list of the previous round) to grow a set
// 10k -> 100k -> 1M. Prints "list_id <id>" and writes --refs (descriptor ids to query with:
// LFW ones when present, else the first ones written).
//
// usage: seed_match_db (--db DATA_DIR/faceport.db | --database-url postgresql://...)
//                      --token TOKEN --models models --add N
//                      [--mode persons|descriptors] [--list LIST_ID] [--lfw-cache FILE]
//                      [--refs FILE] [--refs-count 200] [--seed 1]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/uuid.hpp"
#include "face/manifest.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"

namespace {

// match_bench's cache (bench/match/lfw_cache.hpp): "FPLFWD01", u32 count, u32 dim, then per
// image u16 len + name, u16 len + identity, dim floats (all zero: no descriptor).
std::vector<std::vector<float>> ReadLfwCache(const std::string& path, size_t want_dim) {
  std::vector<std::vector<float>> out;
  std::ifstream f(path, std::ios::binary);
  if (!f) return out;
  char magic[8];
  uint32_t n = 0, dim = 0;
  f.read(magic, 8);
  f.read(reinterpret_cast<char*>(&n), 4);
  f.read(reinterpret_cast<char*>(&dim), 4);
  if (!f || std::string(magic, 8) != "FPLFWD01" || dim != want_dim) return out;
  for (uint32_t i = 0; i < n; ++i) {
    for (int s = 0; s < 2; ++s) {
      uint16_t len = 0;
      f.read(reinterpret_cast<char*>(&len), 2);
      f.ignore(len);
    }
    std::vector<float> v(dim);
    f.read(reinterpret_cast<char*>(v.data()), std::streamsize(dim * sizeof(float)));
    if (!f) break;
    double norm = 0;
    for (float x : v) norm += double(x) * x;
    if (norm > 0) out.push_back(std::move(v));
  }
  return out;
}

int Fail(const std::string& what, const core::Error& e) {
  std::fprintf(stderr, "seed_match_db: %s: %s\n", what.c_str(), e.log_detail.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, database_url, token, models = "models", mode = "persons", list_id, lfw_cache, refs_path;
  size_t add = 0, refs_count = 200;
  unsigned seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--db") db = next();
    else if (a == "--database-url") database_url = next();
    else if (a == "--token") token = next();
    else if (a == "--models") models = next();
    else if (a == "--mode") mode = next();
    else if (a == "--list") list_id = next();
    else if (a == "--lfw-cache") lfw_cache = next();
    else if (a == "--refs") refs_path = next();
    else if (a == "--add") add = std::stoull(next());
    else if (a == "--refs-count") refs_count = std::stoull(next());
    else if (a == "--seed") seed = unsigned(std::stoul(next()));
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (db.empty() == database_url.empty() || token.empty() || (mode != "persons" && mode != "descriptors")) {
    std::fprintf(stderr,
                 "usage: seed_match_db (--db FILE | --database-url URL) --token TOKEN --add N "
                 "[--mode persons|descriptors] ...\n");
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto manifest = face::Manifest::Load(models);
  if (!manifest) return Fail("models manifest", manifest.error());
  const size_t dim = 512;
  core::Result<std::unique_ptr<store::Store>> opened = core::InternalError("no store");
  if (!database_url.empty()) {
    opened = store::OpenPgStore({database_url, 1});
  } else {
    store::SqliteOptions so;
    so.path = db;
    so.pool_size = 1;
    opened = store::OpenSqliteStore(so);
  }
  if (!opened) return Fail("open the database", opened.error());
  store::Store& st = **opened;
  auto owner = st.FindTokenOwner(token);
  if (!owner) return Fail("token", owner.error());
  if (!owner->has_value()) {
    std::fprintf(stderr, "seed_match_db: unknown token\n");
    return 1;
  }
  const std::string account = (*owner)->id;
  const store::ListType type = mode == "persons" ? store::ListType::Persons : store::ListType::Descriptors;
  if (list_id.empty()) {
    store::List l;
    l.id = core::NewUuid4();
    l.account_id = account;
    l.type = type;
    l.list_data = "match benchmark";
    l.create_time_ms = core::NowMillis();
    if (auto s = st.CreateList(l); !s) return Fail("create list", s.error());
    list_id = l.id;
  }

  std::vector<std::vector<float>> lfw;
  if (!lfw_cache.empty()) lfw = ReadLfwCache(lfw_cache, dim);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  auto random_unit = [&] {
    std::vector<float> v(dim);
    double s = 0;
    for (auto& x : v) {
      x = normal(rng);
      s += double(x) * x;
    }
    for (auto& x : v) x = float(x / std::sqrt(s));
    return v;
  };

  std::vector<std::string> refs;
  constexpr size_t kBatch = 10000;
  size_t done = 0, lfw_used = 0;
  while (done < add) {
    const size_t n = std::min(kBatch, add - done);
    std::vector<store::Descriptor> batch(n);
    std::vector<std::string> members;
    members.reserve(n);
    const int64_t now = core::NowMillis();
    for (auto& d : batch) {
      d.id = core::NewUuid4();
      d.account_id = account;
      d.version = manifest->descriptor_version;
      const bool real = lfw_used < lfw.size();
      d.values = real ? lfw[lfw_used++] : random_unit();
      d.create_time_ms = d.last_update_ms = now;
      if ((real || lfw.empty()) && refs.size() < refs_count) refs.push_back(d.id);
    }
    if (auto s = st.CreateDescriptors(batch); !s) return Fail("create descriptors", s.error());
    for (const auto& d : batch) {
      if (type == store::ListType::Descriptors) {
        members.push_back(d.id);
        continue;
      }
      store::Person p;
      p.id = core::NewUuid4();
      p.account_id = account;
      p.create_time_ms = p.last_update_ms = now;
      if (auto s = st.CreatePerson(p); !s) return Fail("create person", s.error());
      if (auto s = st.LinkPersonDescriptor(account, p.id, d.id, store::LinkAction::Attach, now); !s)
        return Fail("attach", s.error());
      members.push_back(p.id);
    }
    if (auto s = st.LinkList(account, list_id, type, store::LinkAction::Attach, members, now); !s)
      return Fail("link list", s.error());
    done += n;
    std::fprintf(stderr, "\rseeded %zu / %zu", done, add);
  }
  std::fprintf(stderr, "\n");
  if (!refs_path.empty()) {
    std::ofstream f(refs_path, std::ios::app);
    for (const auto& r : refs) f << r << "\n";
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("list_id %s\naccount_id %s\nadded %zu (%zu LFW) in %.1f s\n", list_id.c_str(), account.c_str(), add,
              lfw_used, secs);
  return 0;
}
