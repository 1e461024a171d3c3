/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the parts of xpmem_bench share.
 *
 * xpmem_bench measures xpmem against baselines taken side by side in the
 * same run (local memcpy, local first touch, MAP_POPULATE, CMA, a shared
 * memory bounce buffer, processes without xpmem) and reports every figure
 * as a ratio to its baseline. The absolute numbers of a QEMU TCG guest mean
 * nothing; the ratios do.
 *
 * Pieces: util.c (clock, statistics, memory, smaps, the module's debugfs
 * counters, sysctl), worker.c (helper processes driven over pipes),
 * report.c (the tables, the JSON document, the targets), one file per
 * section (warm.c, cold.c, xfer.c, churn.c, teardown.c) and main.c
 * (options).
 */
#ifndef XPMEM_BENCH_H
#define XPMEM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xpmem.h>

#define KIB		(1024UL)
#define MIB		(1024UL * 1024UL)
#define HPAGE_SIZE	(2 * MIB)	/* a PMD mapping on x86_64 */
#define MAX_LEVELS	8		/* importer counts of the churn section */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Copy destinations start this far past a 2 MiB boundary. QEMU TCG's
 * software TLB is direct-mapped on address bits 12 and up, and it copies
 * byte-wise 'rep movsb' (the kernel's copy_to_user in process_vm_readv)
 * one byte at a time: from a source and to a destination with equal bits
 * 12-20, as two 2 MiB-aligned buffers (or a THP and its 2 MiB-aligned
 * copy) have, every byte misses twice and the copy runs about 10x slower
 * than it does otherwise. Real TLBs are associative; only the emulator
 * needs this skew. Every method copies to the same skewed destination.
 */
#define DST_SKEW	(17 * 4096UL)

/* ------------------------------------------------------------- options */

enum section {
	SEC_WARM = 1 << 0,
	SEC_COLD = 1 << 1,
	SEC_XFER = 1 << 2,
	SEC_CHURN = 1 << 3,
	SEC_TEARDOWN = 1 << 4,
	SEC_ALL = (1 << 5) - 1,
};

/* How a buffer is backed: 4 KiB pages only, or transparent huge pages. */
enum backing {
	BACK_4K,
	BACK_THP,
};

struct options {
	unsigned int sections;	/* enum section bits */
	int reps;		/* samples per measurement (median is used) */
	int teardown_reps;	/* samples of the teardown section */
	size_t warm_max;	/* largest warm copy */
	size_t xfer_max;	/* largest transfer */
	size_t cold_max;	/* largest cold attach */
	double sample_ns;	/* aim of one timed sample of repeated ops */
	long attachments;	/* mappings of the teardown section */
	int levels[MAX_LEVELS];	/* importer counts of the churn section */
	int nlevels;
	enum backing backing;	/* of the warm copy source */
	unsigned int xfer_backings;	/* 1 << enum backing, transfer sources */
	bool align_attach;	/* attach cold sources at a 2 MiB boundary */
	bool strict;		/* exit 3 if a target is missed */
	const char *json;	/* JSON output file, "-" for stdout */
};

extern struct options opt;
extern size_t pagesz;

/* ------------------------------------------------------------- util.c */

uint64_t now_ns(void);
double median(const double *v, int n);
double minimum(const double *v, int n);
long sample_iters(double op_ns);
bool sample_overrun(uint64_t t0);
int plan_samples(double op_ns, long *iters);
bool noisy(double best, double med);
const char *mark(const char *status, bool is_noisy);
extern const char noise_note[];
#define MAX_SAMPLES	(4 * 64)	/* plan_samples() at most */
/* Print a message (with strerror(errno) if @err) and count an error. */
void bench_error(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
extern int bench_errors;
const char *fmt_size(size_t n, char *buf, size_t len);
int parse_size(const char *s, size_t *out);

const char *backing_name(enum backing b);
void *reserve_aligned(size_t len, size_t align);
void *map_region(size_t len, enum backing b, bool populate, void *hint);
void unmap_region(void *p, size_t len);
int set_backing(void *p, size_t len, enum backing b);
void fill_pages(void *p, size_t len);
void touch_write(void *p, size_t len);
void touch_read(const void *p, size_t len);
int smaps_range(const void *addr, size_t len, long *anon_huge_kb,
		long *rss_kb);
const char *thp_mode(char *buf, size_t len);

int sysctl_read(const char *path, long *val);
int sysctl_write(const char *path, long val);

/* The module's counters (debugfs), one "name value" line each. */
enum counter {
	C_SEGMENTS,
	C_PERMITS,
	C_ATTACHMENTS,
	C_FAULTS,
	C_FAULT_PAGES,
	C_FAULT_HUGE,
	C_INVALIDATIONS,
	C_ZAPS,
	C_ZAP_PAGES,
	C_NR,
};

extern const char *const counter_names[C_NR];

struct counters {
	bool have[C_NR];	/* false: the module does not export it */
	long long v[C_NR];
};

bool counters_init(void);
void counters_read(struct counters *c);
void counters_delta(struct counters *d, const struct counters *before,
		    const struct counters *after);
void counters_add(struct counters *sum, const struct counters *d);
void counters_zero(struct counters *c);

/* ------------------------------------------------------------- worker.c */

/* A helper process that runs commands sent over a pipe. */
struct worker {
	pid_t pid;
	int cmd;	/* write end: commands */
	int rep;	/* read end: replies */
};

enum worker_op {
	W_MAP,		/* len, backing, populate -> addr */
	W_UNMAP,	/* addr, len */
	W_POPULATE,	/* addr, len: write every page */
	W_RENEW,	/* addr, len, backing: fresh empty mapping there */
	W_SMAPS,	/* addr, len -> AnonHugePages kB, Rss kB */
	W_MAKE,		/* addr, len -> segid */
	W_ATTACH,	/* segid, offset, len, touch -> addr */
	W_DETACH,	/* addr */
	W_CHURN,	/* iterations, len, touch every page -> ns */
	W_BOUNCE,	/* src, ring, req: serve transfers after req until stopped */
	W_MASS,		/* kind, n, segid, source pages -> ns, n made */
	W_PIN,		/* cpu: run only there from now on */
	W_EXIT,		/* _exit(0) at once, no reply */
};

/* W_MASS kinds */
#define MASS_ANON	0
#define MASS_XPMEM	1

#define W_NO_XPMEM	0x1	/* worker_start(): close inherited /dev/xpmem */

int worker_start(struct worker *w, int flags);
int bench_cpu(void);
int worker_send(struct worker *w, int op, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3);
int worker_recv(struct worker *w, int64_t *r0, int64_t *r1);
int worker_call(struct worker *w, int op, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3, int64_t *r0, int64_t *r1);
int64_t worker_exit_ns(struct worker *w);
void worker_stop(struct worker *w);

/* The bounce-buffer ring shared by the transfer section and its worker. */
#define RING_SLOTS	16
#define RING_CHUNK	(64 * KIB)

struct ring {
	uint32_t req;		/* transfer sequence number, set by the reader */
	uint32_t req_wait;	/* the producer sleeps on req */
	uint32_t prod;		/* chunks produced */
	uint32_t prod_wait;	/* the reader sleeps on prod */
	uint32_t cons;		/* chunks consumed */
	uint32_t cons_wait;	/* the producer sleeps on cons */
	uint32_t stop;
	uint64_t len;		/* bytes of the current transfer */
	char pad[4096 - 40];
	char slot[RING_SLOTS][RING_CHUNK];
};

void ring_wait(uint32_t *word, uint32_t *waiting, uint32_t old);
void ring_post(uint32_t *word, uint32_t *waiting, uint32_t val);
void ring_produce(struct ring *r, const char *src, uint32_t last);

/* ------------------------------------------------------------- report.c */

/* A JSON document built while the sections run. */
void json_begin(const char *key, char kind);	/* kind '{' or '[' */
void json_end(void);
void json_num(const char *key, double v);	/* NaN -> null */
void json_int(const char *key, long long v);
void json_str(const char *key, const char *v);
void json_bool(const char *key, bool v);
void json_counters(const char *key, const struct counters *c, int per);
int json_write(const char *path);

/* Targets: a measured value, a bound and PASS/MISS/n/a. */
enum target_op {
	AT_MOST,	/* value <= bound */
	AT_LEAST,	/* value >= bound */
};

const char *target_check(double value, enum target_op op, double bound);
void target_add(const char *id, const char *what, enum target_op op,
		double bound, double value, const char *where);
void targets_print(void);
void targets_json(void);
int targets_missed(void);

/* ------------------------------------------------------------- sections */

int section_warm(void);
int section_cold(void);
int section_xfer(void);
int section_churn(void);
int section_teardown(void);
void teardown_restore(void);

#endif /* XPMEM_BENCH_H */
