/* relay_count.h - byte count for the floor relay of bench/peers_bench.sh.
 *
 * Force-included (gcc -include) into ../shared/bench/splice_relay.c, which is compiled unchanged: every
 * splice() of the relay goes through bench_splice(), which adds up the bytes spliced into the local
 * copy's /dev/null (the first character device written to) and prints "relay_count: bytes N" on stderr
 * when the relay exits, so the bench can check that every node received every byte. One fstat() until
 * /dev/null is found (the first round), one compare per call after that. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static long long bench_local_bytes;
static int bench_null_fd = -1;

static void bench_print_count(void) { fprintf(stderr, "relay_count: bytes %lld\n", bench_local_bytes); }
__attribute__((constructor)) static void bench_count_init(void) { atexit(bench_print_count); }

static ssize_t bench_splice(int in, loff_t* in_off, int out, loff_t* out_off, size_t len, unsigned int flags) {
  ssize_t n = splice(in, in_off, out, out_off, len, flags);
  if (n > 0) {
    struct stat st;
    if (bench_null_fd < 0 && fstat(out, &st) == 0 && S_ISCHR(st.st_mode)) bench_null_fd = out;
    if (out == bench_null_fd) bench_local_bytes += n;
  }
  return n;
}
#define splice bench_splice
