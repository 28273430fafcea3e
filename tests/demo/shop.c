/*
 * shop.c - the workload of make demo: a toy order service that parses
 * requests, looks prices up in a hash table, totals the orders and
 * compresses a log line per batch, in named functions that a flame graph
 * shows at a glance.  "shop new" is the same service after a change that
 * made the price lookup slower (a linear probe through a crowded table),
 * so that pddiff and a differential flame graph have a regression to find.
 *
 * Build with -O2 -g -fno-omit-frame-pointer.  Usage: shop [base|new] SECONDS
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* No inlining and no clones (gcc's .constprop names) for readable frames. */
#if defined(__GNUC__) && !defined(__clang__)
#define NOINLINE __attribute__((noinline, noclone))
#else
#define NOINLINE __attribute__((noinline))
#endif

enum { NPRICES = 4096, NREQ = 256, LINE = 96 };

static volatile uint64_t sink;
static uint64_t prices[NPRICES];
static int new_version;

static NOINLINE uint64_t
hash_sku(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static NOINLINE uint64_t
lookup_price(const char *sku, size_t n)
{
	uint64_t h = hash_sku(sku, n), p = 0;
	/* The change under test: the new version probes 32 slots, not 2. */
	unsigned probes = new_version ? 32 : 2;

	for (unsigned i = 0; i < probes; i++)
		p += prices[(h + i * 40503u) % NPRICES];
	return p;
}

static NOINLINE size_t
parse_request(char *line, unsigned seed)
{
	size_t n = 0;

	for (int i = 0; i < LINE - 1; i++) {
		seed = seed * 1103515245u + 12345u;
		line[i] = (char)('a' + (seed >> 16) % 26);
		if (line[i] == 'q' && i > 8)
			break;
		n++;
	}
	line[n] = '\0';
	return n;
}

static NOINLINE uint64_t
apply_discounts(uint64_t total, unsigned seed)
{
	for (int i = 0; i < 40; i++)
		total = total * 99 / 100 + (seed >> (i & 15) & 7);
	return total;
}

static NOINLINE uint64_t
total_order(char *line, unsigned seed)
{
	size_t n = parse_request(line, seed);
	uint64_t total = 0;

	for (size_t off = 0; off + 8 <= n; off += 4)
		total += lookup_price(line + off, 8);
	return apply_discounts(total, seed);
}

static NOINLINE size_t
compress_log(const char *buf, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t run = 1;

		while (i + run < n && buf[i + run] == buf[i] && run < 255)
			run++;
		out[o++] = buf[i];
		out[o++] = (char)run;
		i += run;
	}
	return o;
}

static NOINLINE void
write_log(const uint64_t *totals, int n)
{
	char buf[NREQ * 8], out[NREQ * 16];

	for (int r = 0; r < 8; r++) {
		for (int i = 0; i < n; i++)
			memcpy(buf + i * 8, &totals[i], 8);
		sink += compress_log(buf, sizeof buf, out);
	}
}

static NOINLINE void
handle_batch(unsigned seed)
{
	char line[LINE];
	uint64_t totals[NREQ];

	for (int i = 0; i < NREQ; i++)
		totals[i] = total_order(line, seed + (unsigned)i * 2654435761u);
	write_log(totals, NREQ);
}

static NOINLINE void
serve(double secs)
{
	struct timespec t0, t;
	unsigned seed = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int k = 0; k < 16; k++)
			handle_batch(seed++);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
}

int
main(int argc, char **argv)
{
	new_version = argc > 1 && strcmp(argv[1], "new") == 0;
	for (int i = 0; i < NPRICES; i++)
		prices[i] = (uint64_t)i * 37 % 1000;
	serve(argc > 2 ? atof(argv[2]) : 1.0);
	return 0;
}
