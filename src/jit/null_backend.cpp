// Hosts without a JIT backend yet (AArch64 is next): no code generation;
// the Jit then runs everything in the interpreter and says so.
#include "jit/backend.h"

namespace disco::jit {

std::unique_ptr<Backend> make_host_backend() { return nullptr; }
bool host_backend_available() { return false; }

}  // namespace disco::jit
