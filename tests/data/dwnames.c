/*
 * dwnames.c - a workload for the names of --call-graph dwarf chains: built
 * -O2 -g -fomit-frame-pointer, gcc makes clones (copy_churn.constprop.0,
 * msort-like part clones) whose DWARF name differs from the symbol table's,
 * static inline helpers become inline frames, and libc's qsort and memcpy
 * are on the path.  Usage: dwnames ITERATIONS
 */
#include <stdlib.h>
#include <string.h>

static volatile unsigned long sink;
static char bufa[1 << 16], bufb[1 << 16];

static inline unsigned long
mix(unsigned long x)
{
	for (int k = 0; k < 16; k++)
		x = (x ^ (x >> 13)) * 0x9e3779b97f4a7c15ul + (unsigned long)k;
	return x;
}

static int
cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	sink += mix((unsigned long)x);
	return (x > y) - (x < y);
}

/* Called with a constant size only: gcc clones it as copy_churn.constprop.0. */
static __attribute__((noinline)) void
copy_churn(char *dst, const char *src, size_t len, int rounds)
{
	for (int r = 0; r < rounds; r++) {
		memcpy(dst, src, len);
		sink += (unsigned char)dst[r & 1023];
	}
}

/* A cheap early exit and a big body: gcc splits it into split_walk.part.0. */
static __attribute__((noinline)) void
split_walk(long *v, long n)
{
	if (n < 2)
		return;
	for (long i = 0; i < n; i++)
		v[i] = (long)mix((unsigned long)v[i]) % 1000;
	qsort(v, (size_t)n, sizeof(v[0]), cmp);
	for (long i = 1; i < n; i++)
		sink += (unsigned long)(v[i] - v[i - 1]);
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200, v[256];

	for (long k = 0; k < n; k++) {
		for (int i = 0; i < 256; i++)
			v[i] = i * 7919 + k;
		split_walk(v, 256);
		split_walk(v, k & 1);
		copy_churn(bufa, bufb, sizeof(bufa), 8);
		copy_churn(bufb, bufa, sizeof(bufa), 8);
	}
	return 0;
}
