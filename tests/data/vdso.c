/*
 * vdso.c - spends its time in clock_gettime, which the kernel's vDSO
 * implements in user space.  Usage: vdso ITERATIONS
 */
#include <stdlib.h>
#include <time.h>

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000000;
	struct timespec ts;
	unsigned long sum = 0;

	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += (unsigned long)ts.tv_nsec;
	}
	return (int)(sum & 1);
}
