// Decoding a 32-bit instruction word to its table entry.
#pragma once

#include <cstdint>

#include "frontend/insn.h"

namespace disco {

// Returns the table entry matching `word`, or Op::RESERVED. Pure function.
Op decode(uint32_t word);

}  // namespace disco
