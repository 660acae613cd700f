/* An engineering-like workload for bench/numa: one process doing the
 * memory-bound kinds of work of a compile and a compression, over working
 * sets well beyond the modelled 1 MiB secondary cache, with reuse (so the
 * pages it misses on stay hot long enough for the policy to see them).
 *
 *   symbols   a chained hash table of NSYM 64-byte symbol records, looked
 *             up ROUNDS times in a pseudo-random order (a compiler's symbol
 *             and type tables: pointer chasing);
 *   lz        LZ77-style match finding over a BUF-byte text with a
 *             TABLE-entry position table (a compressor: streaming input,
 *             random table reads and writes).
 *
 * usage: eng [scale [seed]]   (scale 1 = about 0.3 G guest instructions)
 * Prints "ENG-RESULT <checksum>" — the same for every run with the same
 * scale and seed, whatever the NUMA policy (a wrong page copy changes it).
 * VMs running it with different seeds do different work on different data
 * (with one seed their pages would stay equal, and page sharing would
 * merge them again and again).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sym {
  struct sym* next;
  uint64_t key;
  uint64_t value;
  char name[40];
};

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint64_t symbols(unsigned nsym, unsigned rounds) {
  const unsigned nbuckets = nsym / 2;
  struct sym** buckets = calloc(nbuckets, sizeof *buckets);
  struct sym* pool = malloc((size_t)nsym * sizeof *pool);
  if (!buckets || !pool) { puts("ENG-ERROR out of memory"); exit(1); }
  for (unsigned i = 0; i < nsym; ++i) {
    struct sym* s = &pool[i];
    s->key = (uint64_t)i * 0x9E3779B97F4A7C15ull;
    s->value = i;
    /* a short name, cheaply: the table, not the formatting, is the point */
    s->name[0] = 's';
    for (unsigned k = 1; k < 8; ++k) s->name[k] = (char)('a' + ((i >> (3 * k)) & 15));
    s->name[8] = 0;
    unsigned b = (unsigned)(s->key >> 33) % nbuckets;
    s->next = buckets[b];
    buckets[b] = s;
  }
  uint64_t sum = 0;
  for (unsigned r = 0; r < rounds; ++r) {
    for (unsigned j = 0; j < nsym; ++j) {
      unsigned i = (unsigned)(next_rand() % nsym);
      uint64_t key = (uint64_t)i * 0x9E3779B97F4A7C15ull;
      unsigned b = (unsigned)(key >> 33) % nbuckets;
      for (struct sym* s = buckets[b]; s; s = s->next) {
        if (s->key == key) {
          s->value += r;  /* a compiler updates what it looks up */
          sum += s->value + (unsigned char)s->name[4];
          break;
        }
      }
    }
  }
  free(pool);
  free(buckets);
  return sum;
}

static uint64_t lz(unsigned buf_bytes, unsigned table_bits, unsigned passes) {
  static const char* words[] = {"the", "of", "memory", "page", "node", "cache", "miss", "local",
                                "remote", "migrate", "replicate", "disco", "virtual", "machine",
                                "monitor", "processor"};
  unsigned char* text = malloc(buf_bytes);
  uint32_t* table = malloc(sizeof(uint32_t) << table_bits);
  if (!text || !table) { puts("ENG-ERROR out of memory"); exit(1); }
  /* Mostly random letters with a few words: little to match, so every
   * position probes the table (a compressor's worst case, and its
   * memory-bound one). */
  for (unsigned i = 0; i < buf_bytes;) {
    if ((next_rand() & 15) == 0) {
      const char* w = words[next_rand() % 16];
      size_t n = strlen(w);
      for (size_t k = 0; k < n && i < buf_bytes; ++k) text[i++] = (unsigned char)w[k];
    } else {
      text[i++] = (unsigned char)('a' + next_rand() % 26);
    }
  }
  uint64_t sum = 0;
  const uint32_t mask = (1u << table_bits) - 1;
  for (unsigned p = 0; p < passes; ++p) {
    memset(table, 0xff, sizeof(uint32_t) << table_bits);
    uint64_t matched = 0, literals = 0;
    for (unsigned i = 0; i + 8 < buf_bytes;) {
      uint32_t v;
      memcpy(&v, text + i, 4);
      uint32_t h = ((v * 2654435761u) >> (32 - table_bits)) & mask;
      uint32_t cand = table[h];
      table[h] = i;
      unsigned len = 0;
      if (cand != 0xffffffffu && cand < i)
        while (len < 64 && i + len < buf_bytes && text[cand + len] == text[i + len]) ++len;
      if (len >= 4) {
        matched += len;
        sum = sum * 31 + (i - cand) + len;
        i += len;
      } else {
        ++literals;
        sum = sum * 31 + text[i];
        ++i;
      }
    }
    sum += matched * 7 + literals;
  }
  free(text);
  free(table);
  return sum;
}

int main(int argc, char** argv) {
  unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
  if (scale == 0) scale = 1;
  if (argc > 2) rng += (uint64_t)strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ull;
  uint64_t a = symbols(400000, 8 * scale);
  uint64_t b = lz(2u << 20, 22, 2 * scale);
  printf("ENG-RESULT %016llx\n", (unsigned long long)(a ^ (b * 3)));
  return 0;
}
