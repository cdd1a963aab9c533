#pragma once
// Internal error kinds shared by every module. Modules speak only in these kinds; the one
// table in api/errors.cpp maps each kind to a LUNA error_code, HTTP status and detail text.
// Adding a kind without a row there fails the error-table unit test.
#include <string_view>

namespace core {

enum class Errc {
  Internal,                   // unexpected failure; details go to the log only
  ImageDecode,                // bytes are not a decodable image of the declared type
  ImageTooSmall,              // args: width, height, min_w, min_h
  ImageTooLarge,              // args: width, height, max_w, max_h
  NoFaces,                    // no face on the image
  BadCredentials,             // wrong login/password, unknown or deleted token
  AccountSuspended,
  EmailExists,
  TooManyFaces,               // search by photo found several faces
  DescriptorAlreadyAttached,
  DescriptorNotFound,         // on the descriptor's own resource (404); args: id
  DescriptorNotFoundRef,      // referenced from another request (400); args: id
  ObjectsNotFound,            // args: "descriptors" | "persons"
  TokenNotFound,
  PortraitNotFound,
  FacesFilteredOut,           // every face removed by thresholds
  AuthTokenNotUuid,           // X-Auth-Token is not a uuid4
  NoJson,                     // body required but not JSON
  NoAuthHeaders,              // args: which headers ("X-Auth-Token or Authorization" / "Authorization")
  BadQueryParam,              // args: name
  PageNotFound,
  MissingQueryParam,          // args: name(s)
  BadContentType,
  UnsupportedParam,           // args: name
  MethodNotAllowed,
  JsonValidation,             // args: path, message
  UnsupportedMediaType,
  ContentTypeMismatch,
  XpkParse,
  Base64Decode,
  FaceNotFound,
  ListNotFound,               // own resource (404)
  ListNotFoundRef,            // referenced (400)
  PersonNotFound,             // own resource (404)
  PersonNotFoundRef,          // referenced (400)
  WrongListType,              // args: "persons" | "descriptors"
  BodyTooLarge,
  DescriptorVersionMismatch,  // args: got, expected
  DescriptorFormat,           // args: what is wrong (size, magic)
  EstimatorUnavailable,       // args: estimator name (no model configured)
  TooManyRequests,            // failed-authentication rate limit
  HealthCheckFailed,          // args: failing components
  BadHttpRequest,             // the HTTP message itself could not be parsed
  MalformedMultipart,         // args: what is wrong (a multipart/form-data body that does not parse)
  LimitExceeded,              // args: which limit (too many images / parts, a part too large)
  LivenessOnSample,           // liveness asked for a warped sample instead of a whole frame
  kCount_                     // sentinel, keep last
};

inline constexpr int kErrcCount = static_cast<int>(Errc::kCount_);

// Stable identifier of the kind (used in logs and the error-table test).
std::string_view ErrcName(Errc e);

}  // namespace core
