// Boot images (kernel, initrd) loaded once per machine: the first VM that
// boots a file loads it into its own pages, which are then pinned here and
// shared copy-on-write; later VMs booting the same file at the same guest
// address map those machine pages instead of loading it again.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "board/elf_loader.h"
#include "monitor/guest_memory.h"

namespace disco {

class BootImageCache {
 public:
  explicit BootImageCache(MachineMemory& mm) : mm_(mm) {}
  ~BootImageCache();
  BootImageCache(const BootImageCache&) = delete;
  BootImageCache& operator=(const BootImageCache&) = delete;

  // A file as loaded at one guest-physical address, in one byte order.
  struct Key {
    std::string kind;  // "kernel", "initrd"
    uint64_t dev = 0, ino = 0, size = 0, mtime_ns = 0;
    uint64_t paddr = 0;  // where it was placed (0 for an ELF: its own addresses)
    bool big_endian = false;
    auto tie() const { return std::tie(kind, dev, ino, size, mtime_ns, paddr, big_endian); }
    bool operator<(const Key& o) const { return tie() < o.tie(); }
  };
  // Identifies `path` (false if it cannot be examined).
  static bool key_for(const std::string& path, const std::string& kind, uint64_t paddr, bool big_endian, Key& out);

  struct Entry {
    ElfImage elf;               // for kernels
    uint64_t bytes = 0;         // for initrds: the file's size
    std::vector<std::pair<uint64_t, MPage>> pages;  // guest page address -> machine page
  };
  // Maps a cached image into `gm` (every page present in its RAM); null if
  // there is none for `key` or it does not fit this VM's memory.
  const Entry* map_into(const Key& key, GuestMemory& gm);
  // Pins the pages `gm` holds in [lo, hi) as the image for `key`.
  void publish(const Key& key, GuestMemory& gm, uint64_t lo, uint64_t hi, const Entry& meta);

  // Drops the images some of whose pages no VM maps any more (every VM
  // wrote over them): they only cost memory now, and a later VM that boots
  // the file loads it again. Returns the machine pages released.
  uint64_t trim();

  uint64_t pinned_pages() const;
  uint64_t hits() const { return hits_; }

 private:
  MachineMemory& mm_;
  std::map<Key, Entry> entries_;
  uint64_t hits_ = 0;
};

}  // namespace disco
