// Side-by-side baseline for `eventsnn bench decode`: times expelliarmus's C decoders
// (read_evt2 / read_evt3 / read_dat) on one file, best of N passes, with the output array
// allocated and pre-touched once so that no pass pays first-touch page faults.
// Built by scripts/expelliarmus-bench/run.sh against an expelliarmus source checkout.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include "evt2.h"
#include "evt3.h"
#include "dat.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: harness evt2|evt3|dat <file> [repeats] [buff_size]\n");
        return 2;
    }
    const char *fmt = argv[1], *path = argv[2];
    int repeats = argc > 3 ? atoi(argv[3]) : 5;
    size_t buff = argc > 4 ? (size_t)atol(argv[4]) : 4096; /* expelliarmus's default buffer */
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);

    size_t dim = 0;
    if (!strcmp(fmt, "evt2")) { evt2_cargo_t c; memset(&c, 0, sizeof c); measure_evt2(path, &c, buff); dim = c.events_info.dim; }
    else if (!strcmp(fmt, "evt3")) { evt3_cargo_t c; memset(&c, 0, sizeof c); measure_evt3(path, &c, buff); dim = c.events_info.dim; }
    else if (!strcmp(fmt, "dat")) { dat_cargo_t c; memset(&c, 0, sizeof c); measure_dat(path, &c, buff); dim = c.events_info.dim; }
    else { fprintf(stderr, "unknown format %s\n", fmt); return 2; }
    if (dim == 0) { fprintf(stderr, "%s: no events\n", path); return 1; }

    event_t *arr = malloc(dim * sizeof(event_t));
    if (!arr) { fprintf(stderr, "out of memory\n"); return 1; }
    memset(arr, 0, dim * sizeof(event_t)); /* pre-touch */

    double best = 1e30;
    printf("{\"format\":\"%s\",\"events\":%zu,\"events_per_second_each\":[", fmt, dim);
    for (int r = 0; r < repeats; r++) {
        int status = 0;
        double t0 = now();
        if (!strcmp(fmt, "evt2")) { evt2_cargo_t c; memset(&c, 0, sizeof c); c.events_info.dim = dim; status = read_evt2(path, arr, &c, buff); }
        else if (!strcmp(fmt, "evt3")) { evt3_cargo_t c; memset(&c, 0, sizeof c); c.events_info.dim = dim; status = read_evt3(path, arr, &c, buff); }
        else { dat_cargo_t c; memset(&c, 0, sizeof c); c.events_info.dim = dim; status = read_dat(path, arr, &c, buff); }
        double dt = now() - t0;
        if (status != 0) { fprintf(stderr, "read failed (%d)\n", status); return 1; }
        if (dt < best) best = dt;
        printf("%s%.0f", r ? "," : "", dim / dt);
    }
    printf("],\"events_per_second\":%.0f,\"checksum\":%lld}\n", dim / best,
           (long long)(arr[dim - 1].t + arr[dim / 2].x + arr[dim / 3].y));
    free(arr);
    return 0;
}
