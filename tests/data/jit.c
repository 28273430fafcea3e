/*
 * jit.c - a stand-in for a JIT: copies a tiny x86-64 loop into anonymous
 * executable memory, describes it in /tmp/perf-PID.map as JIT runtimes do,
 * and runs it.  Usage: jit ITERATIONS.  x86-64 only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	/* loop: dec %rdi; jnz loop; ret */
	static const unsigned char code[] = { 0x48, 0xff, 0xcf, 0x75, 0xfb, 0xc3 };
	long n = argc > 1 ? atol(argv[1]) : 100000000;
	unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char path[64];
	FILE *f;
	void (*fn)(long);

	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem, code, sizeof(code));
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx %zx jitted_loop\n", (unsigned long)(uintptr_t)mem, sizeof(code));
	fclose(f);
	fn = (void (*)(long))(uintptr_t)mem;
	for (int i = 0; i < 10; i++)
		fn(n / 10);
	return 0;
}
