// SPDX-License-Identifier: GPL-2.0
/*
 * churn.c - section 4: what importers cost an exporter that never shares
 * the memory it churns. The exporter exports its whole address space
 * (xpmem_make(0, XPMEM_MAXADDR_SIZE)); 0, 1, 8, 64 (--importers) importer
 * processes each attach and touch a separate 1 MiB buffer of it and then
 * wait. Meanwhile the exporter runs a munmap/mmap loop on other memory:
 *  - "64k-touch1": mmap 64 KiB, store to its first page, munmap;
 *  - "1m-touchall": mmap 1 MiB, store to each of its pages, munmap.
 * The baseline is the same loop in a process that has nothing to do with
 * xpmem (it even closes the /dev/xpmem fd it inherits), run alternately
 * with the exporter's in samples of about --sample-ms / 4 (the same number
 * of cycles for both). The importer counts take turns: 4 x --reps rounds,
 * each visiting every count (importers attach or detach to get there) for 4
 * sample pairs, so that a burst of noise from the host cannot hit one
 * count only. Figure: best exporter time / best baseline time per count.
 * The module's counters show how many invalidations and zaps the
 * exporter's loop caused (the importers' ranges are never touched by it).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define CHURN_BOUND	1.1	/* x the baseline, with 64 importers */
#define CHURN_LEVEL	64
#define SHARED_LEN	MIB	/* what each importer attaches */
#define CHURN_REP_FACTOR 4	/* sample pairs per count and round */

struct churn_variant {
	const char *name;
	size_t len;
	bool touch_all;
};

static const struct churn_variant variants[] = {
	{ "64k-touch1", 64 * KIB, false },
	{ "1m-touchall", MIB, true },
};
#define NR_VARIANTS	ARRAY_SIZE(variants)

/* Samples of one importer count and loop. */
struct churn_cell {
	double tb[4 * 64], te[4 * 64];	/* ns per cycle */
	struct counters sum;		/* exporter samples */
	int n;
};

/* Attach or detach importers until @want of them are attached. */
static int set_importers(struct worker *imp, int64_t *addr, int *attached,
			 int want, int64_t seg, int64_t shared)
{
	for (; *attached < want; (*attached)++) {
		if (worker_call(&imp[*attached], W_ATTACH, seg, shared,
				SHARED_LEN, 1, &addr[*attached], NULL))
			return -1;
	}
	for (; *attached > want; (*attached)--) {
		if (worker_call(&imp[*attached - 1], W_DETACH,
				addr[*attached - 1], 0, 0, 0, NULL, NULL))
			return -1;
	}
	return 0;
}

/* CHURN_REP_FACTOR sample pairs, alternating which side goes first. */
static int churn_samples(struct worker *base, struct worker *exp,
			 const struct churn_variant *cv, long iters,
			 struct churn_cell *c)
{
	struct counters before, after, delta;
	int r;

	for (r = 0; r < 2 * CHURN_REP_FACTOR; r++) {
		/* base, exp, exp, base, base, exp, ... */
		bool is_exp = (r + r / 2) % 2;
		int64_t ns;

		counters_read(&before);
		if (worker_call(is_exp ? exp : base, W_CHURN, iters, cv->len,
				cv->touch_all, 0, &ns, NULL))
			return -1;
		counters_read(&after);
		if (!is_exp) {
			c->tb[c->n + r / 2] = (double)ns / iters;
			continue;
		}
		c->te[c->n + r / 2] = (double)ns / iters;
		counters_delta(&delta, &before, &after);
		counters_add(&c->sum, &delta);
	}
	c->n += CHURN_REP_FACTOR;
	return 0;
}

int section_churn(void)
{
	int reps = 4 * opt.reps > 64 ? 64 : 4 * opt.reps;	/* rounds */
	int maxlev = 0, attached = 0, l, r, ret = -1;
	bool any_noisy = false;
	struct worker base = { 0 }, exp = { 0 }, *imp;
	struct churn_cell *cells;
	double worst = __builtin_nan("");
	long iters[NR_VARIANTS];
	char where[64] = "";
	int64_t seg, shared, ns, *addr;
	unsigned int v;

	for (l = 0; l < opt.nlevels; l++)
		if (opt.levels[l] > maxlev)
			maxlev = opt.levels[l];
	printf("\n### 4. Exporter munmap/mmap churn with importers attached to other ranges, vs no xpmem\n\n");
	imp = calloc(maxlev + 1, sizeof(*imp));
	addr = calloc(maxlev + 1, sizeof(*addr));
	cells = calloc(opt.nlevels * NR_VARIANTS, sizeof(*cells));
	if (!imp || !addr || !cells) {
		bench_error(errno, "churn");
		goto out;
	}
	if (worker_start(&base, W_NO_XPMEM) || worker_start(&exp, 0) ||
	    worker_call(&base, W_PIN, bench_cpu(), 0, 0, 0, NULL, NULL) ||
	    worker_call(&exp, W_PIN, bench_cpu(), 0, 0, 0, NULL, NULL)) {
		bench_error(errno, "churn: fork");
		goto out;
	}
	for (l = 0; l < maxlev; l++) {
		if (worker_start(&imp[l], 0)) {
			bench_error(errno, "churn: fork importer %d", l);
			goto out;
		}
	}
	/*
	 * The baseline maps the same buffer as the exporter, so that both
	 * have the same layout: where the loop's mappings land, and whether
	 * they merge with a neighbour, must not differ.
	 */
	if (worker_call(&exp, W_MAKE, 0, XPMEM_MAXADDR_SIZE, 0, 0, &seg,
			NULL) ||
	    worker_call(&exp, W_MAP, SHARED_LEN, BACK_4K, 1, 0, &shared,
			NULL) ||
	    worker_call(&base, W_MAP, SHARED_LEN, BACK_4K, 1, 0, NULL, NULL)) {
		bench_error(errno, "churn: exporter setup");
		goto out;
	}
	/* Cycles per sample, from the baseline. */
	for (v = 0; v < NR_VARIANTS; v++) {
		if (worker_call(&base, W_CHURN, 4, variants[v].len,
				variants[v].touch_all, 0, &ns, NULL)) {
			bench_error(errno, "churn: loop");
			goto out;
		}
		iters[v] = sample_iters((double)ns / 4 * CHURN_REP_FACTOR);
	}

	for (r = 0; r < reps; r++) {
		for (l = 0; l < opt.nlevels; l++) {
			int want = opt.levels[r % 2 ? opt.nlevels - 1 - l : l];
			int cell = r % 2 ? opt.nlevels - 1 - l : l;

			if (set_importers(imp, addr, &attached, want, seg,
					  shared)) {
				bench_error(errno, "churn: %d importers", want);
				goto out;
			}
			for (v = 0; v < NR_VARIANTS; v++) {
				if (churn_samples(&base, &exp, &variants[v],
						  iters[v],
						  &cells[cell * NR_VARIANTS + v])) {
					bench_error(errno, "churn: loop with %d importers",
						    want);
					goto out;
				}
			}
		}
	}

	printf("us per cycle from the best of %d samples; inval/zaps: the module's counters per exporter cycle. Target: <= 1.1x with 64 importers.\n\n",
	       reps * CHURN_REP_FACTOR);
	printf("| %9s | %-11s | %10s | %11s | %8s | %8s | %8s | %-6s |\n",
	       "importers", "loop", "none us", "xpmem us", "ratio", "inval",
	       "zaps", "target");
	printf("|----------:|:------------|-----------:|------------:|---------:|---------:|---------:|:-------|\n");
	json_begin("churn", '{');
	json_str("measures", "munmap/mmap loop in an exporter (xpmem_make of everything) with N importers attached to an unrelated 1 MiB buffer, vs the same loop in a process without xpmem; ratio = best exporter time / best baseline time");
	json_int("samples", reps * CHURN_REP_FACTOR);
	json_begin("rows", '[');
	for (l = 0; l < opt.nlevels; l++) {
		for (v = 0; v < NR_VARIANTS; v++) {
			const struct churn_variant *cv = &variants[v];
			struct churn_cell *c = &cells[l * NR_VARIANTS + v];
			double mb = minimum(c->tb, c->n);
			double me = minimum(c->te, c->n), ratio = me / mb;
			double ops = (double)iters[v] * c->n;
			double pr[4 * 64], pmed, rmed;
			const char *st = "";
			bool nz;
			int i;

			for (i = 0; i < c->n; i++)
				pr[i] = c->te[i] / c->tb[i];
			pmed = median(pr, c->n);
			rmed = median(c->te, c->n) / median(c->tb, c->n);
			nz = noisy(ratio, rmed);
			any_noisy |= nz;
			if (opt.levels[l] == CHURN_LEVEL) {
				st = target_check(ratio, AT_MOST, CHURN_BOUND);
				if (isnan(worst) || ratio > worst) {
					worst = ratio;
					snprintf(where, sizeof(where),
						 "%d importers, %s%s",
						 opt.levels[l], cv->name,
						 nz ? " (noisy)" : "");
				}
			}
			printf("| %9d | %-11s | %10.2f | %11.2f | %7.3fx | ",
			       opt.levels[l], cv->name, mb / 1000, me / 1000,
			       ratio);
			if (c->sum.have[C_INVALIDATIONS])
				printf("%8.2f | ", c->sum.v[C_INVALIDATIONS] / ops);
			else
				printf("%8s | ", "n/a");
			if (c->sum.have[C_ZAPS])
				printf("%8.2f | ", c->sum.v[C_ZAPS] / ops);
			else
				printf("%8s | ", "n/a");
			printf("%-6s |\n", mark(st, nz));
			json_begin(NULL, '{');
			json_int("importers", opt.levels[l]);
			json_str("loop", cv->name);
			json_int("cycles_per_sample", iters[v]);
			json_num("baseline_ns_per_op", mb);
			json_num("exporter_ns_per_op", me);
			json_num("ratio", ratio);
			json_num("baseline_ns_per_op_median",
				 median(c->tb, c->n));
			json_num("exporter_ns_per_op_median",
				 median(c->te, c->n));
			json_num("median_of_pair_ratios", pmed);
			json_num("ratio_of_medians", rmed);
			json_bool("noisy", nz);
			json_counters("counters_per_op", &c->sum, (int)ops);
			json_end();
		}
	}
	json_end();
	json_end();
	if (any_noisy)
		printf("\n%s", noise_note);
	ret = 0;
out:
	target_add("churn_64", "exporter churn, 64 unrelated importers: x none",
		   AT_MOST, CHURN_BOUND, worst, where);
	for (l = 0; imp && l < maxlev; l++)
		worker_stop(&imp[l]);
	worker_stop(&exp);
	worker_stop(&base);
	free(imp);
	free(addr);
	free(cells);
	return ret;
}
