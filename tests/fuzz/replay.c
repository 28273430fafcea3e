/*
 * replay.c - a main() for the fuzz targets without libFuzzer.
 *
 * Linked with one target (tests/fuzz/NAME.c, which defines only
 * LLVMFuzzerTestOneInput), it runs the target once on every file named on
 * the command line, or found (sorted by name) in a directory named there,
 * and prints one TAP line per file.  Each input is copied into a buffer of
 * its exact size, so that a sanitizer build sees any read past its end.
 * make check replays the committed corpus (tests/fuzz/corpus/NAME/) and the
 * malformed fixtures this way: every crash ever found stays fixed (zstd's
 * regression_driver.c idea).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nr_tests, nr_failed;

static void
replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL, *exact;
	size_t len = 0, alloc = 0;

	if (!fp) {
		printf("not ok %d - %s: cannot open: %s\n", ++nr_tests, path, strerror(errno));
		nr_failed++;
		return;
	}
	for (;;) {
		size_t k;

		if (len == alloc) {
			unsigned char *nb;

			alloc = alloc ? 2 * alloc : 65536;
			if (!(nb = realloc(buf, alloc)))
				abort();
			buf = nb;
		}
		if ((k = fread(buf + len, 1, alloc - len, fp)) == 0)
			break;
		len += k;
	}
	fclose(fp);
	if (!(exact = malloc(len ? len : 1)))
		abort();
	if (len)
		memcpy(exact, buf, len);
	free(buf);
	fflush(stdout);
	LLVMFuzzerTestOneInput(exact, len);
	printf("ok %d - %s: no crash, invariants hold\n", ++nr_tests, path);
	fflush(stdout);
	free(exact);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;

	if (!d) {
		printf("not ok %d - %s: cannot open: %s\n", ++nr_tests, dir, strerror(errno));
		nr_failed++;
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		char *p;

		if (de->d_name[0] == '.')
			continue;
		if (!(p = malloc(len)))
			abort();
		snprintf(p, len, "%s/%s", dir, de->d_name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == alloc) {
			char **nn;

			alloc = alloc ? 2 * alloc : 64;
			if (!(nn = realloc(names, alloc * sizeof(*names))))
				abort();
			names = nn;
		}
		names[n++] = p;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		replay_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s file|dir ...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			replay_dir(argv[i]);
		else
			replay_file(argv[i]);
	}
	printf("1..%d\n", nr_tests);
	return nr_failed ? 1 : 0;
}
