// Family H, the one-request pipelines (API.md §4 H, reference "face extractor", "verify
// face", "identify face"): POST /4/handlers/{extractor|verify|identify}. Each reads the
// account's handler policies (handler_policies.hpp), takes the best face of the image by
// score among those that pass the policy thresholds (or a descriptor sent as
// application/x-vl-face-descriptor[-base64]), and then:
//  - extractor: creates a person (user_data, external_id from the query) holding the new
//    descriptor, in the policy list when set, in ONE store transaction
//    (Store::CreatePersonWithDescriptor); portrait files are written before it and removed
//    when it fails, so a failure leaves nothing behind;
//  - verify: stores the descriptor as a temporary (unlinked) one and matches it against the
//    person's descriptors; status = best similarity >= verify_threshold;
//  - identify: stores it as a temporary one and matches it against the policy list, keeping
//    candidates with similarity >= identify_threshold, at most `limit`.
// Everything a request references (person, list) is checked before anything is stored.
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/extraction.hpp"
#include "api/handler_policies.hpp"
#include "api/index_follower.hpp"
#include "api/matching_core.hpp"
#include "api/objects.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"
#include "face/similarity.hpp"

namespace api {
namespace json = boost::json;
using core::Errc;
using store::HandlerType;

namespace {
constexpr const char* kDescriptorType = "application/x-vl-face-descriptor";

core::Error EngineMissing() { return core::InternalError("the face engine is not loaded (see models_failed at start-up)"); }
core::Error MatcherMissing() { return core::InternalError("the matching index is not configured"); }

// What the body holds: a descriptor (raw or base64) or an image.
struct Input {
  bool descriptor = false;
  bool base64 = false;
  ImageBody image;
};

// Content type first (12017 / 12026 for XPK), then the body (18001 for bad base64).
core::Result<Input> ReadInput(const http::Request& req) {
  const std::string mime = RequestMediaType(req);
  if (mime == "application/x-vl-xpk" || mime == "application/x-vl-xpk-base64") return core::MakeError(Errc::XpkParse);
  Input in;
  if (mime == kDescriptorType || mime == std::string(kDescriptorType) + "-base64") {
    in.descriptor = true;
    in.base64 = mime != kDescriptorType;
    return in;
  }
  auto image = ReadImageBody(req);
  if (!image) return std::move(image).error();
  in.image = std::move(*image);
  return in;
}

// The query flags every pipeline accepts.
core::Result<bool> ParseWarped(const http::Request& req) {
  if (auto nc = FlagParam(req, "no_cache", false); !nc) return std::move(nc).error();
  return FlagParam(req, "warped_image", false);
}

// The request's best face as a temporary (unlinked) descriptor of the account: the vector to
// match and the face object / exif of the response.
struct Probe {
  std::vector<float> values;
  json::object face;
  std::optional<json::object> exif;
};

core::Result<Probe> StoreProbe(const ExtractionContext& ctx, const std::string& account_id, const http::Request& req,
                               const Input& in, const HandlerPolicies& policies, bool warped) {
  Probe p;
  if (in.descriptor) {
    auto d = StoreUploadedDescriptor(ctx, account_id, req.body, in.base64);
    if (!d) return std::move(d).error();
    p.face = json::object{{"id", d->id}};
    p.values = std::move(d->values);
    return p;
  }
  const ExtractionParams params = policies.Extraction(warped);
  auto ex = ExtractAndStore(ctx, account_id, in.image, params, /*max_faces=*/1);
  if (!ex) return std::move(ex).error();
  const ExtractedFace& f = ex->faces.front();
  if (!f.face.descriptor) return core::InternalError("handler: the engine returned no descriptor");
  p.face = FaceJson(f, params);
  if (params.extract_exif) p.exif = ExifJson(ex->exif);
  p.values = f.face.descriptor->values;
  return p;
}

json::object WithFace(json::object out, Probe& probe) {
  out["face"] = std::move(probe.face);
  if (probe.exif) out["exif"] = std::move(*probe.exif);
  return out;
}

}  // namespace

void Api::AddHandlerPipelineRoutes() {
  using namespace matching_detail;

  Route("POST", "/4/handlers/extractor", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (!engine_ || !portraits_) return EngineMissing();
    auto user_data = StringParam(c.req, "user_data", 128);
    if (!user_data) return std::move(user_data).error();
    auto external_id = StringParam(c.req, "external_id", 36);
    if (!external_id) return std::move(external_id).error();
    auto warped = ParseWarped(c.req);
    if (!warped) return std::move(warped).error();
    auto in = ReadInput(c.req);
    if (!in) return std::move(in).error();
    auto h = LoadHandler(store_, c.who.account_id, HandlerType::Extractor, policy_defaults());
    if (!h) return std::move(h).error();
    const ExtractionContext ctx{*engine_, store_, *portraits_};

    // The descriptor row (and its portrait files) is prepared, not inserted: the store
    // inserts it with the person and the links in one transaction.
    std::vector<store::Descriptor> rows;
    json::object face;
    std::optional<json::object> exif;
    if (in->descriptor) {
      auto d = DecodeUploadedDescriptor(ctx, c.who.account_id, c.req.body, in->base64);
      if (!d) return std::move(d).error();
      face = json::object{{"id", d->id}};
      rows.push_back(std::move(*d));
    } else {
      const ExtractionParams params = h->policies.Extraction(*warped);
      auto ex = ExtractAndPrepare(ctx, c.who.account_id, in->image, params, /*max_faces=*/1, false, rows);
      if (!ex) return std::move(ex).error();
      face = FaceJson(ex->faces.front(), params);
      if (params.extract_exif) exif = ExifJson(ex->exif);
    }
    if (rows.size() != 1) return core::InternalError("extractor: expected one descriptor");
    const int64_t now = core::NowMillis();
    store::Person person;
    person.id = core::NewUuid4();
    person.account_id = c.who.account_id;
    person.user_data = user_data->value_or("");
    person.external_id = *external_id;
    person.create_time_ms = person.last_update_ms = now;
    if (auto st = store_.CreatePersonWithDescriptor(person, rows.front(), h->policies.list_id, now); !st) {
      // Nothing was inserted: the prepared portrait files are orphans; remove them now (the
      // start-up sweep would too).
      RemovePortraits(ctx, rows);
      return std::move(st).error();
    }
    json::object out{{"person_id", person.id}, {"face", std::move(face)}};
    if (exif) out["exif"] = std::move(*exif);
    return Json(201, out);
  });

  Route("POST", "/4/handlers/verify", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (!engine_ || !portraits_) return EngineMissing();
    if (!matcher_) return MatcherMissing();
    auto person_id = UuidParam(c.req, "person_id", true);
    if (!person_id) return std::move(person_id).error();
    auto warped = ParseWarped(c.req);
    if (!warped) return std::move(warped).error();
    auto in = ReadInput(c.req);
    if (!in) return std::move(in).error();
    auto h = LoadHandler(store_, c.who.account_id, HandlerType::Verify, policy_defaults());
    if (!h) return std::move(h).error();
    auto person = store_.GetPerson(c.who.account_id, **person_id);
    if (!person) return std::move(person).error();
    if (!person->has_value()) return core::MakeError(Errc::PersonNotFoundRef);

    auto probe = StoreProbe({*engine_, store_, *portraits_}, c.who.account_id, c.req, *in, h->policies, *warped);
    if (!probe) return std::move(probe).error();
    if (auto st = CatchUpForRequest(); !st) return st.error();
    Context ctx{store_, *matcher_, c.who.account_id};
    auto index = matcher_->index();
    auto pid = match::ParseId(**person_id);
    if (!pid) return core::InternalError("verify: person id is not a uuid");
    const ResolvedCandidates cands{match::Target::PersonIds({*pid}), true};
    auto found = TopK(ctx, *index, {probe->values}, cands, 1);
    if (!found) return std::move(found).error();
    auto arr = RenderCandidates(ctx, *found, true);
    if (!arr) return std::move(arr).error();
    // The candidate is returned even below the threshold; status says whether it passed.
    const bool status = !arr->empty() && Similarity(found->front().cosine) >= h->policies.verify_threshold;
    return Json(201, WithFace(json::object{{"status", status}, {"candidates", std::move(*arr)}}, *probe));
  });

  Route("POST", "/4/handlers/identify", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (!engine_ || !portraits_) return EngineMissing();
    if (!matcher_) return MatcherMissing();
    auto warped = ParseWarped(c.req);
    if (!warped) return std::move(warped).error();
    auto in = ReadInput(c.req);
    if (!in) return std::move(in).error();
    auto h = LoadHandler(store_, c.who.account_id, HandlerType::Identify, policy_defaults());
    if (!h) return std::move(h).error();
    // The policy list must be the account's persons list (unset, deleted since the PATCH or
    // of the wrong type: 22003 / 22010), checked before the probe is stored.
    if (!h->policies.list_id) return core::MakeError(Errc::ListNotFoundRef);
    if (auto st = RequirePersonsList(store_, c.who.account_id, *h->policies.list_id); !st) return st.error();
    auto lid = match::ParseId(*h->policies.list_id);
    if (!lid) return core::InternalError("identify: list id is not a uuid");

    auto probe = StoreProbe({*engine_, store_, *portraits_}, c.who.account_id, c.req, *in, h->policies, *warped);
    if (!probe) return std::move(probe).error();
    if (auto st = CatchUpForRequest(); !st) return st.error();
    Context ctx{store_, *matcher_, c.who.account_id};
    auto index = matcher_->index();
    const ResolvedCandidates cands{match::Target::PersonsList(*lid), true};
    auto found = TopK(ctx, *index, {probe->values}, cands, static_cast<std::size_t>(h->policies.limit));
    if (!found) return std::move(found).error();
    std::vector<match::Candidate> kept;
    for (const auto& cand : *found)
      if (Similarity(cand.cosine) >= h->policies.identify_threshold) kept.push_back(cand);
    auto arr = RenderCandidates(ctx, kept, true);
    if (!arr) return std::move(arr).error();
    return Json(201, WithFace(json::object{{"candidates", std::move(*arr)}}, *probe));
  });
}

}  // namespace api
