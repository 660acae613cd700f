/*
 * hello: smoke test.  Prints a greeting, the CPU identification and the
 * Config registers, and checks the few Config fields the board promises.
 */
#include "disco.h"

int main(void)
{
	printf("hello from disco guest\n");

	u32 prid = read_c0_prid();
	u32 c0 = read_c0_config();
	printf("PRId    = 0x%08x (company %02x, processor %02x, revision %02x)\n",
	       prid, (prid >> 16) & 0xff, (prid >> 8) & 0xff, prid & 0xff);
	printf("Config  = 0x%08x (BE=%u AT=%u AR=%u MT=%u K0=%u)\n", c0,
	       (c0 >> 15) & 1, (c0 >> 13) & 3, (c0 >> 10) & 7, (c0 >> 7) & 7, c0 & 7);

	u32 c1 = 0, c2 = 0, c3 = 0;
	if (c0 & 0x80000000u) {
		c1 = read_c0_config1();
		printf("Config1 = 0x%08x (MMUSize-1=%u FP=%u)\n", c1, (c1 >> 25) & 0x3f, c1 & 1);
		if (c1 & 0x80000000u) {
			c2 = read_c0_config2();
			printf("Config2 = 0x%08x\n", c2);
			if (c2 & 0x80000000u) {
				c3 = read_c0_config3();
				printf("Config3 = 0x%08x\n", c3);
			}
		}
	}
	printf("EBase   = 0x%08x (vectors at %016lx)\n", read_c0_ebase(), exc_vector_base());
	printf("Status  = 0x%08x\n", read_c0_status());

#ifdef __MIPSEB__
	CHECK(((c0 >> 15) & 1) == 1, "Config.BE=0 on a big-endian CPU");
#else
	CHECK(((c0 >> 15) & 1) == 0, "Config.BE=1 on a little-endian CPU");
#endif
	CHECK(((c0 >> 13) & 3) == 2, "Config.AT=%u, expected 2 (MIPS64)", (c0 >> 13) & 3);
	CHECK(((c0 >> 10) & 7) == 1, "Config.AR=%u, expected 1 (Release 2)", (c0 >> 10) & 7);
	CHECK(((c0 >> 7) & 7) == 1, "Config.MT=%u, expected 1 (TLB)", (c0 >> 7) & 7);
	CHECK(c0 & 0x80000000u, "Config.M=0: no Config1");
	CHECK(((c1 >> 25) & 0x3f) == 63, "Config1.MMUSize-1=%u, expected 63", (c1 >> 25) & 0x3f);
	CHECK((read_c0_status() & (ST_ERL | ST_EXL | ST_BEV)) == 0,
	      "Status.ERL/EXL/BEV not clear after crt0");

	printf("PASS\n");
	return 0;
}
