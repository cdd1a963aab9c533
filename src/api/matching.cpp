// Family M: verify, identify, raw match and search (API.md §4 M, §5 candidates; reference
// "matching"). Every request first brings the index up to date with the store
// (IndexFollower::CatchUp: read-your-writes), resolves its reference and candidate set from
// the store (existence, list type, tenancy), then queries the in-memory index.
//
// Precedence when several alternatives are given (API.md §4): reference person_id, then
// descriptor_id; candidates list_id, then person_ids, then descriptor_ids. Every alternative
// that is present must be well-formed (12012) even when it is not the one used.
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <unordered_map>

#include "api/api.hpp"
#include "api/extraction.hpp"
#include "api/index_follower.hpp"
#include "api/matching_core.hpp"
#include "api/objects.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"
#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"
#include "face/descriptor_codec.hpp"
#include "face/similarity.hpp"

namespace api {
namespace json = boost::json;
using core::Errc;

namespace {
constexpr int64_t kLimitMax = 5, kLimitDefault = 3;
constexpr const char* kDescriptorType = "application/x-vl-face-descriptor";

core::Error MatcherMissing() { return core::InternalError("the matching index is not configured"); }
core::Error EngineMissing() { return core::InternalError("the face engine is not loaded (see models_failed at start-up)"); }

// Comma-separated uuid4 list; duplicates dropped (first kept). Empty items or non-uuid4 -> 12012.
core::Result<std::optional<std::vector<std::string>>> IdListParam(const http::Request& req, const std::string& name) {
  const std::string* v = req.Query(name);
  if (!v) return std::optional<std::vector<std::string>>{};
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = v->find(',', start);
    std::string item = v->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!core::IsUuid4(item)) return core::Error(Errc::BadQueryParam, {name});
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return std::optional<std::vector<std::string>>{std::move(out)};
}

// Which candidate alternatives an operation accepts, and what a list must hold.
struct CandidateRules {
  bool list = true, person_ids = false, descriptor_ids = false;
  std::optional<store::ListType> list_type;  // nullopt: either type (search)
};

struct CandidateParams {
  std::optional<std::string> list_id;
  std::optional<std::vector<std::string>> person_ids, descriptor_ids;
};

core::Result<CandidateParams> ParseCandidateParams(const http::Request& req, const CandidateRules& rules) {
  CandidateParams p;
  if (rules.list) {
    auto l = UuidParam(req, "list_id", false);
    if (!l) return std::move(l).error();
    p.list_id = *l;
  }
  if (rules.person_ids) {
    auto ids = IdListParam(req, "person_ids");
    if (!ids) return std::move(ids).error();
    p.person_ids = std::move(*ids);
  }
  if (rules.descriptor_ids) {
    auto ids = IdListParam(req, "descriptor_ids");
    if (!ids) return std::move(ids).error();
    p.descriptor_ids = std::move(*ids);
  }
  if (!p.list_id && !p.person_ids && !p.descriptor_ids) {
    std::string names = "list_id";
    if (rules.person_ids) names += ", person_ids";
    if (rules.descriptor_ids) names += ", descriptor_ids";
    return core::Error(Errc::MissingQueryParam, {names});
  }
  return p;
}

struct Reference {
  std::optional<std::string> person_id, descriptor_id;
};

core::Result<Reference> ParseReferenceParams(const http::Request& req) {
  auto person = UuidParam(req, "person_id", false);
  if (!person) return std::move(person).error();
  auto descriptor = UuidParam(req, "descriptor_id", false);
  if (!descriptor) return std::move(descriptor).error();
  if (!*person && !*descriptor) return core::Error(Errc::MissingQueryParam, {"person_id, descriptor_id"});
  Reference r;
  if (*person) r.person_id = *person;
  else r.descriptor_id = *descriptor;
  return r;
}

std::vector<match::Id> ToIds(const std::vector<std::string>& ids) {
  std::vector<match::Id> out;
  out.reserve(ids.size());
  for (const auto& s : ids)
    if (auto id = match::ParseId(s)) out.push_back(*id);
  return out;
}

struct Best {
  match::Candidate c;
  std::size_t order = 0;  // first seen, for stable ties
};

}  // namespace

// The matching core shared by the four routes and the handlers (matching_core.hpp).
namespace matching_detail {

// The reference vectors: the descriptor's, or every descriptor of the person (a person with
// no descriptors gives none: empty candidates).
core::Result<std::vector<std::vector<float>>> ReferenceVectors(Context& ctx, const Reference& ref) {
  std::vector<std::vector<float>> out;
  if (ref.person_id) {
    auto p = ctx.store.GetPerson(ctx.account_id, *ref.person_id);
    if (!p) return std::move(p).error();
    if (!p->has_value()) return core::MakeError(Errc::PersonNotFoundRef);
    for (const auto& id : (*p)->descriptors) {
      auto d = ctx.store.GetDescriptor(ctx.account_id, id);
      if (!d) return std::move(d).error();
      if (d->has_value()) out.push_back(std::move((*d)->values));
    }
    return out;
  }
  auto d = ctx.store.GetDescriptor(ctx.account_id, *ref.descriptor_id);
  if (!d) return std::move(d).error();
  if (!d->has_value()) return core::Error(Errc::DescriptorNotFoundRef, {*ref.descriptor_id});
  out.push_back(std::move((*d)->values));
  return out;
}

core::Status RequirePersonsList(store::Store& store, const std::string& account_id, const std::string& list_id) {
  auto l = store.GetListType(account_id, list_id);
  if (!l) return std::move(l).error();
  if (!l->has_value()) return core::MakeError(Errc::ListNotFoundRef);
  if (**l != store::ListType::Persons) return WrongListTypeError(store::ListType::Persons);
  return {};
}

core::Result<ResolvedCandidates> ResolveCandidates(Context& ctx, const CandidateParams& p, const CandidateRules& rules,
                                                   const match::Index& index) {
  ResolvedCandidates r;
  if (p.list_id) {
    // Existence and type only: GetList would count the members (a scan of them).
    auto l = ctx.store.GetListType(ctx.account_id, *p.list_id);
    if (!l) return std::move(l).error();
    if (!l->has_value()) return core::MakeError(Errc::ListNotFoundRef);
    const store::ListType type = **l;
    if (rules.list_type && type != *rules.list_type) return WrongListTypeError(*rules.list_type);
    auto id = match::ParseId(*p.list_id);
    r.persons = type == store::ListType::Persons;
    r.target = r.persons ? match::Target::PersonsList(*id) : match::Target::DescriptorsList(*id);
    return r;
  }
  if (p.person_ids) {
    for (const auto& id : *p.person_ids) {
      auto person = ctx.store.GetPerson(ctx.account_id, id);
      if (!person) return std::move(person).error();
      if (!person->has_value()) return core::MakeError(Errc::ObjectsNotFound, {"persons"});
    }
    r.persons = true;
    r.target = match::Target::PersonIds(ToIds(*p.person_ids));
    return r;
  }
  // descriptor_ids: the index is caught up, so it knows every descriptor of the account.
  auto account = match::ParseId(ctx.account_id);
  std::vector<match::Id> ids = ToIds(*p.descriptor_ids);
  for (const auto& id : ids)
    if (!account || !index.Contains(*account, id)) return core::MakeError(Errc::ObjectsNotFound, {"descriptors"});
  r.persons = false;
  r.target = match::Target::DescriptorIds(std::move(ids));
  return r;
}

// Top `limit` over every reference vector (a candidate's score is its best over them).
core::Result<std::vector<match::Candidate>> TopK(Context& ctx, const match::Index& index,
                                                 const std::vector<std::vector<float>>& refs,
                                                 const ResolvedCandidates& cands, std::size_t limit) {
  auto account = match::ParseId(ctx.account_id);
  if (!account) return core::InternalError("account id is not a uuid");
  std::unordered_map<match::Id, Best, match::IdHash> best;
  for (const auto& v : refs) {
    auto res = index.Match(*account, v, cands.target, limit);
    if (!res) {
      // A list that exists in the store but never had a member is unknown to the index.
      if (res.error().code == Errc::ListNotFoundRef) return std::vector<match::Candidate>{};
      return std::move(res).error();
    }
    for (auto& c : *res) {
      const match::Id key = cands.persons && c.person_id ? *c.person_id : c.descriptor_id;
      auto [it, inserted] = best.try_emplace(key, Best{c, best.size()});
      if (!inserted && c.cosine > it->second.c.cosine) it->second.c = c;
    }
  }
  std::vector<Best> all;
  all.reserve(best.size());
  for (auto& [k, b] : best) all.push_back(b);
  std::sort(all.begin(), all.end(), [](const Best& a, const Best& b) {
    if (a.c.cosine != b.c.cosine) return a.c.cosine > b.c.cosine;
    return a.order < b.order;
  });
  std::vector<match::Candidate> out;
  for (std::size_t i = 0; i < all.size() && out.size() < limit; ++i) out.push_back(all[i].c);
  return out;
}

double Similarity(float cosine) {
  // Rounded to 6 digits: stable JSON, far below the quantisation error.
  return std::round(static_cast<double>(face::SimilarityFromCosine(cosine)) * 1e6) / 1e6;
}

core::Result<json::array> RenderCandidates(Context& ctx, const std::vector<match::Candidate>& found, bool persons) {
  json::array out;
  for (const auto& c : found) {
    if (!persons) {
      out.push_back(json::object{{"id", match::FormatId(c.descriptor_id)}, {"similarity", Similarity(c.cosine)}});
      continue;
    }
    if (!c.person_id) continue;
    const std::string pid = match::FormatId(*c.person_id);
    auto p = ctx.store.GetPerson(ctx.account_id, pid);
    if (!p) return std::move(p).error();
    if (!p->has_value()) continue;  // deleted since the match: not a candidate any more
    json::object o{{"person_id", pid},
                   {"descriptor_id", match::FormatId(c.descriptor_id)},
                   {"similarity", Similarity(c.cosine)},
                   {"user_data", (*p)->user_data}};
    if ((*p)->external_id) o["external_id"] = *(*p)->external_id;
    else o["external_id"] = nullptr;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace matching_detail

core::Status Api::CatchUpForRequest() {
  if (!opt_.catch_up_on_request) return {};
  return matcher_->CatchUp();
}

void Api::AddMatchingRoutes() {
  using namespace matching_detail;

  // reference: one descriptor; candidates: that person's descriptors; at most one candidate.
  Route("POST", "/4/matching/verify", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (!matcher_) return MatcherMissing();
    auto descriptor_id = UuidParam(c.req, "descriptor_id", true);
    if (!descriptor_id) return std::move(descriptor_id).error();
    auto person_id = UuidParam(c.req, "person_id", true);
    if (!person_id) return std::move(person_id).error();
    if (auto st = CatchUpForRequest(); !st) return st.error();
    Context ctx{store_, *matcher_, c.who.account_id};
    auto refs = ReferenceVectors(ctx, Reference{std::nullopt, **descriptor_id});
    if (!refs) return std::move(refs).error();
    CandidateRules rules{false, true, false, std::nullopt};
    auto index = matcher_->index();
    auto cands = ResolveCandidates(ctx, CandidateParams{std::nullopt, std::vector<std::string>{**person_id}, std::nullopt},
                                   rules, *index);
    if (!cands) {
      if (cands.error().code == Errc::ObjectsNotFound) return core::MakeError(Errc::PersonNotFoundRef);
      return std::move(cands).error();
    }
    auto found = TopK(ctx, *index, *refs, *cands, 1);
    if (!found) return std::move(found).error();
    auto arr = RenderCandidates(ctx, *found, true);
    if (!arr) return std::move(arr).error();
    return Json(201, json::object{{"candidates", std::move(*arr)}});
  });

  // Shared by identify (persons) and raw match (descriptors).
  auto match_route = [this](const CandidateRules& rules) {
    return [this, rules](Call& c) -> core::Result<http::Response> {
      if (!matcher_) return MatcherMissing();
      auto ref = ParseReferenceParams(c.req);
      if (!ref) return std::move(ref).error();
      auto cp = ParseCandidateParams(c.req, rules);
      if (!cp) return std::move(cp).error();
      auto limit = IntParam(c.req, "limit", kLimitDefault, 1, kLimitMax);
      if (!limit) return std::move(limit).error();
      if (auto st = CatchUpForRequest(); !st) return st.error();
      Context ctx{store_, *matcher_, c.who.account_id};
      auto refs = ReferenceVectors(ctx, *ref);
      if (!refs) return std::move(refs).error();
      auto index = matcher_->index();
      auto cands = ResolveCandidates(ctx, *cp, rules, *index);
      if (!cands) return std::move(cands).error();
      auto found = TopK(ctx, *index, *refs, *cands, static_cast<std::size_t>(*limit));
      if (!found) return std::move(found).error();
      auto arr = RenderCandidates(ctx, *found, cands->persons);
      if (!arr) return std::move(arr).error();
      return Json(201, json::object{{"candidates", std::move(*arr)}});
    };
  };
  Route("POST", "/4/matching/identify", Access::TokenOrBasic,
        match_route(CandidateRules{true, true, false, store::ListType::Persons}));
  Route("POST", "/4/matching/match", Access::TokenOrBasic,
        match_route(CandidateRules{true, false, true, store::ListType::Descriptors}));

  // Extract exactly one face (stored like POST /4/storage/descriptors), then match it.
  Route("POST", "/4/matching/search", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (!matcher_) return MatcherMissing();
    if (!engine_ || !portraits_) return EngineMissing();
    const CandidateRules rules{true, true, true, std::nullopt};
    auto cp = ParseCandidateParams(c.req, rules);
    if (!cp) return std::move(cp).error();
    auto limit = IntParam(c.req, "limit", kLimitDefault, 1, kLimitMax);
    if (!limit) return std::move(limit).error();
    if (auto nc = FlagParam(c.req, "no_cache", false); !nc) return std::move(nc).error();
    const std::string mime = RequestMediaType(c.req);
    if (mime == "application/x-vl-xpk" || mime == "application/x-vl-xpk-base64") return core::MakeError(Errc::XpkParse);
    const bool descriptor_body = mime == kDescriptorType || mime == std::string(kDescriptorType) + "-base64";
    std::optional<ExtractionParams> params;
    if (!descriptor_body) {
      auto p = ParseExtractionParams(c.req, /*allow_no_descriptor=*/false);
      if (!p) return std::move(p).error();
      params = std::move(*p);
    }
    if (auto st = CatchUpForRequest(); !st) return st.error();
    Context ctx{store_, *matcher_, c.who.account_id};
    auto index = matcher_->index();
    // Candidates are checked before anything is stored.
    auto cands = ResolveCandidates(ctx, *cp, rules, *index);
    if (!cands) return std::move(cands).error();

    std::vector<std::vector<float>> refs;
    json::object face_json;
    std::optional<json::object> exif;  // extract_exif=1: top level, as POST /4/storage/descriptors
    if (descriptor_body) {
      auto d = StoreUploadedDescriptor({*engine_, store_, *portraits_}, c.who.account_id, c.req.body,
                                       mime != kDescriptorType);
      if (!d) return std::move(d).error();
      face_json = json::object{{"id", d->id}};
      refs.push_back(std::move(d->values));
    } else {
      auto body = ReadImageBody(c.req);
      if (!body) return std::move(body).error();
      auto ex = ExtractAndStore({*engine_, store_, *portraits_}, c.who.account_id, *body, *params, -1,
                                /*single_face=*/true);
      if (!ex) return std::move(ex).error();
      const ExtractedFace& f = ex->faces.front();
      if (!f.face.descriptor) return core::InternalError("search: the engine returned no descriptor");
      face_json = FaceJson(f, *params);
      if (params->extract_exif) exif = ExifJson(ex->exif);
      refs.push_back(f.face.descriptor->values);
    }
    auto found = TopK(ctx, *index, refs, *cands, static_cast<std::size_t>(*limit));
    if (!found) return std::move(found).error();
    auto arr = RenderCandidates(ctx, *found, cands->persons);
    if (!arr) return std::move(arr).error();
    json::object out{{"face", std::move(face_json)}, {"candidates", std::move(*arr)}};
    if (exif) out["exif"] = std::move(*exif);
    return Json(201, std::move(out));
  });
}

}  // namespace api
