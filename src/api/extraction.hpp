#pragma once
// The extraction pipeline shared by POST /4/storage/descriptors, search and the handlers:
// read the image body, parse the estimation/threshold query parameters of the reference,
// run the face engine, drop faces by thresholds, store each face's descriptor with its
// portrait and thumbnails, and render faces as API.md §5 face objects.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "face/engine.hpp"
#include "http/message.hpp"
#include "store/portraits.hpp"
#include "store/store.hpp"

namespace api {

struct ExtractionParams {
  face::EstimateRequest estimate;  // age_gender = estimate_attributes, emotions, ethnicities, quality, pose
  bool report_head_pose = false;   // estimate_head_pose=1 or any angle threshold given
  double score_threshold = 0;      // 0..1
  std::optional<double> pitch_lt, yaw_lt, roll_lt;  // only thresholds inside 0..180 (others ignored)
  bool warped = false;
  bool extract_descriptor = true;
  bool extract_exif = false;
};

// Query parameters of descriptor extraction (reference: "create descriptors"). With
// allow_no_descriptor=false, extract_descriptor=0 is refused with 12018 (search).
core::Result<ExtractionParams> ParseExtractionParams(const http::Request& req, bool allow_no_descriptor = true);

// The request's media type: Content-Type without parameters, lower-cased, trailing blanks
// removed ("" when absent).
std::string RequestMediaType(const http::Request& req);

struct ImageBody {
  std::string bytes;  // base64 already decoded
  face::ImageFormat format;
};
// The body as an image of one of the reference's image content types (12017 otherwise,
// 18001 for bad base64, 12025 for magic bytes that disagree are reported by Decode).
core::Result<ImageBody> ReadImageBody(const http::Request& req);

struct ExtractedFace {
  face::FaceObject face;
  std::optional<std::string> descriptor_id;  // set when stored
};

struct Extraction {
  std::vector<ExtractedFace> faces;                         // best score first
  std::vector<std::pair<std::string, std::string>> exif;    // with extract_exif
};

struct ExtractionContext {
  face::Engine& engine;
  store::Store& store;
  store::PortraitStore& portraits;
};

// Decodes, detects (or takes the warped face), estimates, applies thresholds (NoFaces when
// nothing was found, FacesFilteredOut when thresholds removed every face) and, with
// extract_descriptor, stores every remaining face's descriptor and portrait files for the
// account: portrait files first (crash-safe), then all descriptor rows in one transaction.
// max_faces limits the faces kept (after thresholds), -1 = engine default. single_face (search):
// more than one face left after thresholds is TooManyFaces, before anything is stored.
core::Result<Extraction> ExtractAndStore(const ExtractionContext& ctx, const std::string& account_id,
                                         const ImageBody& image, const ExtractionParams& params, int max_faces = -1,
                                         bool single_face = false);

// ExtractAndStore without the final insert: everything up to and including the portrait
// files, with the descriptor rows to insert in `rows` (one per kept face, in face order). The
// caller inserts them (its own transaction, e.g. CreatePersonWithDescriptor) and, when that
// fails, calls RemovePortraits(rows). On failure nothing is left behind (rows is empty).
core::Result<Extraction> ExtractAndPrepare(const ExtractionContext& ctx, const std::string& account_id,
                                           const ImageBody& image, const ExtractionParams& params, int max_faces,
                                           bool single_face, std::vector<store::Descriptor>& rows);
// Removes the portrait files of rows that were prepared but not inserted.
void RemovePortraits(const ExtractionContext& ctx, const std::vector<store::Descriptor>& rows);

// A descriptor sent as application/x-vl-face-descriptor (raw) or its -base64 variant: decoded
// (18001 for bad base64, 12022 naming the expected version/size), stored without a portrait
// for the account, and returned as stored (values included).
core::Result<store::Descriptor> StoreUploadedDescriptor(const ExtractionContext& ctx, const std::string& account_id,
                                                        const std::string& body, bool base64);
// The same descriptor decoded and checked but not stored (the caller inserts it).
core::Result<store::Descriptor> DecodeUploadedDescriptor(const ExtractionContext& ctx, const std::string& account_id,
                                                         const std::string& body, bool base64);

// The face object of API.md §5 (only the requested attributes).
boost::json::object FaceJson(const ExtractedFace& face, const ExtractionParams& params);
boost::json::object ExifJson(const std::vector<std::pair<std::string, std::string>>& exif);

}  // namespace api
