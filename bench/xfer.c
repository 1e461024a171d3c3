// SPDX-License-Identifier: GPL-2.0
/*
 * xfer.c - section 3: moving n bytes from one process to another, 4 KiB to
 * --xfer-max (64 MiB) in steps of 4x, three ways, all reading the same
 * source buffer of an exporter process into the same destination buffer
 * of the benchmark process (starting DST_SKEW past a 2 MiB boundary):
 *  - xpmem: one memcpy from a warm attachment of the source (only the copy
 *    is timed: the attachment is cached, as MPI libraries cache them);
 *  - CMA: one process_vm_readv() of the source;
 *  - bounce: two copies through a shared-memory ring (RING_SLOTS chunks of
 *    RING_CHUNK bytes, MAP_SHARED anonymous): the exporter copies chunks in,
 *    the reader copies them out, pipelined, synchronised by futexes; timed
 *    from the request to the last byte out.
 * The three alternate; each sample repeats a transfer for about
 * --sample-ms (see plan_samples()); best of the samples. Each method's result is checked
 * against the source once per size (untimed). Figures: CMA time / xpmem
 * time and bounce time / xpmem time (> 1: xpmem is faster). Run for a
 * 4 KiB-backed and a THP-backed source and destination (--xfer-backing).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "bench.h"

#define CMA_BOUND_ALL	1.0	/* never below CMA */
#define CMA_BOUND_BIG	2.0	/* >= 2x CMA ... */
#define CMA_BIG_FROM	MIB	/* ... from 1 MiB */

enum { X_XPMEM, X_CMA, X_BOUNCE, X_NR };
static const char *const xfer_names[X_NR] = { "xpmem", "cma", "bounce" };

struct xfer {
	char *dst;
	const char *att;	/* the attachment */
	uint64_t src;		/* the source, in the exporter */
	pid_t pid;		/* the exporter */
	struct ring *ring;
	uint32_t cons;		/* chunks consumed so far */
};

/* Read @n bytes through the ring: ask the exporter, copy chunks out. */
static void bounce_read(struct xfer *x, size_t n)
{
	struct ring *r = x->ring;
	size_t off;

	r->len = n;
	ring_post(&r->req, &r->req_wait, r->req + 1);
	for (off = 0; off < n; off += RING_CHUNK) {
		size_t len = n - off < RING_CHUNK ? n - off : RING_CHUNK;
		uint32_t prod;

		while ((prod = __atomic_load_n(&r->prod, __ATOMIC_ACQUIRE)) ==
		       x->cons)
			ring_wait(&r->prod, &r->prod_wait, prod);
		memcpy(x->dst + off, r->slot[x->cons % RING_SLOTS], len);
		x->cons++;
		ring_post(&r->cons, &r->cons_wait, x->cons);
	}
}

/*
 * A plain 'rep movsb' copy: what the kernel's copy_to_user() runs on this
 * CPU (ERMS), so what process_vm_readv() copies with. Compared with
 * glibc's memcpy it shows how far the machine (an emulator runs string
 * instructions byte by byte) favours user-space copies over kernel ones.
 */
static double time_rep_movsb(char *dst, const char *src, size_t n)
{
	uint64_t t0 = now_ns();
#if defined(__x86_64__)
	size_t len = n;

	__asm__ __volatile__("rep movsb"
			     : "+D"(dst), "+S"(src), "+c"(len)
			     : : "memory");
#else
	memcpy(dst, src, n);
#endif
	return (double)(now_ns() - t0);
}

static int cma_read(struct xfer *x, size_t n)
{
	size_t done = 0;

	while (done < n) {
		struct iovec l = { x->dst + done, n - done };
		struct iovec r = { (void *)(uintptr_t)(x->src + done),
				   n - done };
		ssize_t got = process_vm_readv(x->pid, &l, 1, &r, 1, 0);

		if (got <= 0)
			return -1;
		done += got;
	}
	return 0;
}

/*
 * @iters transfers of @n bytes by @how (fewer if they take far too long);
 * ns per transfer, NaN on error.
 */
static double time_xfer(struct xfer *x, int how, size_t n, long iters)
{
	uint64_t t0 = now_ns();
	long i;

	for (i = 0; i < iters;) {
		switch (how) {
		case X_XPMEM:
			memcpy(x->dst, x->att, n);
			__asm__ __volatile__("" ::: "memory");
			break;
		case X_CMA:
			if (cma_read(x, n))
				return __builtin_nan("");
			break;
		case X_BOUNCE:
			bounce_read(x, n);
			break;
		}
		if (++i % 16 == 0 && sample_overrun(t0))
			break;
	}
	return (double)(now_ns() - t0) / (double)i;
}

struct xfer_worst {
	double all, big;	/* lowest xpmem/CMA, any size and >= 1 MiB */
	char where_all[64], where_big[64];
};

/* One backing of the source and the destination. */
static int xfer_backing(enum backing b, struct xfer_worst *w)
{
	size_t max = opt.xfer_max, n;
	struct worker e = { 0 };
	struct xfer x = { 0 };
	struct ring *ring;
	xpmem_apid_t apid = -1;
	char *att = (char *)-1;
	int64_t src = 0, segid, huge = 0, rss;
	bool cma_ok = true, bouncing = false, any_noisy = false;
	double movsb_ratio;
	char sz[32];
	int ret = -1;

	ring = mmap(NULL, sizeof(*ring), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ring == MAP_FAILED) {
		bench_error(errno, "xfer: ring");
		return -1;
	}
	if (worker_start(&e, 0)) {
		bench_error(errno, "xfer: fork");
		goto out;
	}
	if (worker_call(&e, W_MAP, max, b, 1, 0, &src, NULL) ||
	    worker_call(&e, W_MAKE, src, max, 0, 0, &segid, NULL) ||
	    worker_call(&e, W_SMAPS, src, max, 0, 0, &huge, &rss)) {
		bench_error(errno, "xfer: exporter setup");
		goto out;
	}
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (apid != -1)
		att = xpmem_attach((struct xpmem_addr){ .apid = apid }, max,
				   NULL);
	x.dst = map_region(max + DST_SKEW, b, true, NULL);
	if (x.dst)
		x.dst += DST_SKEW;
	if (att == (char *)-1 || !x.dst) {
		bench_error(errno, "xfer: attach or destination");
		goto out;
	}
	memcpy(x.dst, att, max);	/* warm the attachment */
	x.att = att;
	x.src = (uint64_t)src;
	x.pid = e.pid;
	x.ring = ring;
	if (worker_send(&e, W_BOUNCE, src, (uintptr_t)ring, ring->req, 0)) {
		bench_error(errno, "xfer: start the bounce producer");
		goto out;
	}
	bouncing = true;

	/* Kernel-style (rep movsb) vs glibc copies of 1 MiB, best of 5. */
	{
		size_t len = max < MIB ? max : MIB;
		double tr[5], tg[5];
		int i;

		for (i = 0; i < 5; i++) {
			tr[i] = time_rep_movsb(x.dst, att, len);
			tg[i] = time_xfer(&x, X_XPMEM, len, 1);
		}
		movsb_ratio = minimum(tr, 5) / minimum(tg, 5);
	}

	printf("\n%s-backed source and destination (source THP share %.0f%%; a 'rep movsb' copy, as\n"
	       "the kernel's, takes %.2fx the time of glibc's memcpy here):\n\n",
	       backing_name(b), 100.0 * huge * KIB / max, movsb_ratio);
	printf("| %-7s | %10s | %10s | %11s | %10s | %12s | %-6s |\n", "size",
	       "xpmem GB/s", "CMA GB/s", "bounce GB/s", "xpmem/CMA",
	       "xpmem/bounce", "target");
	printf("|--------:|-----------:|-----------:|------------:|-----------:|-------------:|:-------|\n");

	for (n = 4 * KIB; n <= max; n *= 4) {
		double t[X_NR][MAX_SAMPLES], m[X_NR], med[X_NR], one[X_NR];
		double rc, rb;
		long iters[X_NR];
		const char *st;
		int r, k, how, reps[X_NR], most = 0;
		bool nz;

		/* Each method once, checked against the source. */
		for (how = 0; how < X_NR; how++) {
			memset(x.dst, 0, n);
			one[how] = time_xfer(&x, how, n, 1);
			reps[how] = plan_samples(one[how], &iters[how]);
			if (reps[how] > most)
				most = reps[how];
			if (isnan(one[how])) {
				if (how == X_CMA && cma_ok) {
					bench_error(errno, "xfer: process_vm_readv");
					cma_ok = false;
				}
				continue;
			}
			if (memcmp(x.dst, att, n)) {
				bench_error(0, "xfer: %s delivered wrong data at %zu bytes",
					    xfer_names[how], n);
				goto out;
			}
		}
		for (r = 0; r < most; r++)
			for (k = 0; k < X_NR; k++) {
				how = (k + r) % X_NR;
				if (r >= reps[how])
					continue;
				t[how][r] = how == X_CMA && !cma_ok ?
					__builtin_nan("") :
					time_xfer(&x, how, n, iters[how]);
			}
		for (how = 0; how < X_NR; how++) {
			m[how] = minimum(t[how], reps[how]);
			med[how] = median(t[how], reps[how]);
		}
		if (!cma_ok)
			m[X_CMA] = med[X_CMA] = __builtin_nan("");
		rc = m[X_CMA] / m[X_XPMEM];
		rb = m[X_BOUNCE] / m[X_XPMEM];
		nz = noisy(rc, med[X_CMA] / med[X_XPMEM]);
		any_noisy |= nz;
		st = target_check(rc, AT_LEAST,
				  n >= CMA_BIG_FROM ? CMA_BOUND_BIG :
				  CMA_BOUND_ALL);
		if (!isnan(rc) && (isnan(w->all) || rc < w->all)) {
			w->all = rc;
			snprintf(w->where_all, sizeof(w->where_all), "%s %s%s",
				 backing_name(b), fmt_size(n, sz, sizeof(sz)),
				 nz ? " (noisy)" : "");
		}
		if (n >= CMA_BIG_FROM && !isnan(rc) &&
		    (isnan(w->big) || rc < w->big)) {
			w->big = rc;
			snprintf(w->where_big, sizeof(w->where_big), "%s %s%s",
				 backing_name(b), fmt_size(n, sz, sizeof(sz)),
				 nz ? " (noisy)" : "");
		}
		printf("| %-7s | %10.3f | %10.3f | %11.3f | %9.2fx | %11.2fx | %-6s |\n",
		       fmt_size(n, sz, sizeof(sz)), n / m[X_XPMEM],
		       n / m[X_CMA], n / m[X_BOUNCE], rc, rb, mark(st, nz));
		json_begin(NULL, '{');
		json_str("backing", backing_name(b));
		json_int("size", (long long)n);
		json_num("source_thp_fraction", (double)huge * KIB / max);
		json_num("rep_movsb_vs_memcpy_time", movsb_ratio);
		for (how = 0; how < X_NR; how++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_ns", xfer_names[how]);
			json_num(key, m[how]);
			snprintf(key, sizeof(key), "%s_ns_median",
				 xfer_names[how]);
			json_num(key, med[how]);
			snprintf(key, sizeof(key), "%s_iterations",
				 xfer_names[how]);
			json_int(key, iters[how]);
			snprintf(key, sizeof(key), "%s_samples",
				 xfer_names[how]);
			json_int(key, reps[how]);
		}
		json_num("xpmem_gbps", n / m[X_XPMEM]);
		json_num("cma_gbps", n / m[X_CMA]);
		json_num("bounce_gbps", n / m[X_BOUNCE]);
		json_num("ratio_vs_cma", rc);
		json_num("ratio_vs_bounce", rb);
		json_str("target", st);
		json_bool("noisy", nz);
		json_end();
		fflush(stdout);
	}
	if (any_noisy)
		printf("\n%s", noise_note);
	ret = 0;
out:
	if (bouncing) {
		__atomic_store_n(&ring->stop, 1, __ATOMIC_SEQ_CST);
		ring_post(&ring->req, &ring->req_wait, ring->req + 1);
		if (worker_recv(&e, NULL, NULL))
			bench_error(errno, "xfer: bounce producer");
	}
	if (att != (char *)-1)
		xpmem_detach(att);
	if (apid != -1)
		xpmem_release(apid);
	if (x.dst)
		unmap_region(x.dst - DST_SKEW, max + DST_SKEW);
	worker_stop(&e);
	munmap(ring, sizeof(*ring));
	return ret;
}

int section_xfer(void)
{
	struct xfer_worst w = {
		.all = __builtin_nan(""),
		.big = __builtin_nan(""),
	};
	int ret = 0;

	printf("\n### 3. Transfer: single copy through a warm attachment vs CMA vs a two-copy bounce buffer\n\n");
	printf("GB/s from the best of %d-%d samples; bounce ring %d x %lu KiB. Target: xpmem/CMA >= 1x at every size, >= 2x from 1 MiB.\n",
	       2 * opt.reps, 4 * opt.reps, RING_SLOTS, RING_CHUNK / KIB);
	json_begin("transfer", '{');
	json_str("measures", "n bytes from an exporter's buffer into a local buffer: memcpy from a warm attachment (xpmem), process_vm_readv (cma), two copies through a shared-memory ring (bounce); ratio = other time / xpmem time; best of reps");
	json_int("ring_slots", RING_SLOTS);
	json_int("ring_chunk", RING_CHUNK);
	json_begin("rows", '[');
	if (opt.xfer_backings & (1u << BACK_4K))
		ret = xfer_backing(BACK_4K, &w);
	if (!ret && (opt.xfer_backings & (1u << BACK_THP)))
		ret = xfer_backing(BACK_THP, &w);
	json_end();
	json_end();
	target_add("xfer_vs_cma_all", "single copy / CMA, every size", AT_LEAST,
		   CMA_BOUND_ALL, w.all, w.where_all);
	target_add("xfer_vs_cma_big", "single copy / CMA, >= 1 MiB", AT_LEAST,
		   CMA_BOUND_BIG, w.big, w.where_big);
	return ret;
}
