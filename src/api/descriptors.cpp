// (being written)
#include "api/api.hpp"

namespace api {
void Api::AddDescriptorRoutes() {}
}  // namespace api
