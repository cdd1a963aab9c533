// (being written)
#include "api/api.hpp"

namespace api {
void Api::AddPersonRoutes() {}
}  // namespace api
