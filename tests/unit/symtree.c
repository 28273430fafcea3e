/*
 * symtree.c - unit tests of the symbolizer's symbol tree (lib/sym.c), which
 * must have the shape of perf's red-black tree to give perf's answers where
 * symbols overlap: the red-black invariants and the in-order sequence after
 * random inserts and erases, a known shape, perf's descent over a sizeless
 * symbol stretched across PLT entries, and alias erasure.  sym.c is
 * included, so that its static functions can be called.
 */
#include "../../lib/sym.c"
#include "../tap.h"

/* Black height of X's subtree, or -1 when an invariant is broken. */
static int
check(const struct symtree *t, const struct pd_sym *s, uint32_t x, uint32_t parent)
{
	int hl, hr;

	if (x == RB_NIL)
		return 1;
	if (t->n[x].p != parent)
		return -1;
	if (t->n[x].red && rb_red(t, t->n[x].l))
		return -1;
	if (t->n[x].red && rb_red(t, t->n[x].r))
		return -1;
	if (t->n[x].l != RB_NIL && s[t->n[x].l].start > s[x].start)
		return -1;
	if (t->n[x].r != RB_NIL && s[t->n[x].r].start < s[x].start)
		return -1;
	hl = check(t, s, t->n[x].l, x);
	hr = check(t, s, t->n[x].r, x);
	if (hl < 0 || hl != hr)
		return -1;
	return hl + !t->n[x].red;
}

/* The in-order sequence of node indices into OUT; returns its length. */
static size_t
inorder(const struct symtree *t, uint32_t x, uint32_t *out, size_t k)
{
	if (x == RB_NIL)
		return k;
	k = inorder(t, t->n[x].l, out, k);
	out[k++] = x;
	return inorder(t, t->n[x].r, out, k);
}

static void
test_random(void)
{
	enum { N = 2000 };
	static struct pd_sym s[N];
	static uint32_t seq[N];
	static bool live[N];
	struct symtree t = { calloc(N, sizeof(*t.n)), RB_NIL };
	unsigned rnd = 12345;
	bool good = true, order = true;
	size_t nlive = 0, k;

	for (uint32_t i = 0; i < N; i++) {
		rnd = rnd * 1103515245u + 12345u;
		s[i].start = (rnd >> 16) % 300;	/* many equal keys */
		rb_insert(&t, s, i);
		live[i] = true;
		nlive++;
		if (i % 97 == 0 && check(&t, s, t.root, RB_NIL) < 0)
			good = false;
	}
	ok(good && !rb_red(&t, t.root) && check(&t, s, t.root, RB_NIL) > 0, "tree: red-black after 2000 inserts");
	k = inorder(&t, t.root, seq, 0);
	for (size_t i = 1; i < k; i++)
		if (s[seq[i - 1]].start > s[seq[i]].start ||
		    (s[seq[i - 1]].start == s[seq[i]].start && seq[i - 1] > seq[i]))
			order = false;
	ok(k == N && order, "tree: in order by address, equal addresses in insertion order");
	for (uint32_t i = 0; i < N; i++) {
		rnd = rnd * 1103515245u + 12345u;
		if ((rnd >> 16) % 3)
			continue;
		rb_erase(&t, i);
		live[i] = false;
		nlive--;
		if (check(&t, s, t.root, RB_NIL) < 0)
			good = false;
	}
	k = inorder(&t, t.root, seq, 0);
	order = k == nlive;
	for (size_t i = 0; order && i < k; i++)
		order = live[seq[i]] && (i == 0 || s[seq[i - 1]].start < s[seq[i]].start ||
		    (s[seq[i - 1]].start == s[seq[i]].start && seq[i - 1] < seq[i]));
	ok(good && order, "tree: red-black and in order after erasing a third");
	for (uint32_t i = 0; i < N; i++)
		if (live[i])
			rb_erase(&t, i);
	ok(t.root == RB_NIL, "tree: empty after erasing everything");
	free(t.n);
}

static void
test_shape(void)
{
	struct pd_sym s[7];
	struct symtree t = { calloc(7, sizeof(*t.n)), RB_NIL };

	for (uint32_t i = 0; i < 7; i++) {
		s[i] = (struct pd_sym){ .start = i + 1 };
		rb_insert(&t, s, i);
	}
	/* 1..7 ascending: 2 (black) over 1 (black) and 4 (red); 4 over 3 and 6 (black); 6 over 5 and 7 (red). */
	ok(t.root == 1 && t.n[1].l == 0 && t.n[1].r == 3 && t.n[3].red && t.n[3].l == 2 &&
	    t.n[3].r == 5 && !t.n[5].red && t.n[5].l == 4 && t.n[5].r == 6 && t.n[4].red && t.n[6].red,
	    "tree: 1..7 inserted in order has the textbook (and Linux rbtree) shape");
	free(t.n);
}

static void
test_overlap(void)
{
	/*
	 * _init (sizeless, so stretched to main), main, then two PLT entries
	 * inside _init's stretch.  perf's descent: the root is the first PLT
	 * entry, so 0x1100 (past the entries, in _init's stretch) goes right
	 * to main, left to the second entry, right to nothing.
	 */
	struct pd_sym s[4] = {
		{ .start = 0x1000, .end = 0x1000, .name = "_init", .binding = STB_GLOBAL },
		{ .start = 0x1200, .end = 0x1250, .name = "main", .binding = STB_GLOBAL },
		{ .start = 0x1030, .end = 0x1040, .name = "a@plt", .binding = STB_GLOBAL },
		{ .start = 0x1040, .end = 0x1050, .name = "b@plt", .binding = STB_GLOBAL },
	};
	struct pd_session_opts o = { 0 };
	struct pd_symbolizer *y = pd_symbolizer_new(&o);
	struct symtree t = { 0 };
	struct pd_sym *f;

	ok(y && tree_build(y, &t, s, 2, 4), "overlap: tree built");
	is_int(s[0].end, 0x1200, "overlap: the sizeless _init runs to main");
	f = tree_find(&t, s, 0x1010);
	is_str(f ? f->name : NULL, "_init", "overlap: before the PLT entries, _init");
	f = tree_find(&t, s, 0x1035);
	is_str(f ? f->name : NULL, "a@plt", "overlap: in the first entry, a@plt");
	f = tree_find(&t, s, 0x1045);
	is_str(f ? f->name : NULL, "b@plt", "overlap: in the second entry, b@plt");
	ok(tree_find(&t, s, 0x1100) == NULL, "overlap: past them, nothing, as perf's descent finds");
	f = tree_find(&t, s, 0x1210);
	is_str(f ? f->name : NULL, "main", "overlap: main");
	free(t.n);
	pd_symbolizer_free(y);
}

static void
test_aliases(void)
{
	/* free's names in libc's .symtab, in table order. */
	struct pd_sym s[5] = {
		{ .start = 0x98ef0, .end = 0x98ff1, .name = "__GI___libc_free", .binding = STB_LOCAL },
		{ .start = 0x98ef0, .end = 0x98ff1, .name = "free", .binding = STB_GLOBAL },
		{ .start = 0x98ef0, .end = 0x98ff1, .name = "__libc_free", .binding = STB_GLOBAL },
		{ .start = 0x98ef0, .end = 0x98ff1, .name = "cfree@GLIBC_2.2.5", .binding = STB_GLOBAL },
		{ .start = 0x97000, .end = 0x97010, .name = "w", .binding = STB_WEAK },
	};
	struct pd_session_opts o = { 0 };
	struct pd_symbolizer *y = pd_symbolizer_new(&o);
	struct symtree t = { 0 };
	struct pd_sym *f;
	uint32_t seq[5];

	ok(y && tree_build(y, &t, s, 5, 5), "aliases: tree built");
	f = tree_find(&t, s, 0x98f00);
	is_str(f ? f->name : NULL, "cfree@GLIBC_2.2.5",
	    "aliases: global, fewest underscores, then longest: cfree@GLIBC_2.2.5, as perf 6.1");
	is_int(inorder(&t, t.root, seq, 0), 2, "aliases: the others are erased from the tree");
	ok(check(&t, s, t.root, RB_NIL) > 0, "aliases: still red-black");
	free(t.n);
	pd_symbolizer_free(y);
}

int
main(void)
{
	test_random();
	test_shape();
	test_overlap();
	test_aliases();
	return done_testing();
}
