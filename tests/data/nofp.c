/*
 * nofp.c - a workload for DWARF unwinding: built -O2 -g -fomit-frame-pointer,
 * with a path through libc (qsort calls back into cmp), recursion and a
 * function pointer.  Usage: nofp ITERATIONS
 */
#include <stdlib.h>

static volatile unsigned long sink;

__attribute__((noinline)) static int cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	for (int i = 0; i < 40; i++)
		sink += (unsigned long)(x ^ i);
	return (x > y) - (x < y);
}

__attribute__((noinline)) static void sorter(long n)
{
	long v[64];

	for (long k = 0; k < n; k++) {
		for (int i = 0; i < 64; i++)
			v[i] = (i * 7919 + k) % 64;
		qsort(v, 64, sizeof(v[0]), cmp);
	}
}

__attribute__((noinline)) static void spin(long n)
{
	for (long i = 0; i < n * 200; i++)
		sink += (unsigned long)(i * i);
}

__attribute__((noinline)) static void deep(int d, long n)
{
	if (d == 0) {
		spin(n);
		return;
	}
	deep(d - 1, n);
	sink++;
}

static void (*volatile work)(long) = sorter;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;

	for (int k = 0; k < 10; k++) {
		work(n);
		deep(6, n);
	}
	return 0;
}
