/* A raytrace-like workload for bench/numa: THREADS threads (one per CPU)
 * render an image of a scene that the main thread builds first and that
 * is only read afterwards: a large array of spheres (SCENE bytes, well
 * beyond the modelled 1 MiB cache) sorted into a uniform grid. Every ray
 * walks grid cells and tests the spheres listed there, so all threads read
 * all of the scene at random (read-shared data: Disco replicates it); each
 * thread writes its own rows of the image (private data: migrated to the
 * thread's node).
 *
 * Integer (fixed-point) arithmetic, so the result does not depend on the
 * FPU. usage: ray [threads] [scale]; prints "RAY-RESULT <checksum>", the
 * same for every run with the same arguments.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define GRID 64          /* cells per axis */
#define PER_CELL 16      /* sphere slots per cell */
#define W 256
#define H 256

struct sphere {
  int32_t x, y, z, r2;   /* centre (16.16 fixed point), radius squared */
  uint32_t colour;
  uint32_t pad[3];       /* 32 bytes, as a real renderer's material refs */
};

static struct sphere* scene;
static uint32_t (*cells)[PER_CELL];   /* sphere indices per (x, y) column cell */
static uint32_t* image;
static unsigned nthreads, samples;

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t next_rand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)rng_state;
}

static void build(unsigned nspheres) {
  scene = malloc((size_t)nspheres * sizeof *scene);
  cells = malloc(sizeof(*cells) * GRID * GRID * GRID);
  image = calloc((size_t)W * H, sizeof *image);
  if (!scene || !cells || !image) { puts("RAY-ERROR out of memory"); exit(1); }
  for (unsigned c = 0; c < GRID * GRID * GRID; ++c)
    for (unsigned k = 0; k < PER_CELL; ++k) cells[c][k] = next_rand() % nspheres;
  for (unsigned i = 0; i < nspheres; ++i) {
    scene[i].x = (int32_t)(next_rand() & 0xffffff);
    scene[i].y = (int32_t)(next_rand() & 0xffffff);
    scene[i].z = (int32_t)(next_rand() & 0xffffff);
    scene[i].r2 = (int32_t)(next_rand() & 0x3ff) + 1;
    scene[i].colour = next_rand();
  }
}

/* One ray through pixel (px, py), sample s: walks GRID cells along z,
 * testing each cell's spheres; returns the colour of the first hit. */
static uint32_t trace(unsigned px, unsigned py, unsigned s) {
  uint32_t h = (px * 73856093u) ^ (py * 19349663u) ^ (s * 83492791u);
  unsigned cx = (px * GRID / W + (h & 3)) % GRID, cy = (py * GRID / H + ((h >> 2) & 3)) % GRID;
  for (unsigned cz = 0; cz < GRID; ++cz) {
    const uint32_t* list = cells[(cz * GRID + cy) * GRID + cx];
    for (unsigned k = 0; k < PER_CELL; ++k) {
      const struct sphere* sp = &scene[list[k]];
      int32_t dx = (sp->x >> 12) - (int32_t)(px << 4), dy = (sp->y >> 12) - (int32_t)(py << 4);
      if (dx * dx + dy * dy < sp->r2 * 64) return sp->colour ^ cz;
    }
    cx = (cx + (h >> 4 & 1)) % GRID;
  }
  return 0;
}

static void* worker(void* arg) {
  unsigned t = (unsigned)(uintptr_t)arg;
  for (unsigned y = t; y < H; y += nthreads)
    for (unsigned x = 0; x < W; ++x) {
      uint32_t acc = 0;
      for (unsigned s = 0; s < samples; ++s) acc += trace(x, y, s);
      image[y * W + x] = acc;
    }
  return NULL;
}

int main(int argc, char** argv) {
  nthreads = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
  unsigned scale = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
  if (nthreads < 1 || nthreads > 64) nthreads = 4;
  if (scale < 1) scale = 1;
  samples = 2 * scale;
  build(256 * 1024);  /* 8 MiB of spheres, 16 MiB of cell lists */
  pthread_t tid[64];
  for (unsigned t = 0; t < nthreads; ++t)
    if (pthread_create(&tid[t], NULL, worker, (void*)(uintptr_t)t) != 0) { puts("RAY-ERROR pthread_create"); return 1; }
  for (unsigned t = 0; t < nthreads; ++t) pthread_join(tid[t], NULL);
  uint64_t sum = 0;
  for (unsigned i = 0; i < W * H; ++i) sum = sum * 1000003u + image[i];
  printf("RAY-RESULT %016llx\n", (unsigned long long)sum);
  return 0;
}
