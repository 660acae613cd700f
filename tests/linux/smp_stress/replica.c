/* Stale-replica check for the NUMA policy (tests/linux/smp_stress.py
 * --numa): one writer thread and READERS reader threads share a buffer of
 * PAGES pages, larger than the modelled cache so that reading it misses.
 * Each generation:
 *   1. every thread reads the whole buffer ROUNDS times (read-shared by
 *      several nodes: Disco replicates the pages);
 *   2. barrier; the writer stores the generation number into every word
 *      (each store to a replicated page collapses its replicas);
 *   3. barrier; every reader checks every word holds the new generation.
 * A reader that still reached an old replica after the writer's stores
 * would see the previous generation: REPLICA-STALE, exit 1.
 *
 * usage: replica [readers] [generations] [pages] [rounds]
 * Prints "REPLICA-RESULT generations=G stale=0 REPLICA-OK" on success.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile uint64_t* buf;
static size_t words;
static unsigned readers, generations, rounds;
static pthread_barrier_t bar;
static volatile unsigned long stale;

static uint64_t read_all(void) {
  uint64_t s = 0;
  for (size_t i = 0; i < words; i += 16) s += buf[i];  /* one word per 128-byte line */
  return s;
}

static void* reader(void* arg) {
  (void)arg;
  uint64_t sink = 0;
  for (unsigned g = 1; g <= generations; ++g) {
    for (unsigned r = 0; r < rounds; ++r) sink += read_all();
    pthread_barrier_wait(&bar);  /* the writer writes */
    pthread_barrier_wait(&bar);
    for (size_t i = 0; i < words; ++i) {
      if (buf[i] != g) {
        __atomic_fetch_add(&stale, 1, __ATOMIC_RELAXED);
        printf("REPLICA-STALE gen=%u word=%zu value=%llu\n", g, i, (unsigned long long)buf[i]);
        break;
      }
    }
  }
  return (void*)(uintptr_t)sink;
}

int main(int argc, char** argv) {
  readers = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
  generations = argc > 2 ? (unsigned)atoi(argv[2]) : 20;
  size_t pages = argc > 3 ? (size_t)atol(argv[3]) : 512;
  rounds = argc > 4 ? (unsigned)atoi(argv[4]) : 4;
  if (readers < 1 || readers > 32 || generations < 1 || pages < 1) { puts("REPLICA-ERROR usage"); return 2; }
  words = pages * 4096 / sizeof(uint64_t);
  buf = calloc(words, sizeof(uint64_t));
  if (!buf) { puts("REPLICA-ERROR out of memory"); return 1; }
  pthread_barrier_init(&bar, NULL, readers + 1);
  pthread_t tid[32];
  for (unsigned t = 0; t < readers; ++t)
    if (pthread_create(&tid[t], NULL, reader, NULL) != 0) { puts("REPLICA-ERROR pthread_create"); return 1; }
  uint64_t sink = 0;
  for (unsigned g = 1; g <= generations; ++g) {
    for (unsigned r = 0; r < rounds; ++r) sink += read_all();
    pthread_barrier_wait(&bar);
    for (size_t i = 0; i < words; ++i) buf[i] = g;
    pthread_barrier_wait(&bar);
  }
  for (unsigned t = 0; t < readers; ++t) pthread_join(tid[t], NULL);
  printf("REPLICA-RESULT generations=%u pages=%zu readers=%u stale=%lu sink=%llu %s\n", generations, pages, readers,
         stale, (unsigned long long)(sink & 1), stale ? "REPLICA-FAIL" : "REPLICA-OK");
  return stale ? 1 : 0;
}
