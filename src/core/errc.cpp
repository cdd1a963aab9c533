#include "core/errc.hpp"

namespace core {

std::string_view ErrcName(Errc e) {
  switch (e) {
#define FP_ERRC(x) case Errc::x: return #x;
    FP_ERRC(Internal) FP_ERRC(ImageDecode) FP_ERRC(ImageTooSmall) FP_ERRC(ImageTooLarge)
    FP_ERRC(NoFaces) FP_ERRC(BadCredentials) FP_ERRC(AccountSuspended) FP_ERRC(EmailExists)
    FP_ERRC(TooManyFaces) FP_ERRC(DescriptorAlreadyAttached) FP_ERRC(DescriptorNotFound)
    FP_ERRC(DescriptorNotFoundRef) FP_ERRC(ObjectsNotFound) FP_ERRC(TokenNotFound)
    FP_ERRC(PortraitNotFound) FP_ERRC(FacesFilteredOut) FP_ERRC(AuthTokenNotUuid) FP_ERRC(NoJson)
    FP_ERRC(NoAuthHeaders) FP_ERRC(BadQueryParam) FP_ERRC(PageNotFound) FP_ERRC(MissingQueryParam)
    FP_ERRC(BadContentType) FP_ERRC(UnsupportedParam) FP_ERRC(MethodNotAllowed)
    FP_ERRC(JsonValidation) FP_ERRC(UnsupportedMediaType) FP_ERRC(ContentTypeMismatch)
    FP_ERRC(XpkParse) FP_ERRC(Base64Decode) FP_ERRC(FaceNotFound) FP_ERRC(ListNotFound)
    FP_ERRC(ListNotFoundRef) FP_ERRC(PersonNotFound) FP_ERRC(PersonNotFoundRef)
    FP_ERRC(WrongListType) FP_ERRC(BodyTooLarge) FP_ERRC(DescriptorVersionMismatch)
    FP_ERRC(DescriptorFormat) FP_ERRC(EstimatorUnavailable) FP_ERRC(TooManyRequests)
    FP_ERRC(HealthCheckFailed) FP_ERRC(BadHttpRequest)
    FP_ERRC(MalformedMultipart) FP_ERRC(LimitExceeded) FP_ERRC(LivenessOnSample)
#undef FP_ERRC
    case Errc::kCount_: break;
  }
  return "?";
}

}  // namespace core
