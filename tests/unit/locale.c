/*
 * locale.c - every library writer gives the same bytes whatever locale its
 * caller set: pd_top_write (text, tsv, json; several sort keys, self and
 * children, a percent limit), pd_top_write_health, pd_diff_write (folded,
 * table, json) and pd_diff_gate with a --fail-on number and a name rule,
 * pd_flame_write (plain and differential, fractional sizes), pd_fold_write
 * and the JSON writer's ratios.  All of them are run in the C locale, then
 * after setlocale(LC_ALL, ...) to de_DE.UTF-8 (a decimal comma) and
 * tr_TR.UTF-8 (the dotless i), and the bytes compared.  A locale that is
 * not generated here is skipped with the reason.  The caller's locale is
 * back in force after each writer returns.
 */
#include <locale.h>

#include "pd-internal.h"
#include "../tap.h"

static void
skip(const char *why)
{
	tap_n++;
	printf("ok %d # SKIP %s\n", tap_n, why);
}

/* Names with a Turkish i, a UTF-8 e-acute, a byte that is not UTF-8 and a period. */
static const char stacks[] =
    "# pd-folded v1 weight=samples event=cpu-clock tool=pdcollapse\n"
    "app;main;rec;rec;leaf 6\n"
    "app;main;rec 2\n"
    "app;main;Istanbul::iI 1\n"
    "app;main;caf\xc3\xa9 1\n"
    "app;main;bad\xff 1\n"
    "tool;main;other_[k] 1\n"
    "tool;main;leaf 1\n";

static const char base[] =
    "# pd-folded v1 weight=samples event=cpu-clock tool=pdcollapse\n"
    "app;main;work 300\n"
    "app;main;parse::h0123456789abcdef 200\n"
    "app;main;Istanbul::iI 100\n"
    "ksoftirqd/3;run_ksoftirqd 7\n";

static const char new_[] =
    "# pd-folded v1 weight=samples event=cpu-clock tool=pdcollapse\n"
    "app;main;work 310\n"
    "app;main;parse::hfedcba9876543210 100\n"
    "app;main;Istanbul::iI 190\n"
    "app;main;caf\xc3\xa9 7\n"
    "ksoftirqd/5;run_ksoftirqd 9\n";

static void
top_folded(FILE *out, int children, const char *sort, enum pd_top_format fmt, double limit)
{
	struct pd_top_opts o = { .children = children };
	struct pd_top_print p = { fmt, 0, limit };
	struct pd_top *t = pd_top_new(&o);
	FILE *in = fmemopen((void *)stacks, sizeof(stacks) - 1, "r");
	int rc = pd_top_set_sort(t, sort);

	if (rc == PD_OK)
		rc = pd_top_read_folded(t, in, "unit.folded");
	if (rc == PD_OK)
		rc = pd_top_write(t, out, &p);
	fprintf(out, "[top %d %s %d %d: rc %d %s]\n", children, sort, (int)fmt, (int)(limit * 100), rc,
	    pd_top_errmsg(t));
	fclose(in);
	pd_top_free(t);
}

struct run {
	struct pd_top *top;
	struct pd_session *s;
	struct pd_reader *r;
	struct pd_fold *fold;
	int begun;
};

static int
on_sample(void *ctx, const struct pd_sample *smp)
{
	struct run *ru = ctx;

	if (!ru->begun) {
		ru->begun = 1;
		if (pd_top_begin(ru->top, ru->r) < 0)
			return -1;
	}
	if (pd_fold_add(ru->fold, ru->s, smp) < 0)
		return -1;
	return pd_top_add(ru->top, ru->s, smp) < 0 ? -1 : 0;
}

/* pd_top_write and pd_top_write_health of a recorded perf.data, and its folded stacks. */
static void
top_perf(FILE *out, const char *path, const char *sort, int children)
{
	struct pd_top_opts o = { .children = children, .health = 1 };
	struct pd_top_print p = { PD_TOP_TEXT, 0, 0 };
	struct pd_session_opts so = { 0 };
	struct run ru = { pd_top_new(&o), pd_session_new(&so), pd_reader_new(), pd_fold_new(0), 0 };
	int rc = pd_top_set_sort(ru.top, sort);

	if (rc == PD_OK)
		rc = pd_reader_open(ru.r, path, 0);
	if (rc == PD_OK)
		rc = pd_session_run(ru.s, ru.r, on_sample, &ru);
	if (rc == PD_OK)
		rc = pd_top_finish(ru.top, ru.s, ru.r);
	for (int f = PD_TOP_TEXT; rc == PD_OK && f <= PD_TOP_JSON; f++) {
		p.format = (enum pd_top_format)f;
		rc = pd_top_write(ru.top, out, &p);
	}
	if (rc == PD_OK)
		rc = pd_top_write_health(ru.top, out);
	if (rc == PD_OK)
		rc = pd_fold_write(ru.fold, out);
	fprintf(out, "[perf.data %s %d: rc %d %s]\n", sort, children, rc, pd_top_errmsg(ru.top));
	pd_fold_free(ru.fold);
	pd_session_free(ru.s);
	pd_reader_free(ru.r);
	pd_top_free(ru.top);
}

static void
diff(FILE *out, int samples)
{
	struct pd_diff_opts o;
	struct pd_diff *d;
	FILE *in;
	int rc;

	pd_diff_opts_init(&o);
	o.weight_samples = samples;
	o.threshold = 0.5;
	d = pd_diff_new(&o);
	rc = pd_diff_add_rule(d, "s/::h[0-9a-f]{16}$//");
	if (rc == PD_OK)
		rc = pd_diff_add_rule(d, "s|^(ksoftirqd)/[0-9]+$|\\1/N|");
	/* '.' is one byte in the C locale, whatever the caller's charset. */
	if (rc == PD_OK)
		rc = pd_diff_add_rule(d, "s/^caf.$/cafe-one-char/");
	if (rc == PD_OK)
		rc = pd_diff_add_fail(d, "sym:Istanbul::iI>+1.5");
	if (rc == PD_OK)
		rc = pd_diff_add_fail(d, "total>+2.5%");
	in = fmemopen((void *)base, sizeof(base) - 1, "r");
	if (rc == PD_OK)
		rc = pd_diff_read_folded(d, PD_DIFF_BASE, in, "base");
	fclose(in);
	in = fmemopen((void *)new_, sizeof(new_) - 1, "r");
	if (rc == PD_OK)
		rc = pd_diff_read_folded(d, PD_DIFF_NEW, in, "new");
	fclose(in);
	if (rc == PD_OK)
		rc = pd_diff_write(d, out, PD_DIFF_FOLDED, 0);
	if (rc == PD_OK)
		rc = pd_diff_write(d, out, PD_DIFF_FOLDED, PD_DIFF_SCALE);
	if (rc == PD_OK)
		rc = pd_diff_write(d, out, PD_DIFF_TABLE, 0);
	if (rc == PD_OK)
		rc = pd_diff_write(d, out, PD_DIFF_JSON, 0);
	if (rc == PD_OK)
		rc = pd_diff_gate(d, out);
	fprintf(out, "[diff %d: rc %d %s]\n", samples, rc, pd_diff_errmsg(d));
	pd_diff_free(d);
}

static void
flame(FILE *out, const char *text, double fontsize, int inverted)
{
	struct pd_flame_opts o;
	struct pd_flame *f;
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int rc;

	pd_flame_opts_init(&o);
	o.fontsize = fontsize;
	o.minwidth = 0.25;
	o.factor = 0.001;
	o.inverted = inverted;
	o.subtitle = "fa\xc3\xa7tor 0.001";
	f = pd_flame_new(&o);
	rc = pd_flame_read(f, in);
	if (rc == PD_OK)
		rc = pd_flame_write(f, out);
	fprintf(out, "[flame %d: rc %d]\n", (int)(fontsize * 100), rc);
	fclose(in);
	pd_flame_free(f);
}

static void
json(FILE *out)
{
	struct pd_json *j = pd_json_new(out);

	pd_json_begin_array(j);
	pd_json_ratio(j, 2, 3, 2);
	pd_json_ratio(j, 1, 8, 3);
	pd_json_ratio(j, 1, 0, 2);
	pd_json_end_array(j);
	pd_json_newline(j);
	fprintf(out, "[json: rc %d]\n", pd_json_finish(j));
	pd_json_free(j);
}

enum { W_TOP, W_PERF, W_DIFF, W_FLAME, W_JSON, NR_W };
static const char *const wname[NR_W] = {
	"pd_top_write on folded stacks (text, tsv, json; sorts; limit)",
	"pd_top_write, pd_top_write_health and pd_fold_write on fp.data",
	"pd_diff_write (folded, table, json), pd_diff_gate, rules and --fail-on numbers",
	"pd_flame_write (plain, icicle, differential; fractional font sizes)",
	"pd_json_ratio",
};

/* What writer W gives, as one string (caller frees). */
static char *
output(int w, const char *perf_data, const char *diff_flame)
{
	static const char *const sorts[] = { "symbol", "comm", "comm,symbol", "symbol,comm" };
	static const char *const perf_sorts[] = { "comm,dso,symbol", "symbol", "dso", "comm", "pid", "tid",
		"dso,symbol" };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	switch (w) {
	case W_TOP:
		for (int children = 0; children <= 1; children++)
			for (size_t s = 0; s < sizeof(sorts) / sizeof(sorts[0]); s++)
				for (int f = PD_TOP_TEXT; f <= PD_TOP_JSON; f++)
					top_folded(out, children, sorts[s], (enum pd_top_format)f, s == 1 ? 12.5 : 0);
		break;
	case W_PERF:
		for (size_t s = 0; perf_data && s < sizeof(perf_sorts) / sizeof(perf_sorts[0]); s++)
			for (int children = -1; children <= 1; children++)
				top_perf(out, perf_data, perf_sorts[s], children);
		break;
	case W_DIFF:
		diff(out, 0);
		diff(out, 1);
		break;
	case W_FLAME:
		flame(out, stacks, 12, 0);
		flame(out, stacks, 11.5, 1);
		flame(out, diff_flame, 13.25, 0);
		break;
	default:
		json(out);
	}
	fclose(out);
	return buf;
}

/* One line of diagnostics: where A and B first differ, newlines escaped. */
static void
first_difference(const char *got, const char *want)
{
	size_t k = 0;

	while (got[k] && got[k] == want[k])
		k++;
	printf("#   first difference at byte %zu: got '", k);
	for (size_t i = k; got[i] && i < k + 40; i++)
		printf(got[i] == '\n' ? "\\n" : "%c", got[i]);
	printf("', want '");
	for (size_t i = k; want[i] && i < k + 40; i++)
		printf(want[i] == '\n' ? "\\n" : "%c", want[i]);
	printf("'\n");
}

int
main(void)
{
	static const char *const locales[] = { "de_DE.UTF-8", "tr_TR.UTF-8" };
	const char *src = getenv("PD_SRC");
	char perf_data[4096], num[32], *ref[NR_W], *dflame = NULL;
	size_t dlen = 0;
	FILE *m;

	if (!src)
		diag("PD_SRC is not set: no perf.data fixture, folded input only");
	else
		snprintf(perf_data, sizeof(perf_data), "%s/tests/data/fp.data", src);
	/* The differential stream pd_diff writes, as pdflame's input. */
	m = open_memstream(&dflame, &dlen);
	diff(m, 1);
	fclose(m);
	*strstr(dflame, "[diff") = '\0';

	setlocale(LC_ALL, "C");
	for (int w = 0; w < NR_W; w++)
		ref[w] = output(w, src ? perf_data : NULL, dflame);
	ok(strstr(ref[W_TOP], "\"overhead\":15.38,") && strstr(ref[W_TOP], "\t15.38\t") &&
	    strstr(ref[W_FLAME], "font-size=\"11.5\"") && strstr(ref[W_DIFF], "x1.87, z=5.91") &&
	    strstr(ref[W_DIFF], "\"confidence\":0.99,"),
	    "C locale: the writers' output has decimal points");
	for (int w = 0; w < NR_W; w++)
		if (!ok(!strstr(ref[w], "rc -"), "C locale: every writer succeeded"))
			printf("#   %s\n", wname[w]);
	if (src)
		ok(strstr(ref[W_PERF], "[perf.data symbol 1: rc 0 ]") && strstr(ref[W_PERF], "verdict:"),
		    "C locale: fp.data was read");
	for (size_t i = 0; i < sizeof(locales) / sizeof(locales[0]); i++) {
		char name[256], why[160];

		if (!setlocale(LC_ALL, locales[i])) {
			snprintf(why, sizeof(why), "locale %s is not generated here (locale-gen; make deps does it)",
			    locales[i]);
			for (int w = 0; w <= NR_W; w++)
				skip(why);
			continue;
		}
		for (int w = 0; w < NR_W; w++) {
			char *got = output(w, src ? perf_data : NULL, dflame);

			snprintf(name, sizeof(name), "after setlocale(LC_ALL, \"%s\"): %s: the bytes of the C locale",
			    locales[i], wname[w]);
			if (!ok(got && !strcmp(got, ref[w]), name) && got)
				first_difference(got, ref[w]);
			free(got);
		}
		/* The caller's locale is in force again (both write a decimal comma). */
		snprintf(num, sizeof(num), "%.1f", 1.5);
		snprintf(name, sizeof(name), "%s: the caller's locale is back after the writers", locales[i]);
		ok(!strcmp(num, "1,5"), name);
	}
	setlocale(LC_ALL, "C");
	for (int w = 0; w < NR_W; w++)
		free(ref[w]);
	free(dflame);
	return done_testing();
}
