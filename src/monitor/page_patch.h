// Sub-page sharing (as in the Difference Engine, OSDI '08): a page that
// differs from a reference page in a few places is stored as the reference
// plus a patch, the words that differ. Used by the sharing scan for cold
// pages that are almost, but not quite, equal to the page at the same
// guest-physical address in another VM (pointers, counters, random keys in
// otherwise equal kernel data).
//
// Patch format: records of { uint16 header: first byte (bits 0-11) and
// length - 1 (bits 12-15, so 1 to 16 bytes); that many bytes of the page },
// in increasing address order. A run swallows gaps of up to two equal
// bytes rather than pay a new header. (Measured on two Debian guests'
// nearly equal kernel pages: about 390 bytes per page, against 780 with
// 8-byte-word runs.) The patch is monitor data, never guest input;
// apply_patch still checks every record against the page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace disco {

// Builds the patch that turns `ref` into `page` (both kPageSize bytes).
// False, with `out` unspecified, when it would be longer than `max_bytes`.
bool make_patch(const uint8_t* ref, const uint8_t* page, size_t max_bytes, std::vector<uint8_t>& out);

// Writes `ref` with `patch` applied to `out` (kPageSize bytes). False if the
// patch is malformed (a monitor bug); `out` then holds the reference.
bool apply_patch(const uint8_t* ref, const std::vector<uint8_t>& patch, uint8_t* out);

}  // namespace disco
