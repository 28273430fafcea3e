/*
 * diffwork.c - the workload of pddiff's tests: three leaves under main,
 * hotspot() doing FACTOR times its share of the work.  Built twice, with
 * -DFACTOR=1 and -DFACTOR=3, into two directories under the same name (the
 * comm is the root frame of every stack, so both builds must share it).
 */
#include <stdlib.h>
#ifndef FACTOR
#define FACTOR 1
#endif
static volatile unsigned long sink;
/* Called last by the workers so that they are not leaves: gcc leaves a leaf without a frame pointer. */
__attribute__((noinline)) void tick(void) { sink++; }
__attribute__((noinline)) void spin(long n) { for (long i = 0; i < n; i++) sink += i * i; tick(); }
__attribute__((noinline)) void alpha(long n) { spin(n); sink++; }
__attribute__((noinline)) void beta(long n) { for (long i = 0; i < n; i++) sink ^= i; tick(); }
__attribute__((noinline)) void hotspot(long n) { for (long i = 0; i < n * FACTOR; i++) sink += i >> 3; tick(); }
__attribute__((noinline)) void gamma_(long n) { hotspot(n); sink++; }
int
main(int c, char **v)
{
	long n = c > 1 ? atol(v[1]) : 1000000;

	for (int k = 0; k < 10; k++) {
		alpha(n);
		beta(n);
		gamma_(n / 2);
	}
	return 0;
}
