// SPDX-License-Identifier: GPL-2.0
/*
 * warm.c - section 1: copy bandwidth through a warm attachment vs local
 * memcpy, 4 KiB to --max-size (256 MiB) in steps of 4x.
 *
 * An exporter process fills a buffer and exports it; the benchmark attaches
 * it, faults all of it in and copies it once (warm: no fault happens while
 * timing, the debugfs counters show it). For each size n it then times
 * memcpy(dst, attachment, n) and memcpy(dst, local, n), where local is a
 * buffer of the benchmark's own with the same backing (--backing) and the
 * same content (dst is as big, backed alike, and starts DST_SKEW past a
 * 2 MiB boundary), alternating the two, each sample repeating the copy for
 * about --sample-ms (see plan_samples()). Figure: xpmem bandwidth / local bandwidth, from the
 * best (shortest) of --reps samples each: on a shared, emulated machine
 * noise only ever adds time. The JSON also has the medians.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#define WARM_BOUND	0.95		/* target: >= 0.95x local memcpy ... */
#define WARM_FROM	(64 * KIB)	/* ... from 64 KiB */

/* ns per copy of @iters copies (fewer if they take far too long). */
static double time_copies(char *dst, const char *src, size_t n, long iters)
{
	uint64_t t0 = now_ns();
	long i;

	for (i = 0; i < iters;) {
		memcpy(dst, src, n);
		__asm__ __volatile__("" ::: "memory");
		if (++i % 16 == 0 && sample_overrun(t0))
			break;
	}
	return (double)(now_ns() - t0) / (double)i;
}

int section_warm(void)
{
	size_t max = opt.warm_max, n;
	struct counters before, after, delta;
	struct worker e = { 0 };
	char *local = NULL, *dst = NULL, *att = (char *)-1;
	xpmem_apid_t apid = -1;
	int64_t src, segid, huge = 0, rss;
	long lhuge = 0, lrss;
	double worst = __builtin_nan("");
	char where[64] = "", sz[32];
	bool any_noisy = false;
	int ret = -1;

	printf("\n### 1. Warm copy: memcpy from a warm attachment vs local memcpy\n\n");
	if (worker_start(&e, 0)) {
		bench_error(errno, "warm: fork");
		return -1;
	}
	if (worker_call(&e, W_MAP, max, opt.backing, 1, 0, &src, NULL) ||
	    worker_call(&e, W_MAKE, src, max, 0, 0, &segid, NULL) ||
	    worker_call(&e, W_SMAPS, src, max, 0, 0, &huge, &rss)) {
		bench_error(errno, "warm: exporter setup");
		goto out;
	}
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (apid != -1)
		att = xpmem_attach((struct xpmem_addr){ .apid = apid }, max,
				   NULL);
	if (att == (char *)-1) {
		bench_error(errno, "warm: xpmem_get/xpmem_attach");
		goto out;
	}
	local = map_region(max, opt.backing, true, NULL);
	dst = map_region(max + DST_SKEW, opt.backing, true, NULL);
	if (dst)
		dst += DST_SKEW;
	if (!local || !dst) {
		bench_error(errno, "warm: local buffers of %zu bytes", max);
		goto out;
	}
	/* Warm up: every page of the attachment mapped, and checked. */
	if (memcmp(att, local, max)) {
		bench_error(0, "warm: the attachment does not show the exporter's data");
		goto out;
	}
	memcpy(dst, att, max);
	memcpy(dst, local, max);
	smaps_range(local, max, &lhuge, &lrss);

	printf("Source %s-backed, 2 MiB aligned; THP share: exporter %.0f%%, local %.0f%%; attachment %s2 MiB aligned. GB/s from the best of %d-%d samples.\n\n",
	       backing_name(opt.backing), 100.0 * huge * KIB / max,
	       100.0 * lhuge * KIB / max,
	       ((uintptr_t)att & (HPAGE_SIZE - 1)) ? "not " : "",
	       2 * opt.reps, 4 * opt.reps);
	printf("| %-7s | %10s | %10s | %11s | %-6s |\n", "size", "local GB/s",
	       "xpmem GB/s", "xpmem/local", "target");
	printf("|--------:|-----------:|-----------:|------------:|:-------|\n");

	json_begin("warm_copy", '{');
	json_str("measures", "memcpy(dst, warm attachment, n) vs memcpy(dst, local buffer, n); ratio = xpmem bandwidth / local bandwidth (best of reps)");
	json_str("backing", backing_name(opt.backing));
	json_num("source_thp_fraction", (double)huge * KIB / max);
	json_num("local_thp_fraction", (double)lhuge * KIB / max);
	json_bool("attachment_2m_aligned",
		  !((uintptr_t)att & (HPAGE_SIZE - 1)));
	json_begin("rows", '[');

	counters_read(&before);
	for (n = 4 * KIB; n <= max; n *= 4) {
		double tl[MAX_SAMPLES], tx[MAX_SAMPLES], ml, mx, ratio, rmed;
		const char *st = "";
		bool nz;
		long iters;
		int r, reps;

		time_copies(dst, att, n, 1);
		reps = plan_samples(time_copies(dst, att, n, 1), &iters);
		for (r = 0; r < reps; r++) {
			if (r % 2) {
				tl[r] = time_copies(dst, local, n, iters);
				tx[r] = time_copies(dst, att, n, iters);
			} else {
				tx[r] = time_copies(dst, att, n, iters);
				tl[r] = time_copies(dst, local, n, iters);
			}
		}
		ml = minimum(tl, reps);
		mx = minimum(tx, reps);
		ratio = ml / mx;
		rmed = median(tl, reps) / median(tx, reps);
		nz = noisy(ratio, rmed);
		any_noisy |= nz;
		if (n >= WARM_FROM) {
			st = target_check(ratio, AT_LEAST, WARM_BOUND);
			if (isnan(worst) || ratio < worst) {
				worst = ratio;
				snprintf(where, sizeof(where), "%s%s",
					 fmt_size(n, sz, sizeof(sz)),
					 nz ? " (noisy)" : "");
			}
		}
		printf("| %-7s | %10.3f | %10.3f | %10.3fx | %-6s |\n",
		       fmt_size(n, sz, sizeof(sz)), n / ml, n / mx, ratio,
		       mark(st, nz));
		json_begin(NULL, '{');
		json_int("size", (long long)n);
		json_int("iterations", iters);
		json_num("local_ns", ml);
		json_num("xpmem_ns", mx);
		json_int("samples", reps);
		json_num("local_ns_median", median(tl, reps));
		json_num("xpmem_ns_median", median(tx, reps));
		json_num("ratio_of_medians", rmed);
		json_bool("noisy", nz);
		json_num("local_gbps", n / ml);
		json_num("xpmem_gbps", n / mx);
		json_num("ratio", ratio);
		if (*st)
			json_str("target", st);
		json_end();
		fflush(stdout);
	}
	counters_read(&after);
	counters_delta(&delta, &before, &after);
	json_end();
	json_counters("counters_during_copies", &delta, 1);
	json_end();
	if (any_noisy)
		printf("\n%s", noise_note);
	if (delta.have[C_FAULTS])
		printf("\nTarget: >= 0.95x from 64 KiB. xpmem faults while copying: %lld (a warm attachment takes none).\n",
		       delta.v[C_FAULTS]);
	ret = 0;
out:
	target_add("warm_copy", "warm copy / local memcpy, >= 64 KiB", AT_LEAST,
		   WARM_BOUND, worst, where);
	if (att != (char *)-1)
		xpmem_detach(att);
	if (apid != -1)
		xpmem_release(apid);
	unmap_region(local, max);
	if (dst)
		unmap_region(dst - DST_SKEW, max + DST_SKEW);
	worker_stop(&e);
	return ret;
}
