/*
 * top.c - unit tests of pdtop's library side that need no kernel: folded
 * input (self of the leaf, children once per stack even when recursive),
 * sort keys, filters, the tsv and json layouts, content sniffing and errors.
 */
#include "pd-internal.h"
#include "../tap.h"

/* Run the folded TEXT through a table with OPTS and SORT; the output of FMT. */
static char *
run(const char *text, const struct pd_top_opts *o, const char *sort, const char *filter_comm,
    enum pd_top_format fmt, int *rc)
{
	struct pd_top *t = pd_top_new(o);
	struct pd_top_print p = { fmt, 0, 0 };
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	*rc = PD_OK;
	if (sort)
		*rc = pd_top_set_sort(t, sort);
	if (*rc == PD_OK && filter_comm)
		*rc = pd_top_set_filter(t, PD_TOP_COMM, filter_comm);
	if (*rc == PD_OK)
		*rc = pd_top_read_folded(t, in, "unit.folded");
	if (*rc == PD_OK)
		*rc = pd_top_write(t, out, &p);
	else
		fputs(pd_top_errmsg(t), out);
	fclose(out);
	fclose(in);
	pd_top_free(t);
	return buf;
}

static const char stacks[] =
    "# pd-folded v1 weight=samples event=cpu-clock tool=pdcollapse\n"
    "app;main;rec;rec;rec;leaf 6\n"
    "app;main;rec 2\n"
    "app;main;other_[k] 1\n"
    "\n"
    "tool;main;leaf 1\r\n";

static void
test_folded(void)
{
	struct pd_top_opts o = { .children = -1 };
	char *s;
	int rc;

	s = run(stacks, &o, "symbol", NULL, PD_TOP_TSV, &rc);
	is_int(rc, PD_OK, "folded: read and written");
	ok(!strncmp(s, "overhead\tsamples\tperiod\tsymbol\tself\tself_samples\tself_period\tevent\n",
	    strlen("overhead\tsamples\tperiod\tsymbol\tself\tself_samples\tself_period\tevent\n")),
	    "folded: tsv starts with its header row, children columns: stacks with callers default to children");
	ok(!strchr(s, '#'), "folded: tsv has no # line");
	/* main is on all 10 stacks; rec on 8 (6 of them recursive, counted once). */
	ok(strstr(s, "100.00\t10\t\t[.] main\t0.00\t0\t\tcpu-clock\n") != NULL,
	    "folded: main: children 100%, the event from the metadata line, no periods in sample counts");
	ok(strstr(s, "80.00\t8\t\t[.] rec\t20.00\t2\t\tcpu-clock\n") != NULL,
	    "folded: a recursive frame counts once per stack");
	ok(strstr(s, "70.00\t7\t\t[.] leaf\t70.00\t7\t\tcpu-clock\n") != NULL, "folded: the leaf is self");
	ok(strstr(s, "10.00\t1\t\t[k] other\t10.00\t1\t\tcpu-clock\n") != NULL, "folded: _[k] is a kernel frame");
	ok(!strstr(s, "\t[.] app") && !strstr(s, "\t[.] tool"), "folded: the comm is not a frame");
	free(s);

	o.children = 0;
	s = run(stacks, &o, "comm,symbol", NULL, PD_TOP_TSV, &rc);
	ok(!strncmp(s, "overhead\tsamples\tperiod\tcomm\tsymbol\tevent\n60.00\t6\t\tapp\t[.] leaf\tcpu-clock\n",
	    strlen("overhead\tsamples\tperiod\tcomm\tsymbol\tevent\n60.00\t6\t\tapp\t[.] leaf\tcpu-clock\n")),
	    "folded: --no-children, sorted by overhead");
	ok(strstr(s, "10.00\t1\t\ttool\t[.] leaf\tcpu-clock\n") != NULL, "folded: comm splits the rows");
	free(s);

	o.relative = 1;
	s = run(stacks, &o, "symbol", "tool", PD_TOP_TSV, &rc);
	ok(strstr(s, "100.00\t1\t\t[.] leaf\tcpu-clock\n") != NULL, "folded: --comm with relative percentages");
	free(s);
	s = run(stacks, &o, "symbol", "tool", PD_TOP_JSON, &rc);
	ok(strstr(s, "\"samples\":10,\"period\":null,\"kept_samples\":1,\"kept_period\":null,") != NULL,
	    "folded: json: the totals, kept ones by the filter, no periods in sample counts");
	free(s);
	o.relative = 0;
	s = run(stacks, &o, "symbol", "tool", PD_TOP_TSV, &rc);
	ok(strstr(s, "10.00\t1\t\t[.] leaf\tcpu-clock\n") != NULL, "folded: --comm with absolute percentages");
	free(s);

	/* Periods (pdcollapse --weight=period --header): no sample counts. */
	s = run("# pd-folded v1 weight=period event=cycles tool=pdcollapse\napp;main 3000\napp;f 1000\n", &o,
	    "symbol", NULL, PD_TOP_TSV, &rc);
	ok(strstr(s, "\n75.00\t\t3000\t[.] main\tcycles\n") != NULL, "folded periods: tsv: no sample counts");
	free(s);
	s = run("# pd-folded v1 weight=period event=cycles tool=pdcollapse\napp;main 3000\napp;f 1000\n", &o,
	    "symbol", NULL, PD_TOP_TEXT, &rc);
	ok(!strstr(s, "Samples") && strstr(s, "# Event count (approx.): 4000 of event 'cycles'\n") != NULL,
	    "folded periods: text: the event count, no samples");
	free(s);
	o.weight_samples = 1;
	s = run("# pd-folded v1 weight=period event=cycles tool=pdcollapse\napp;main 3000\n", &o, "symbol",
	    NULL, PD_TOP_TEXT, &rc);
	is_int(rc, PD_E_USAGE, "folded periods: percentages of samples are refused");
	ok(strstr(s, "'unit.folded': the counts are periods") != NULL, "folded periods: and the message says why");
	free(s);
	o.weight_samples = 0;
	s = run("app;main 3000\napp;f 1000\n", &o, "symbol", NULL, PD_TOP_TEXT, &rc);
	ok(strstr(s, "# Samples: 4K of event 'folded'\n") && !strstr(s, "Event count"),
	    "folded without a metadata line: text: samples, no event count");
	free(s);
	s = run("app;main 3000\napp;f 1000\n", &o, "symbol", NULL, PD_TOP_JSON, &rc);
	ok(strstr(s, "\"samples\":4000,\"period\":null,") != NULL,
	    "folded without a metadata line: json: sample counts");
	free(s);

	s = run(stacks, &o, "dso", NULL, PD_TOP_TSV, &rc);
	is_int(rc, PD_E_USAGE, "folded: no dso key");
	ok(strstr(s, "'unit.folded': folded stacks have no dso") != NULL, "folded: and the message says so");
	free(s);

	s = run("a;b 1\na;b x\n", &o, NULL, NULL, PD_TOP_TSV, &rc);
	is_int(rc, PD_E_FORMAT, "folded: a bad count is an error");
	is_str(s, "'unit.folded': line 2: bad count 'x' at offset 0x6", "folded: naming the file, the line and its offset");
	free(s);
	s = run("a;b\n", &o, NULL, NULL, PD_TOP_TSV, &rc);
	is_int(rc, PD_E_FORMAT, "folded: no count is an error");
	free(s);
}

static void
test_json(void)
{
	static const char head[] = "{\"schema\":\"pd-top-v1\",\"input\":\"folded\",\"weight\":\"period\","
	    "\"mode\":\"children\",\"percentage\":\"absolute\",\"sort\":[\"symbol\"],\"lost_samples\":0,";
	struct pd_top_opts o = { .children = 1 };
	char *s;
	int rc;

	s = run("app;main;caf\xc3\xa9\"x\\ 3\napp;main;bad\xff 1\n", &o, "symbol", NULL, PD_TOP_JSON, &rc);
	is_int(rc, PD_OK, "json: written");
	ok(!strncmp(s, head, strlen(head)), "json: the header object");
	ok(strstr(s, "\"symbol\":\"[.] caf\xc3\xa9\\\"x\\\\\"") != NULL, "json: quotes and backslashes escaped, UTF-8 kept");
	ok(strstr(s, "\"symbol\":\"[.] bad\\ufffd\"") != NULL, "json: a byte that is not UTF-8 is U+FFFD");
	ok(strstr(s, "{\"overhead\":100.00,\"samples\":4,\"period\":null,\"symbol\":\"[.] main\","
	    "\"self\":0.00,\"self_samples\":0,\"self_period\":null}") != NULL, "json: a row with its columns");
	free(s);
}

static void
test_api(void)
{
	struct pd_top *t = pd_top_new(NULL);

	is_int(pd_top_set_sort(t, "symbol,bogus"), PD_E_USAGE, "sort: an unknown key");
	ok(strstr(pd_top_errmsg(t), "unknown key 'bogus'") != NULL, "sort: named in the message");
	is_int(pd_top_set_sort(t, "dso,dso"), PD_E_USAGE, "sort: a key twice");
	is_int(pd_top_set_sort(t, "symbol,"), PD_E_USAGE, "sort: an empty key");
	is_int(pd_top_set_sort(t, "pid,tid,comm,dso,symbol"), PD_OK, "sort: all five keys");
	is_int(pd_top_set_filter(t, PD_TOP_PID, "1,x"), PD_E_USAGE, "filter: a pid must be a number");
	is_int(pd_top_set_filter(t, PD_TOP_TID, "12,13"), PD_OK, "filter: tids");
	is_int(pd_top_set_filter(t, PD_TOP_COMM, "a,,b"), PD_E_USAGE, "filter: an empty item");
	is_str(pd_top_key_name(PD_TOP_DSO), "dso", "key names");
	pd_top_free(t);
	pd_top_free(NULL);
	is_int(pd_top_sniff("PERFILE2\x10\0\0\0", 12), 1, "sniff: perf.data");
	is_int(pd_top_sniff("2ELIFREP", 8), 1, "sniff: perf.data of the other byte order");
	is_int(pd_top_sniff("a;b 1\n", 6), 0, "sniff: text");
	is_int(pd_top_sniff("PERF\0DATA", 9), -1, "sniff: binary, not perf.data");
}

int
main(void)
{
	test_folded();
	test_json();
	test_api();
	return done_testing();
}
