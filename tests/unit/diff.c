/*
 * diff.c - unit tests of pddiff's library side that need no kernel: the
 * z-test against known values, Holm's correction over many symbols, name
 * rules, exact scaling, NEW/GONE marks and --fail-on parsing.
 */
#include "pd-internal.h"
#include "../tap.h"

static int
near(double got, double want, double rel)
{
	double d = got - want;

	if (d < 0)
		d = -d;
	return d <= rel * (want < 0 ? -want : want) + 1e-15;
}

/* The output of D in FMT, as a string (caller frees). */
static char *
output(struct pd_diff *d, enum pd_diff_format fmt, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (pd_diff_write(d, out, fmt, flags) < 0)
		fputs(pd_diff_errmsg(d), out);
	fclose(out);
	return buf;
}

static int
read_text(struct pd_diff *d, int side, const char *text)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int rc = pd_diff_read_folded(d, side, in, "unit");

	fclose(in);
	return rc;
}

int
main(void)
{
	struct pd_diff_opts o;
	struct pd_diff *d;
	double z, p;
	char *s;

	/* 10/100 against 30/100: pooled p 0.2, z = 0.2 / sqrt(0.2*0.8*0.02) = 3.5355, p = 4.07e-4. */
	p = pd_diff_ztest(10, 100, 30, 100, &z);
	ok(near(z, 3.5355339, 1e-6), "z of 10/100 against 30/100");
	ok(near(p, 4.0695e-4, 1e-3), "two-sided p of z=3.54");
	p = pd_diff_ztest(30, 100, 10, 100, &z);
	ok(near(z, -3.5355339, 1e-6) && near(p, 4.0695e-4, 1e-3), "symmetric when it shrank");
	p = pd_diff_ztest(50, 100, 50, 100, &z);
	ok(z == 0 && near(p, 1, 1e-9), "no change: z 0, p 1");
	/* z = 1.959964 gives p 0.05: 1.96 * se for n = 10000 each at p 0.5. */
	p = pd_diff_ztest(5000, 10000, 5139, 10000, &z);
	ok(near(p, 0.0497, 0.01), "p near 0.05 at z near 1.96");
	p = pd_diff_ztest(0, 500, 0, 500, &z);
	ok(z == 0 && p == 1, "nothing on either side: no evidence");
	p = pd_diff_ztest(0, 500, 100, 500, &z);
	ok(p < 1e-20 && p >= 0, "a new symbol of 100 samples: tiny p, not negative");

	/*
	 * Holm: 200 symbols of 5 samples each, one grown to 18 (z 2.69, p
	 * 0.007 alone): not significant among 200, but a rule naming it is one
	 * test, and fires.
	 */
	pd_diff_opts_init(&o);
	o.threshold = 0;
	d = pd_diff_new(&o);
	{
		struct pd_buf a = PD_BUF_INIT, b = PD_BUF_INIT;

		for (int i = 0; i < 200; i++) {
			pd_buf_addf(&a, "app;f%03d 5\n", i);
			pd_buf_addf(&b, "app;f%03d %d\n", i, i == 7 ? 18 : 5);
		}
		ok(read_text(d, PD_DIFF_BASE, a.buf) == PD_OK && read_text(d, PD_DIFF_NEW, b.buf) == PD_OK,
		    "200 symbols read");
		is_int(pd_diff_gate(d, NULL), 0, "Holm: p 0.007 in 1 of 200 symbols is not significant");
		is_int(pd_diff_add_fail(d, "sym:f007>+1"), PD_OK, "a rule for it");
		is_int(pd_diff_gate(d, NULL), 1, "the rule fires: one hypothesis, its own p");
		pd_buf_release(&a);
		pd_buf_release(&b);
	}
	pd_diff_free(d);

	/* Rules. */
	d = pd_diff_new(&o);
	is_int(pd_diff_add_rule(d, "x/a/b/"), PD_E_USAGE, "a rule starts with s");
	is_int(pd_diff_add_rule(d, "s/a/b"), PD_E_USAGE, "an unterminated rule");
	is_int(pd_diff_add_rule(d, "s/(/b/"), PD_E_USAGE, "a bad regex");
	is_int(pd_diff_add_rule(d, "s/a/\\2/"), PD_E_USAGE, "a group the regex lacks");
	is_int(pd_diff_add_rule(d, "s|^(kworker)/[0-9]+$|\\1/N|"), PD_OK, "a rule with | and a group");
	is_int(pd_diff_add_rule(d, "s/\\/x//"), PD_OK, "an escaped delimiter");
	is_int(pd_diff_add_rule(d, "s/z*/-/"), PD_OK, "a rule that matches empty");
	is_int(pd_diff_add_fail(d, "sym:foo>+2"), PD_OK, "--fail-on sym:foo>+2");
	is_int(pd_diff_add_fail(d, "incl:foo>5%"), PD_OK, "--fail-on incl:foo>5%");
	is_int(pd_diff_add_fail(d, "total>+5%"), PD_OK, "--fail-on total>+5%");
	is_int(pd_diff_add_fail(d, "sym:>2"), PD_E_USAGE, "--fail-on without a name");
	is_int(pd_diff_add_fail(d, "foo>2"), PD_E_USAGE, "--fail-on of nothing known");
	is_int(pd_diff_add_fail(d, "sym:foo>-2"), PD_E_USAGE, "--fail-on with a negative growth");
	read_text(d, PD_DIFF_BASE, "kworker/3;ab/x_[k] 3\n");
	read_text(d, PD_DIFF_NEW, "kworker/12;ab/x_[k] 3\n");
	s = output(d, PD_DIFF_FOLDED, 0);
	is_str(s, "-k-w-o-r-k-e-r-/-N-;-a-b-_[k] 3 3\n", "rules in order, annotation kept, threads merged");
	free(s);
	pd_diff_free(d);

	/* Scaling, marks, swap. */
	d = pd_diff_new(&o);
	read_text(d, PD_DIFF_BASE, "a;b 1\na;c 1\na;d;e 1\n");
	read_text(d, PD_DIFF_NEW, "a;b 2\na;c 1\na;x;y 1\n");
	s = output(d, PD_DIFF_FOLDED, PD_DIFF_SCALE);
	is_str(s, "a;b 2 2\na;c 1 1\na;d [GONE];e 1 0\na;x [NEW];y 0 1\n",
	    "-n: 3 into 4 by largest remainder; NEW and GONE on the outermost frame");
	free(s);
	s = output(d, PD_DIFF_FOLDED, PD_DIFF_SWAP | PD_DIFF_NO_MARKS);
	is_str(s, "a;b 2 1\na;c 1 1\na;d;e 0 1\na;x;y 1 0\n", "--swap --no-marks");
	free(s);
	s = output(d, PD_DIFF_FOLDED, PD_DIFF_HEADER | PD_DIFF_NO_MARKS);
	ok(!strncmp(s, "# pd-diff v1 weight=period event=none base_runs=1 new_runs=1 scaled=no "
	    "columns=base,new tool=pddiff\na;b 1 2\n", 80), "--header: the metadata line first");
	free(s);
	pd_diff_set_event(d, "cycles");
	s = output(d, PD_DIFF_FOLDED, PD_DIFF_HEADER);
	ok(strstr(s, " event=cycles ") != NULL, "--header: the event of the runs");
	free(s);
	pd_diff_set_event(d, "instructions");
	s = output(d, PD_DIFF_FOLDED, PD_DIFF_HEADER);
	ok(strstr(s, " event=none ") != NULL, "--header: runs of different events: none");
	free(s);
	pd_diff_free(d);
	return done_testing();
}
