// SPDX-License-Identifier: Apache-2.0
// The reference for bench/maps.ts: the same map updates as a plain C loop over libbpf,
// on st_big of the self-test object (key 8 bytes, value 16, 100,000 entries).
// Usage: maps-ref OBJECT ENTRIES ROUNDS; prints `name value unit` lines (median of rounds).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJECT ENTRIES ROUNDS\n", argv[0]);
		return 2;
	}
	uint32_t n = atoi(argv[2]);
	int rounds = atoi(argv[3]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "maps-ref: cannot load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int fd = bpf_object__find_map_fd_by_name(obj, "st_big");
	uint8_t *keys = calloc(n, 8), *values = calloc(n, 16);
	double *single = calloc(rounds, sizeof(double)), *batch = calloc(rounds, sizeof(double));
	for (uint32_t i = 0; i < n; i++) {
		memcpy(keys + 8 * i, &i, 4);
		uint64_t v = i;
		memcpy(values + 16 * i, &v, 8);
	}
	for (int r = 0; r <= rounds; r++) { /* round 0 warms up */
		double t = now();
		for (uint32_t i = 0; i < n; i++)
			if (bpf_map_update_elem(fd, keys + 8 * i, values + 16 * i, BPF_ANY)) {
				perror("bpf_map_update_elem");
				return 1;
			}
		if (r)
			single[r - 1] = n / (now() - t);
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		uint32_t count = n;
		t = now();
		if (bpf_map_update_batch(fd, keys, values, &count, &opts)) {
			perror("bpf_map_update_batch");
			return 1;
		}
		if (r)
			batch[r - 1] = n / (now() - t);
	}
	printf("c.update.single %.0f updates/s\n", median(single, rounds));
	printf("c.update.batch %.0f updates/s\n", median(batch, rounds));
	bpf_object__close(obj);
	return 0;
}
