/*
 * gdbtarget: a small program for the gdb stub tests (tests/debug/gdb_session.py).
 * bump() is called ten times from a loop and adds its argument to a global
 * counter; main checks the sum of what it returned (165) and powers off with
 * status 0.  A debugger that changes `counter` on the way changes the sum,
 * and the program then powers off with status 3, so the test sees memory
 * writes take effect.
 */
#include "disco.h"

volatile u64 counter;

u64 __attribute__((noinline)) bump(u64 x)
{
	counter += x;
	return counter;
}

int main(void)
{
	u64 sum = 0;
	for (u64 i = 0; i < 10; i++)
		sum += bump(i);
	printf("gdbtarget: sum %u\n", (u32)sum);
	if (sum != 165) {
		printf("FAIL: sum %u, expected 165\n", (u32)sum);
		return 3;
	}
	printf("PASS\n");
	return 0;
}
