// The MMIO map passes the requesting processor to devices that want it,
// and devices that do not override read_by/write_by keep working.
#include <gtest/gtest.h>

#include "devices/mmio.h"
#include "devices/power.h"

namespace disco {
namespace {

class Recorder : public MmioDevice {
 public:
  bool read(uint64_t, unsigned, uint64_t& value) override {
    value = 0xaa;
    return true;
  }
  bool write(uint64_t, unsigned, uint64_t) override { return true; }
  bool read_by(unsigned cpu, uint64_t offset, unsigned, uint64_t& value) override {
    last_cpu = cpu;
    value = offset;
    return true;
  }
  bool write_by(unsigned cpu, uint64_t, unsigned, uint64_t value) override {
    last_cpu = cpu;
    last_value = value;
    return true;
  }
  unsigned last_cpu = ~0u;
  uint64_t last_value = 0;
};

TEST(MmioMap, PassesTheRequesterToDevices) {
  MmioMap map;
  Recorder rec;
  ASSERT_TRUE(map.add(0x1000, 0x100, &rec));
  uint64_t v = 0;
  ASSERT_TRUE(map.read_by(3, 0x1010, 4, v));
  EXPECT_EQ(rec.last_cpu, 3u);
  EXPECT_EQ(v, 0x10u);
  ASSERT_TRUE(map.write_by(2, 0x1000, 4, 77));
  EXPECT_EQ(rec.last_cpu, 2u);
  EXPECT_EQ(rec.last_value, 77u);
  // The untagged entry points are processor 0's.
  ASSERT_TRUE(map.read(0x1020, 4, v));
  EXPECT_EQ(rec.last_cpu, 0u);
  EXPECT_EQ(v, 0x20u);
  EXPECT_FALSE(map.read_by(1, 0x2000, 4, v));  // no device there
}

TEST(MmioMap, DevicesWithoutRequesterIgnoreIt) {
  MmioMap map;
  int status = -1;
  PowerDevice power([&](PowerDevice::Request, int s) { status = s; });
  ASSERT_TRUE(map.add(0x1fd00000, 0x1000, &power));
  ASSERT_TRUE(map.write_by(5, 0x1fd00008, 4, 42));
  EXPECT_EQ(status, 42);
}

}  // namespace
}  // namespace disco
