/*
 * work.c - the benchmark workload: two processes that spend their time in
 * recursions of varying depth through several functions, so that a
 * recording has deep frame-pointer chains and a bounded set of distinct
 * stacks, as a real service's profile has.
 * Build with -O2 -fno-omit-frame-pointer.  Usage: work SECONDS
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static volatile unsigned long sink;

#define DEFINE_STEP(name, next) \
	__attribute__((noinline)) void name(int depth, unsigned seed); \
	__attribute__((noinline)) void name(int depth, unsigned seed) \
	{ \
		if (depth <= 0) { \
			for (unsigned i = 0; i < 2000 + (seed & 1023); i++) \
				sink += i * seed; \
			return; \
		} \
		next(depth - 1, seed * 1103515245u + 12345u); \
		sink++; \
	}

__attribute__((noinline)) void step_a(int, unsigned);
__attribute__((noinline)) void step_b(int, unsigned);
__attribute__((noinline)) void step_c(int, unsigned);
__attribute__((noinline)) void step_d(int, unsigned);

static void
dispatch(int depth, unsigned seed)
{
	switch (seed >> 28 & 3) {
	case 0: step_a(depth, seed); break;
	case 1: step_b(depth, seed); break;
	case 2: step_c(depth, seed); break;
	default: step_d(depth, seed); break;
	}
}

DEFINE_STEP(step_a, dispatch)
DEFINE_STEP(step_b, dispatch)
DEFINE_STEP(step_c, step_a)
DEFINE_STEP(step_d, dispatch)

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	pid_t child = fork();
	struct timespec t0, t;
	unsigned seed = child == 0 ? 7u : 11u;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		/*
		 * 64 call paths per process, 20 to 60 frames deep: a few
		 * thousand distinct stacks, all seen within the first seconds,
		 * so a longer recording has more samples of the same profile.
		 */
		for (unsigned k = 0; k < 64; k++) {
			unsigned s = (seed + k) * 2654435761u;

			dispatch(20 + (int)(s % 41), s);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	if (child > 0)
		waitpid(child, NULL, 0);
	return 0;
}
