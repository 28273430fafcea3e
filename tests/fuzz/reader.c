/*
 * reader.c - fuzz target for the whole reading path: pd_reader_open_mem,
 * pd_session_run and the folding (pd_fold_add, pd_fold_flush and
 * pd_fold_write to /dev/null), over one perf.data image in memory.
 *
 * Built with -DPD_LIBFUZZER and -fsanitize=fuzzer it is a libFuzzer target
 * (tests/data/README shows the command).  Built without it, as make does
 * (build/tests/fuzz/reader-replay), a main() replays every file named on
 * the command line, or found in a directory named there, and prints one TAP
 * line per file: the replay of the corpus and of every crash ever found is
 * how make check runs this target (zstd's regression_driver.c idea).
 *
 * Besides crashes, hangs and sanitizer reports, the target checks two
 * promises of pd.h: a failure always comes with a message giving the byte
 * offset, and no more samples are folded than were read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;
static const char *input_name = "fuzz-input";

struct run {
	struct pd_fold *fold;
	struct pd_session *session;
};

static int
on_sample(void *ctx, const struct pd_sample *s)
{
	struct run *ru = ctx;

	return pd_fold_add(ru->fold, ru->session, s) < 0 ? -1 : 0;
}

/* An error without a message, or without an offset, is a bug too. */
static void
check_error(const struct pd_reader *r, int rc)
{
	const char *msg = pd_reader_errmsg(r);

	if (rc >= 0 || rc == PD_E_NOMEM || rc == PD_E_CALLBACK)
		return;
	if (!msg[0] || !strstr(msg, "offset 0x")) {
		fprintf(stderr, "reader: error %d (%s) with message '%s'\n", rc, pd_strerror(rc), msg);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* No symbol files, no kallsyms, no build-id cache: the input alone counts. */
	struct pd_session_opts so = {
		.symfs = "/nonexistent/pd-fuzz",
		.kallsyms = "/dev/null",
		.home = "/nonexistent/pd-fuzz",
	};
	struct pd_reader *r;
	struct pd_session *s;
	struct pd_fold *f;
	int rc;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	r = pd_reader_new();
	s = pd_session_new(&so);
	f = pd_fold_new(PD_FOLD_PID | PD_FOLD_KERNEL | PD_FOLD_JIT | PD_FOLD_ADDRS);
	if (!r || !s || !f)
		abort();
	rc = pd_reader_open_mem(r, input_name, data, size);
	if (rc == PD_OK) {
		struct run ru = { f, s };

		rc = pd_session_run(s, r, on_sample, &ru);
		if (pd_fold_flush(f, s) == PD_OK)
			pd_fold_write(f, devnull);
		if (pd_fold_samples(f) > pd_session_stats(s)->samples) {
			fprintf(stderr, "reader: %llu samples folded of %llu read\n",
			    (unsigned long long)pd_fold_samples(f),
			    (unsigned long long)pd_session_stats(s)->samples);
			abort();
		}
	}
	check_error(r, rc);
	pd_fold_free(f);
	pd_session_free(s);
	pd_reader_free(r);
	return 0;
}

#ifndef PD_LIBFUZZER
static int nr_tests, nr_failed;

/* Replay one file, read into a buffer of its exact size (so ASan sees overreads). */
static void
replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
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
			nb = realloc(buf, alloc);
			if (!nb)
				abort();
			buf = nb;
		}
		k = fread(buf + len, 1, alloc - len, fp);
		if (k == 0)
			break;
		len += k;
	}
	fclose(fp);
	{
		unsigned char *exact = malloc(len ? len : 1);

		if (!exact)
			abort();
		memcpy(exact, buf, len);
		free(buf);
		buf = exact;
	}
	input_name = path;
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, len);
	printf("ok %d - %s: did not crash\n", ++nr_tests, path);
	fflush(stdout);
	free(buf);
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
		char *p;
		struct stat st;
		size_t len = strlen(dir) + strlen(de->d_name) + 2;

		if (de->d_name[0] == '.')
			continue;
		p = malloc(len);
		if (!p)
			abort();
		snprintf(p, len, "%s/%s", dir, de->d_name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == alloc) {
			char **nn;

			alloc = alloc ? 2 * alloc : 64;
			nn = realloc(names, alloc * sizeof(*names));
			if (!nn)
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
		fprintf(stderr, "usage: reader-replay file|dir ...\n");
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
	if (devnull)
		fclose(devnull);
	return nr_failed ? 1 : 0;
}
#endif
