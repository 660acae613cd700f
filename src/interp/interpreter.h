// The interpreter: the executable specification of the processor.
#pragma once

#include <cstdint>

#include "frontend/insn.h"
#include "monitor/cpu.h"

namespace disco {

enum class StopReason {
  Budget,  // reached the cycle limit
  Wait,    // WAIT with no interrupt to take: the caller advances time
  Stop,    // EV_STOP was raised (power-off, host request)
};

namespace interp {

// Installs the interpreter's lazy decoder into a CPU's code cache.
void attach(Cpu& c);
// Runs until s.cycles reaches `cycle_limit`, a WAIT idles, or EV_STOP.
StopReason run(Cpu& c, uint64_t cycle_limit);
// Executes exactly one instruction (or takes one exception/interrupt).
StopReason step(Cpu& c);
// Handler for an op (for tests and the JIT's fallbacks).
InsnHandler handler(Op op);

}  // namespace interp
}  // namespace disco
