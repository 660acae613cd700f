// ThreadSanitizer suppressions for the smp tests (used only when the
// binary is built with -Db_sanitize=thread; TSan asks for them itself).
//
// Guest memory is shared by the processors and the guest programs race
// on it on purpose (a flag one processor spins on while another writes
// it, a counter written while the test reads it): the interpreter's
// accesses to guest RAM are plain loads and stores, like the guest's own
// on hardware, and generated code is not instrumented at all. Only those
// accesses are suppressed: the guest-memory accessors and the decoder's
// snapshot of a page. Everything the concurrency contract itself shares
// (mailboxes, the code-page registry, events, irq lines, the idle gate)
// stays checked; the soft TLBs are only ever touched by their owners.
extern "C" const char* __tsan_default_suppressions() {
  return "race:disco::mem::load_slow\n"
         "race:disco::mem::store_slow\n"
         "race:disco::mem::load<\n"
         "race:disco::mem::store<\n"
         "race:disco::Cpu::decoded_page\n";
}
