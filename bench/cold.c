// SPDX-License-Identifier: GPL-2.0
/*
 * cold.c - section 2: the cold path. Cost of xpmem_attach() plus the first
 * touch (one store per 4 KiB page) of N bytes, per 4 KiB page, against
 *  - the first touch of fresh local anonymous memory (mmap + madvise +
 *    one store per page), and
 *  - the same with the pages populated up front (MADV_POPULATE_WRITE,
 *    i.e. what MAP_POPULATE does, applied after the backing is chosen:
 *    MAP_POPULATE itself would populate before MADV_NOHUGEPAGE/HUGEPAGE),
 * with the same backing on both sides: 4 KiB pages (MADV_NOHUGEPAGE) or
 * THP (MADV_HUGEPAGE); every buffer starts at a 2 MiB boundary.
 *
 * The exporter process has two sources: one populated once (every byte
 * written; its THP share is read from its /proc/self/smaps AnonHugePages
 * and reported), one unmapped and mapped afresh (empty, page tables
 * freed) before each sample, so that the importer's touch makes the
 * exporter fault (its THP share after the touch is reported too). Each sample attaches afresh (with vaddr
 * NULL: the kernel picks the address, as MPI libraries do; --align-attach
 * passes a 2 MiB-aligned address instead), is timed up to the last
 * touch, then detached untimed. The module's counters around each sample
 * give faults, pages per fault and the share of faults that mapped a PMD.
 * Where the library has xpmem_attach_flags() and the module takes
 * XPMEM_ATTACH_POPULATE, both sources are also attached with that flag
 * (for information; no target). Figures: best (shortest) of the samples
 * (cold_reps(); an xpmem case stops after 3 once it has taken
 * COLD_CASE_BUDGET), per 4 KiB page, divided by the local baseline's best.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#ifdef XPMEM_HAVE_ATTACH_FLAGS
/* Resolved at run time: NULL with a library that does not have it yet. */
#pragma weak xpmem_attach_flags
#endif

static const size_t cold_sizes[] = { 64 * KIB, 2 * MIB, 16 * MIB, 64 * MIB };
#define NR_COLD_SIZES	ARRAY_SIZE(cold_sizes)

#define PMD_BOUND		0.99	/* share of faults that map a PMD */
#define THP_COST_BOUND		1.5	/* x local first touch (THP) */
#define POP4K_BOUND		0.05	/* x local first touch, populated source */
#define UNPOP4K_BOUND		1.5	/* x local first touch, empty source */
#define POP4K_FROM		MIB	/* the 4 KiB bounds apply from 1 MiB */

/* The xpmem cases of a row. */
enum {
	CASE_POP,		/* populated source */
	CASE_UNPOP,		/* source emptied before each sample */
	CASE_POP_FLAG,		/* populated, XPMEM_ATTACH_POPULATE */
	CASE_UNPOP_FLAG,	/* emptied, XPMEM_ATTACH_POPULATE */
	NR_CASES,
};

static const char *const case_names[NR_CASES] = {
	"populated", "unpopulated", "populated+P", "unpopulated+P",
};

struct cold_case {
	double ns[MAX_SAMPLES];		/* per sample, whole attach + touch */
	double spent;		/* ns, over the samples */
	int n;			/* samples taken */
	struct counters sum;	/* over the samples */
	double src_thp;		/* exporter's THP share of the source */
	bool aligned;		/* every attachment was 2 MiB aligned */
	bool failed;		/* (the flag is not supported) */
};

/* Worst values over the rows, for the targets. */
enum {
	W_THP_POP_COST, W_THP_POP_PMD, W_THP_UNPOP_COST, W_THP_UNPOP_PMD,
	W_4K_POP, W_4K_UNPOP, NR_WORST,
};

struct cold_worst {
	double v;
	char where[64];
};

static void worst_of(struct cold_worst *w, double v, bool max,
		     const char *where)
{
	if (isnan(v))
		return;
	if (isnan(w->v) || (max ? v > w->v : v < w->v)) {
		w->v = v;
		snprintf(w->where, sizeof(w->where), "%s", where);
	}
}

/*
 * An xpmem case stops taking samples when they took this long (after 3),
 * so that a slow module cannot blow the time budget.
 */
#define COLD_CASE_BUDGET	4e9

/*
 * Samples per row: 4x --reps up to 2 MiB (cheap, and short samples suffer
 * most from the host's bursts of noise), 2x above.
 */
static int cold_reps(size_t n)
{
	int reps = opt.reps * (n <= HPAGE_SIZE ? 4 : 2);

	return reps > MAX_SAMPLES ? MAX_SAMPLES : reps;
}

/* First touch of fresh local memory; @thp gets its THP share. */
static double local_sample(size_t n, enum backing b, bool populate,
			   double *thp)
{
	void *hint = reserve_aligned(n, HPAGE_SIZE);
	long huge, rss;
	uint64_t t0;
	double t;
	char *p;

	if (!hint)
		return __builtin_nan("");
	t0 = now_ns();
	p = mmap(hint, n, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return __builtin_nan("");
	if (set_backing(p, n, b) ||
	    (populate && madvise(p, n, MADV_POPULATE_WRITE))) {
		munmap(p, n);
		return __builtin_nan("");
	}
	touch_write(p, n);
	t = (double)(now_ns() - t0);
	if (thp && !smaps_range(p, n, &huge, &rss))
		*thp = (double)huge * KIB / n;
	munmap(p, n);
	return t;
}

static char *attach(xpmem_apid_t apid, size_t n, void *vaddr, bool flag)
{
	struct xpmem_addr a = { .apid = apid };

#ifdef XPMEM_HAVE_ATTACH_FLAGS
	if (flag)
		return xpmem_attach_flags(a, n, vaddr, XPMEM_ATTACH_POPULATE);
#endif
	(void)flag;
	return xpmem_attach(a, n, vaddr);
}

static bool have_populate_flag(void)
{
#ifdef XPMEM_HAVE_ATTACH_FLAGS
	return xpmem_attach_flags != NULL;
#else
	return false;
#endif
}

/* Attach @n bytes of @apid's segment and touch them all. */
static double xpmem_sample(xpmem_apid_t apid, size_t n, bool flag,
			   struct cold_case *c)
{
	struct counters before, after, delta;
	void *vaddr = NULL;
	uint64_t t0;
	double t;
	char *p;

	if (opt.align_attach) {
		vaddr = reserve_aligned(n, HPAGE_SIZE);
		if (!vaddr)
			return __builtin_nan("");
	}
	counters_read(&before);
	t0 = now_ns();
	p = attach(apid, n, vaddr, flag);
	if (p == (char *)-1)
		return __builtin_nan("");
	touch_write(p, n);
	t = (double)(now_ns() - t0);
	counters_read(&after);
	counters_delta(&delta, &before, &after);
	counters_add(&c->sum, &delta);
	if ((uintptr_t)p & (HPAGE_SIZE - 1))
		c->aligned = false;
	xpmem_detach(p);
	return t;
}

/* Row status of two targets: MISS if one misses, n/a parts are named. */
static const char *both(const char *cost, const char *pmd)
{
	if (!strcmp(cost, "MISS") || !strcmp(pmd, "MISS"))
		return "MISS";
	if (!strcmp(pmd, "n/a"))
		return !strcmp(cost, "PASS") ? "PASS (PMD n/a)" : "n/a";
	return cost;
}

static double ratio_of(long long a, long long b, bool have)
{
	return have && b ? (double)a / (double)b : __builtin_nan("");
}

static void print_num(const char *fmt, double v, int width)
{
	if (isnan(v))
		printf("%*s", width, "n/a");
	else
		printf(fmt, width, v);
}

/*
 * Print and record one xpmem case (leaves its JSON object open, for the
 * target); @per_page and @pmd get its cost and PMD share.
 */
static void report_case(int k, struct cold_case *c, size_t n,
			double touch, double pop, double touch_med,
			const char *lead, double *per_page, double *pmd,
			bool *nz)
{
	double pages = (double)n / pagesz, x = minimum(c->ns, c->n) / pages;
	double xmed = median(c->ns, c->n) / pages;
	bool have = c->sum.have[C_FAULTS];
	double faults = have ? (double)c->sum.v[C_FAULTS] / c->n :
			__builtin_nan("");
	double ppf = ratio_of(c->sum.v[C_FAULT_PAGES], c->sum.v[C_FAULTS],
			      have && c->sum.have[C_FAULT_PAGES]);

	*per_page = x;
	*nz = noisy(x / touch, xmed / touch_med);
	*pmd = ratio_of(c->sum.v[C_FAULT_HUGE], c->sum.v[C_FAULTS],
			have && c->sum.have[C_FAULT_HUGE]);
	printf("%s| %-13s | %8.0f | %7.3fx | %8.3fx | ", lead, case_names[k],
	       x, x / touch, x / pop);
	print_num("%*.1f", faults, 6);
	printf(" | ");
	print_num("%*.1f", ppf, 8);
	printf(" | ");
	print_num("%*.1f", *pmd * 100, 5);
	printf(" | %5.0f%% | %-7s | ", c->src_thp * 100,
	       c->aligned ? "yes" : "no");

	json_begin(case_names[k], '{');
	json_num("ns_per_page", x);
	json_num("ns_per_page_median", xmed);
	json_bool("noisy", *nz);
	json_num("ratio_vs_touch", x / touch);
	json_num("ratio_vs_populate", x / pop);
	json_num("source_thp_fraction", c->src_thp);
	json_bool("attach_2m_aligned", c->aligned);
	json_num("faults_per_sample", faults);
	json_num("pages_per_fault", ppf);
	json_num("pmd_fraction", *pmd);
	json_int("samples", c->n);
	json_counters("counters_per_sample", &c->sum, c->n);
}

/* The target status of case @k of a row, and the worst values. */
static const char *case_target(int k, enum backing b, size_t n, double x,
			       double pmd, struct cold_worst *w, bool nz)
{
	bool pop = k == CASE_POP;
	char where[64], sz[32];

	/* (the PMD share is a count: noise does not touch it) */
	snprintf(where, sizeof(where), "%s %s", backing_name(b),
		 fmt_size(n, sz, sizeof(sz)));

	if (k != CASE_POP && k != CASE_UNPOP)
		return "";
	if (b == BACK_THP) {
		worst_of(&w[pop ? W_THP_POP_PMD : W_THP_UNPOP_PMD], pmd, false,
			 where);
		if (nz)
			strcat(where, " (noisy)");
		worst_of(&w[pop ? W_THP_POP_COST : W_THP_UNPOP_COST], x, true,
			 where);
		return both(target_check(x, AT_MOST, THP_COST_BOUND),
			    target_check(pmd, AT_LEAST, PMD_BOUND));
	}
	if (n < POP4K_FROM)
		return "";
	if (nz)
		strcat(where, " (noisy)");
	worst_of(&w[pop ? W_4K_POP : W_4K_UNPOP], x, true, where);
	return target_check(x, AT_MOST, pop ? POP4K_BOUND : UNPOP4K_BOUND);
}

static int cold_backing(enum backing b, struct cold_worst *w)
{
	static struct cold_case cases[NR_CASES];
	int ncases = have_populate_flag() ? NR_CASES : CASE_POP_FLAG;
	int reps, r, k, ret = -1;
	xpmem_apid_t apid_pop = -1, apid_unpop = -1;
	int64_t src_pop, src_unpop, seg_pop, seg_unpop, huge, uhuge, rss;
	struct worker e = { 0 };
	size_t max = 0, n;
	char sz[32];
	bool any_noisy = false;
	unsigned int i;

	for (i = 0; i < NR_COLD_SIZES; i++)
		if (cold_sizes[i] <= opt.cold_max)
			max = cold_sizes[i];
	if (max < (b == BACK_THP ? HPAGE_SIZE : 1))
		return 0;
	if (worker_start(&e, 0)) {
		bench_error(errno, "cold: fork");
		return -1;
	}
	if (worker_call(&e, W_MAP, max, b, 1, 0, &src_pop, NULL) ||
	    worker_call(&e, W_MAP, max, b, 0, 0, &src_unpop, NULL) ||
	    worker_call(&e, W_MAKE, src_pop, max, 0, 0, &seg_pop, NULL) ||
	    worker_call(&e, W_MAKE, src_unpop, max, 0, 0, &seg_unpop, NULL) ||
	    worker_call(&e, W_SMAPS, src_pop, max, 0, 0, &huge, &rss)) {
		bench_error(errno, "cold: exporter setup");
		goto out;
	}
	apid_pop = xpmem_get(seg_pop, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	apid_unpop = xpmem_get(seg_unpop, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (apid_pop == -1 || apid_unpop == -1) {
		bench_error(errno, "cold: xpmem_get");
		goto out;
	}

	printf("\n%s-backed source and local memory (populated source: THP share %.0f%%):\n\n",
	       backing_name(b), 100.0 * huge * KIB / max);
	printf("| %-6s | %8s | %8s | %6s | %-13s | %8s | %8s | %9s | %6s | %8s | %5s | %6s | %-7s | %-6s |\n",
	       "size", "touch/pg", "popul/pg", "locTHP", "source", "xpmem/pg",
	       "/touch", "/populate", "faults", "pg/fault", "PMD%",
	       "srcTHP", "aligned", "target");
	printf("|-------:|---------:|---------:|-------:|:--------------|---------:|---------:|----------:|-------:|---------:|------:|-------:|:--------|:-------|\n");

	for (i = 0; i < NR_COLD_SIZES; i++) {
		double touch[MAX_SAMPLES], populate[MAX_SAMPLES], mt, mp, pages;
		double thp_local = 0;
		double x, pmd;
		const char *st;

		n = cold_sizes[i];
		if (n > max || (b == BACK_THP && n < HPAGE_SIZE))
			continue;
		reps = cold_reps(n);
		pages = (double)n / pagesz;
		memset(cases, 0, sizeof(cases));
		for (k = 0; k < ncases; k++) {
			cases[k].aligned = true;
			cases[k].src_thp = (double)huge * KIB / max;
		}
		for (r = 0; r < reps; r++) {
			touch[r] = local_sample(n, b, false, &thp_local);
			populate[r] = local_sample(n, b, true, NULL);
			if (isnan(touch[r]) || isnan(populate[r])) {
				bench_error(errno, "cold: local %s sample of %zu bytes",
					    backing_name(b), n);
				goto out;
			}
			for (k = 0; k < ncases; k++) {
				struct cold_case *c = &cases[k];
				bool unpop = k == CASE_UNPOP ||
					     k == CASE_UNPOP_FLAG;

				if (c->failed || (c->n >= 3 &&
						  c->spent > COLD_CASE_BUDGET))
					continue;
				if (unpop && worker_call(&e, W_RENEW, src_unpop,
							 max, b, 0, NULL, NULL)) {
					bench_error(errno, "cold: renew the source");
					goto out;
				}
				c->ns[c->n] = xpmem_sample(unpop ? apid_unpop :
							   apid_pop, n,
							   k >= CASE_POP_FLAG, c);
				if (isnan(c->ns[c->n]) && k >= CASE_POP_FLAG &&
				    errno == EINVAL) {
					c->failed = true;	/* old module */
					continue;
				}
				if (isnan(c->ns[c->n])) {
					bench_error(errno, "cold: %s attach of %zu bytes",
						    backing_name(b), n);
					goto out;
				}
				c->spent += c->ns[c->n++];
				if (unpop && !worker_call(&e, W_SMAPS,
							  src_unpop, max, 0, 0,
							  &uhuge, &rss))
					c->src_thp = (double)uhuge * KIB / n;
			}
		}
		mt = minimum(touch, reps) / pages;
		mp = minimum(populate, reps) / pages;

		json_begin(NULL, '{');
		json_str("backing", backing_name(b));
		json_int("size", (long long)n);
		json_int("reps", reps);
		json_num("local_touch_ns_per_page", mt);
		json_num("local_populate_ns_per_page", mp);
		json_num("local_touch_ns_per_page_median",
			 median(touch, reps) / pages);
		json_num("local_populate_ns_per_page_median",
			 median(populate, reps) / pages);
		json_str("populate_method",
			 "mmap + madvise(backing) + MADV_POPULATE_WRITE");
		json_num("local_thp_fraction", thp_local);
		for (k = 0; k < ncases; k++) {
			char lead[64] = "|        |          |          |        ";
			bool nz;

			if (cases[k].failed)
				continue;
			if (k == 0)
				snprintf(lead, sizeof(lead),
					 "| %6s | %8.0f | %8.0f | %5.0f%% ",
					 fmt_size(n, sz, sizeof(sz)), mt, mp,
					 thp_local * 100);
			report_case(k, &cases[k], n, mt, mp,
				    median(touch, reps) / pages, lead, &x,
				    &pmd, &nz);
			st = case_target(k, b, n, x / mt, pmd, w, nz);
			if (*st)
				json_str("target", st);
			json_end();
			printf("%-6s |\n", *st ? mark(st, nz) : "");
			any_noisy |= nz && *st;
		}
		json_end();
		fflush(stdout);
	}
	if (any_noisy)
		printf("\n%s", noise_note);
	ret = 0;
out:
	if (apid_pop != -1)
		xpmem_release(apid_pop);
	if (apid_unpop != -1)
		xpmem_release(apid_unpop);
	worker_stop(&e);
	return ret;
}

int section_cold(void)
{
	struct cold_worst w[NR_WORST];
	int i, ret;

	for (i = 0; i < NR_WORST; i++) {
		w[i].v = __builtin_nan("");
		w[i].where[0] = 0;
	}
	printf("\n### 2. Cold path: attach + first touch, per 4 KiB page, vs local first touch and populate\n\n");
	printf("touch/popul: local first touch / MADV_POPULATE_WRITE + touch, ns per 4 KiB\n"
	       "page; locTHP: THP share of that local memory; xpmem/pg: attach + touch, ns\n"
	       "per 4 KiB page (all best of %d samples, %d up to 2 MiB);\n"
	       "faults per sample, pages mapped per fault and PMD share of faults from the\n"
	       "module's counters; srcTHP: exporter's THP share of the source; aligned:\n"
	       "attachment at a 2 MiB boundary; +P: attached with XPMEM_ATTACH_POPULATE (no\n"
	       "target). Targets: THP <= 1.5x touch and >= 99%% PMD; 4k from 1 MiB:\n"
	       "populated <= 0.05x touch, unpopulated <= 1.5x touch.\n",
	       cold_reps(64 * MIB), cold_reps(HPAGE_SIZE));
	json_begin("cold", '{');
	json_str("measures", "xpmem_attach + one store per 4 KiB page, vs mmap + one store per page of fresh local memory (touch) and with MADV_POPULATE_WRITE first (populate); per 4 KiB page; same backing; best of reps");
	json_bool("attach_at_aligned_address", opt.align_attach);
	json_bool("populate_flag_tested", have_populate_flag());
	json_begin("rows", '[');
	ret = cold_backing(BACK_4K, w);
	if (!ret)
		ret = cold_backing(BACK_THP, w);
	json_end();
	json_end();

	target_add("cold_thp_populated_pmd",
		   "cold THP source, populated: PMD share of faults", AT_LEAST,
		   PMD_BOUND, w[W_THP_POP_PMD].v, w[W_THP_POP_PMD].where);
	target_add("cold_thp_populated_cost",
		   "cold THP source, populated: x local THP touch", AT_MOST,
		   THP_COST_BOUND, w[W_THP_POP_COST].v, w[W_THP_POP_COST].where);
	target_add("cold_thp_unpopulated_pmd",
		   "cold THP source, not populated: PMD share of faults",
		   AT_LEAST, PMD_BOUND, w[W_THP_UNPOP_PMD].v,
		   w[W_THP_UNPOP_PMD].where);
	target_add("cold_thp_unpopulated_cost",
		   "cold THP source, not populated: x local THP touch",
		   AT_MOST, THP_COST_BOUND, w[W_THP_UNPOP_COST].v,
		   w[W_THP_UNPOP_COST].where);
	target_add("cold_4k_populated_cost",
		   "cold 4k source, populated, >= 1 MiB: x local touch",
		   AT_MOST, POP4K_BOUND, w[W_4K_POP].v, w[W_4K_POP].where);
	target_add("cold_4k_unpopulated_cost",
		   "cold 4k source, not populated, >=1 MiB: x local touch",
		   AT_MOST, UNPOP4K_BOUND, w[W_4K_UNPOP].v, w[W_4K_UNPOP].where);
	return ret;
}
