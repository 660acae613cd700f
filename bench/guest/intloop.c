/* CPU-bound integer workload for interpreter/JIT throughput: a mix of
 * CRC-32 (shifts, xor, table loads), a sieve (byte stores, branches) and
 * 64-bit multiply/divide. Prints a checksum so runs can be compared. */
#include "disco.h"

#define ROUNDS 40

static unsigned crc_table[256];
static unsigned char sieve[65536];
static unsigned char buf[16384];

static void crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		unsigned c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static unsigned crc32(const unsigned char *p, unsigned long n)
{
	unsigned c = ~0u;
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static unsigned long primes(void)
{
	unsigned long n = 0;
	for (unsigned i = 0; i < sizeof sieve; i++)
		sieve[i] = 1;
	for (unsigned i = 2; i < sizeof sieve; i++) {
		if (!sieve[i])
			continue;
		n++;
		for (unsigned j = i + i; j < sizeof sieve; j += i)
			sieve[j] = 0;
	}
	return n;
}

static unsigned long mixdiv(unsigned long seed)
{
	unsigned long x = seed, acc = 0;
	for (int i = 0; i < 20000; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		acc += (x >> 17) / ((x & 0xff) + 1);
	}
	return acc;
}

int main(void)
{
	unsigned long sum = 0;
	crc_init();
	for (unsigned i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (int r = 0; r < ROUNDS; r++) {
		buf[r] ^= (unsigned char)r;
		sum += crc32(buf, sizeof buf);
		sum += primes();
		sum += mixdiv(sum);
	}
	printf("intloop checksum %016lx\n", sum);
	return 0;
}
