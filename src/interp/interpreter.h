// The interpreter: the executable specification of the processor.
#pragma once

#include <cstdint>

#include "frontend/insn.h"
#include "cpu/cpu.h"

namespace disco {

enum class StopReason {
  Budget,  // reached the cycle limit
  Wait,    // WAIT with no interrupt to take: the caller advances time
  Stop,    // EV_STOP was raised (power-off, host request)
  Breakpoint,  // s.pc is at a debugger breakpoint (Cpu::breakpoints); not executed
};

namespace interp {

// Installs the interpreter's lazy decoder into a CPU's code cache.
void attach(Cpu& c);
// Runs until s.cycles reaches `cycle_limit`, a WAIT idles, EV_STOP, or
// (only while Cpu::breakpoints is not empty) s.pc reaches a breakpoint.
StopReason run(Cpu& c, uint64_t cycle_limit);
// Executes exactly one instruction (or takes one exception/interrupt).
StopReason step(Cpu& c);
// Pieces of the run loop shared with the JIT's dispatcher:
// The slow path between instructions (timer, limit, interrupts, WAIT,
// stop). Returns false with `why` when the loop must return.
bool service_events(Cpu& c, uint64_t limit, uint64_t& stop_at, StopReason& why);
// Makes s.pc's page the fetch page, or delivers the fetch exception and
// returns false.
bool fetch(Cpu& c);
// Executes one instruction with the delay-slot epilogue (no event checks).
void execute_one(Cpu& c);
// Handler for an op (for tests and the JIT's fallbacks).
InsnHandler handler(Op op);

}  // namespace interp
}  // namespace disco
