/* names.c - time in libc through the PLT: memcmp, strlen, memcpy, malloc/free. */
#include <stdlib.h>
#include <string.h>

static volatile unsigned long sink;
/* The address of memcmp taken as well as called: its calls go through .plt.got. */
int (*volatile cmp_ptr)(const void *, const void *, size_t);

__attribute__((noinline)) static void compare(const char *a, const char *b, long n)
{
	for (long i = 0; i < n; i++)
		sink += (unsigned long)memcmp(a, b, 24) + strlen(a);
}

__attribute__((noinline)) static void churn(long n)
{
	for (long i = 0; i < n; i++) {
		char *p = malloc(64 + (size_t)(i & 255));
		memcpy(p, "0123456789abcdef0123456789abcdef", 33);
		sink += (unsigned long)p[3];
		free(p);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char a[64] = "the quick brown fox jumps over", b[64] = "the quick brown fox jumps over";

	cmp_ptr = memcmp;
	for (int k = 0; k < 10; k++) {
		compare(a, b, n);
		churn(n / 2);
		sink += (unsigned long)cmp_ptr(a, b, 8);
	}
	return 0;
}
