// Family D: descriptors (extraction, upload, export), their linked lists, and portraits.
#include <boost/json.hpp>

#include "api/api.hpp"
#include "api/extraction.hpp"
#include "api/objects.hpp"
#include "api/query.hpp"
#include "api/respond.hpp"
#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"
#include "face/descriptor_codec.hpp"

namespace api {
namespace json = boost::json;
using core::Errc;

namespace {
constexpr const char* kDescriptorType = "application/x-vl-face-descriptor";

bool Accepts(const http::Request& req, std::string_view mime) {
  const std::string* a = req.Header("Accept");
  return a && a->find(mime) != std::string::npos;
}

core::Error EngineMissing() { return core::InternalError("the face engine is not loaded (see models_failed at start-up)"); }
}  // namespace

void Api::AddDescriptorRoutes() {
  Route("POST", "/4/storage/descriptors", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    if (!engine_ || !portraits_) return EngineMissing();
    std::string mime = RequestMediaType(c.req);
    if (mime == "application/x-vl-xpk" || mime == "application/x-vl-xpk-base64") return core::MakeError(Errc::XpkParse);
    if (mime == kDescriptorType || mime == std::string(kDescriptorType) + "-base64") {
      // Upload of a descriptor exported by GET …/descriptors/{id} (or another installation).
      auto d = StoreUploadedDescriptor({*engine_, store_, *portraits_}, c.who.account_id, c.req.body,
                                       mime != kDescriptorType);
      if (!d) return std::move(d).error();
      return Json(201, json::object{{"faces", json::array{json::object{{"id", d->id}}}}});
    }
    auto params = ParseExtractionParams(c.req);
    if (!params) return std::move(params).error();
    auto body = ReadImageBody(c.req);
    if (!body) return std::move(body).error();
    auto ex = ExtractAndStore({*engine_, store_, *portraits_}, c.who.account_id, *body, *params);
    if (!ex) return std::move(ex).error();
    json::array faces;
    for (const auto& f : ex->faces) faces.push_back(FaceJson(f, *params));
    json::object out{{"faces", std::move(faces)}};
    if (params->extract_exif) out["exif"] = ExifJson(ex->exif);
    return Json(201, out);
  });

  Route("GET", "/4/storage/descriptors", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    auto page = ParsePagination(c.req);
    if (!page) return std::move(page).error();
    auto list = store_.ListDescriptors(c.who.account_id, {page->page, page->page_size});
    if (!list) return std::move(list).error();
    json::array arr;
    for (const auto& d : list->items) arr.push_back(DescriptorJson(d));
    return Json(200, json::object{{"descriptors", std::move(arr)}, {"count", list->count}});
  });

  Route("GET", "/4/storage/descriptors/{id}", Access::TokenOrBasic, [this](Call& c) -> core::Result<http::Response> {
    const std::string& id = c.req.path_params[0];
    auto d = store_.GetDescriptor(c.who.account_id, id);
    if (!d) return std::move(d).error();
    if (!d->has_value()) return core::Error(Errc::DescriptorNotFound, {id});
    if (Accepts(c.req, kDescriptorType)) {
      http::Response r;
      r.status = 200;
      r.body = face::EncodeDescriptor(face::Descriptor{(*d)->version, (*d)->values});
      r.Set("Content-Type", kDescriptorType);
      return r;
    }
    return Json(200, DescriptorJson(**d));
  });

  Route("GET", "/4/storage/descriptors/{id}/linked_lists", Access::TokenOrBasic,
        [this](Call& c) -> core::Result<http::Response> {
          const std::string& id = c.req.path_params[0];
          auto d = store_.GetDescriptor(c.who.account_id, id);
          if (!d) return std::move(d).error();
          if (!d->has_value()) return core::Error(Errc::DescriptorNotFound, {id});
          return Json(200, json::object{{"lists", IdArray((*d)->lists)}});
        });

  Route("PATCH", "/4/storage/descriptors/{id}/linked_lists", Access::TokenOrBasic,
        [this](Call& c) -> core::Result<http::Response> {
          const std::string& id = c.req.path_params[0];
          auto list_id = UuidParam(c.req, "list_id", true);
          if (!list_id) return std::move(list_id).error();
          auto action = EnumParam(c.req, "do", {"attach", "detach"}, true);
          if (!action) return std::move(action).error();
          auto d = store_.GetDescriptor(c.who.account_id, id);
          if (!d) return std::move(d).error();
          if (!d->has_value()) return core::Error(Errc::DescriptorNotFound, {id});
          auto st = store_.LinkList(c.who.account_id, **list_id, store::ListType::Descriptors,
                                    **action == "attach" ? store::LinkAction::Attach : store::LinkAction::Detach, {id},
                                    core::NowMillis());
          if (!st) {
            if (st.error().code == Errc::WrongListType) return WrongListTypeError(store::ListType::Descriptors);
            if (st.error().code == Errc::ObjectsNotFound) return core::Error(Errc::DescriptorNotFound, {id});  // deleted meanwhile
            return std::move(st).error();
          }
          return NoContent();
        });

  auto portrait = [this](Call& c, std::string_view suffix) -> core::Result<http::Response> {
    if (!portraits_) return EngineMissing();
    const std::string& id = c.req.path_params[0];
    auto d = store_.GetDescriptor(c.who.account_id, id);
    if (!d) return std::move(d).error();
    if (!d->has_value()) return core::Error(Errc::DescriptorNotFound, {id});
    if (!(*d)->has_portrait) return core::MakeError(Errc::PortraitNotFound);
    // Portraits never change for a descriptor id, so the id and size make a strong ETag.
    std::string etag = "\"" + id + std::string(suffix) + "\"";
    http::Response r;
    r.Set("ETag", etag);
    r.Set("Cache-Control", "private, max-age=86400");
    if (const std::string* inm = c.req.Header("If-None-Match"); inm && (*inm == etag || *inm == "*")) {
      r.status = 304;
      return r;
    }
    auto bytes = portraits_->Get(id, suffix);
    if (!bytes) return std::move(bytes).error();
    if (!bytes->has_value()) return core::InternalError("portrait file missing for descriptor " + id);
    r.status = 200;
    r.body = std::move(**bytes);
    r.Set("Content-Type", "image/jpeg");
    return r;
  };
  Route("GET", "/4/storage/portraits/{id}", Access::TokenOrBasic,
        [portrait](Call& c) { return portrait(c, ""); });
  Route("GET", "/4/storage/portraits/{id}_{thumb}", Access::TokenOrBasic,
        [portrait](Call& c) { return portrait(c, "_" + c.req.path_params[1]); });
}

}  // namespace api
