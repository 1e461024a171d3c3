// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - concurrency stress of xpmem with data verification on every
 * access. Run by test/run_stress.sh (`make stress`) inside a guest, through
 * run_tests.sh (which loads and unloads the module and scans the kernel log).
 *
 * Knobs (environment): STRESS_SECONDS (default 60), STRESS_SEED (default
 * random; printed, and a run is repeated with STRESS_SEED=<it>),
 * STRESS_PROCS (workers, default 4).
 *
 * What runs, all at once, for STRESS_SECONDS:
 *
 * - The mesh: STRESS_PROCS workers, each one exporter and importer at once.
 *   Each exports an arena of NPAGES pages as two segments (all of it, and
 *   its middle half) and randomly gets, attaches (at a chosen address or
 *   not, with or without XPMEM_ATTACH_POPULATE, whole or part, read-only or
 *   read-write), reads, writes, detaches, partly munmaps or mprotects,
 *   and releases the others' (and its own) segments. As exporter it keeps
 *   changing its arena under the importers: munmap (holes), mmap over
 *   pages, rewrites in place, MADV_DONTNEED, mprotect read-only and back,
 *   fork (copy-on-write; the child scribbles over its copy of the arena
 *   and gets killed at a random point), and remove + make of its segments.
 *   The driver SIGKILLs random workers at random times and respawns them.
 * - The lock-order pair: two processes fault on each other's segment while
 *   another thread of each munmaps/mmaps/mprotects its own exported range
 *   (mmap_lock writer, invalidations) and a third attaches with POPULATE
 *   and detaches. Must make progress forever.
 * - A watchdog in the driver: any process (or thread of the pair) that
 *   makes no progress for HANG_SECS, or survives SIGKILL that long, is a
 *   hang; its threads' /proc/PID/task/TID/stack is printed and the run
 *   fails.
 *
 * How accesses are verified. Every arena page holds a header (owner,
 * page index, generation) and a payload derived from them, plus one 8-byte
 * slot per worker that only that worker writes, through its attachments.
 * The exporter publishes, in a MAP_SHARED page made before any fork, the
 * state of each page (mapped read-write, read-only, zero after
 * MADV_DONTNEED, or a hole), its current generation, and a sequence count
 * that is odd while it changes the page; likewise per segment (current
 * segid) and per incarnation ("life", odd while the driver kills and
 * respawns it, and from when a worker stops to its exit). An importer snapshots these before and after each access:
 *
 * - Page and segment unchanged during the access: the outcome must be
 *   exactly what the state says: a read sees the current generation,
 *   intact (or zeros after MADV_DONTNEED); a hole raises SIGBUS; a removed
 *   segment raises SIGBUS; a write to a read-only source raises SIGSEGV,
 *   and to a writable one it lands (read back) and is later found by the
 *   exporter in its own page (a lost write fails).
 * - Changed during the access: a torn or zero read, SIGBUS (only if the
 *   page was unmapped or the segment removed meanwhile) or SIGSEGV (only if
 *   it was made read-only meanwhile) are accepted; an intact page of an
 *   older generation than the one published before the access began is
 *   stale data and fails.
 * - Always a failure: data of another page or owner, data written by the
 *   exporter's fork child, a corrupt slot, SIGSEGV on a read, an
 *   attachment still readable after its detach or release, an unexpected
 *   errno, and the exporter finding its own page corrupt.
 * - Exporter killed (life changed): SIGBUS, or its own old data (its mm
 *   may outlive it briefly while an importer fault holds it); never freed
 *   memory (the guest poisons freed pages, which then fail the slot check)
 *   or another process's data.
 *
 * The exporter publishes a page's state before it unmaps the page or makes
 * it read-only, and after it makes it writable again, so that an importer
 * sees the cause of every SIGBUS or SIGSEGV it gets.
 *
 * At the end every process must exit, and the module's counters
 * (/sys/kernel/debug/xpmem/stats) must show no segment, permit or
 * attachment left once they have (run_tests.sh then unloads the module).
 */
#include "stress.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <xpmem.h>

#define MAXW		16	/* workers (slots in a page) */
#define NPAGES		64	/* arena pages per worker */
#define NSEG		2	/* segments per worker */
#define MAXP		6	/* permits an importer holds */
#define MAXA		8	/* attachments an importer holds */
#define ATT_SLOT	(NPAGES + 16)	/* pages per attachment slot */
#define HANG_SECS	120	/* no progress for this long: a hang */
#define LO_PAGES	128	/* pages of each lock-order region */
#define MAX_MSGS	12	/* failure messages printed per process */

#define MAGIC_PAGE	0x534d5058u	/* "XPMS" */
#define MAGIC_CHILD	0x444c4843u	/* "CHLD" */
#define SLOTS_OFF	32
#define PAYLOAD_OFF	(SLOTS_OFF + MAXW * 8)
#define CNT_MASK	((1ULL << 40) - 1)

enum { ST_RW, ST_RO, ST_ZERO, ST_HOLE };
static const char *const st_name[] = { "rw", "ro", "zero", "hole" };

/* counters, per worker */
enum {
	N_READ, N_READ_RACED, N_BUS, N_WRITE, N_SEGV, N_MBOX, N_GET,
	N_ATTACH, N_GONE, N_DETACH, N_RELEASE, N_REMAKE, N_PAGEOP, N_FORK,
	N_SPAWN, N_COUNT
};
static const char *const n_name[] = {
	"verified reads", "raced reads", "expected SIGBUS", "verified writes",
	"expected SIGSEGV", "writes found by exporter", "gets", "attaches",
	"expected ENOENT", "detaches", "releases", "remakes", "page changes",
	"forks", "incarnations",
};

#define LD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ST(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define INC(x)		__atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)
#define FENCE()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

struct mbox {			/* importer -> exporter: "I wrote this" */
	uint64_t seq;		/* odd while written */
	uint64_t page;
	uint64_t val;
	uint64_t pseq;		/* page's sequence count when written */
};

struct seg_pub {
	uint64_t seq;		/* odd while remade */
	int64_t segid;
};

struct wpub {			/* one worker, in the shared control area */
	uint64_t life;		/* odd: starting, being killed, exiting */
	uint64_t heartbeat;
	int32_t pid;
	struct seg_pub seg[NSEG];
	uint64_t pseq[NPAGES];	/* odd while the page changes */
	uint64_t pgen[NPAGES];	/* generation of the current content */
	uint64_t pstate[NPAGES];	/* ST_* */
	uint64_t holes[NPAGES];	/* count of munmaps of the page */
	uint64_t ros[NPAGES];	/* count of mprotect(PROT_READ)s */
	struct mbox mbox[MAXW];	/* indexed by the importer */
	int32_t child;		/* pid of its fork child, or 0 */
	uint64_t arena;		/* its arena's address, for reports */
	uint64_t gen;		/* last generation used; survives respawns */
	uint64_t wcount;	/* last slot counter written */
	uint64_t n[N_COUNT];
	uint64_t fails;
};

struct lopub {			/* one process of the lock-order pair */
	int64_t segid;
	int32_t pid;
	uint64_t hb[3];		/* progress of each thread */
	uint64_t faults, maps, attaches, fails;
};

struct ctl {
	uint64_t stop;
	uint64_t seed;
	int nw;
	struct wpub w[MAXW];
	struct lopub lo[2];
};

static struct ctl *ctl;
static long pg;
static int me;			/* worker index, or -1 */
static struct xs_rng rng;
static int msgs;

#define FAIL(cnt, fmt, ...) do {					\
	INC(cnt);							\
	if (msgs++ < MAX_MSGS)						\
		xs_say("# FAIL [%s %d pid %d] " fmt "\n", me >= 0 ?	\
		       "worker" : "process", me, (int)getpid(),		\
		       ##__VA_ARGS__);					\
} while (0)

#define WFAIL(fmt, ...)	FAIL(ctl->w[me].fails, fmt, ##__VA_ARGS__)
#define COUNT(c)	INC(ctl->w[me].n[c])

/* ------------------------------------------------------------ page content */

static const unsigned long seg_off[NSEG] = { 0, NPAGES / 4 };
static const unsigned long seg_len[NSEG] = { NPAGES, NPAGES / 2 };

static uint8_t slot_chk(uint64_t v)
{
	return (uint8_t)xs_mix(v & ~(0xffULL << 40));
}

/* Slot value: writer j, page p, counter, check byte. */
static uint64_t slot_val(unsigned int j, unsigned int p, uint64_t cnt)
{
	uint64_t v = (uint64_t)j << 58 | (uint64_t)p << 48 | (cnt & CNT_MASK);

	return v | (uint64_t)slot_chk(v) << 40;
}

static int slot_ok(uint64_t v, unsigned int j, unsigned int p)
{
	return v == 0 || (v >> 58 == j && (v >> 48 & 0x3ff) == p &&
			  (v >> 40 & 0xff) == slot_chk(v) && (v & CNT_MASK));
}

struct pghdr {
	uint32_t magic;
	uint16_t owner;
	uint16_t page;
	uint64_t gen;
	uint64_t pad[2];
};

/* Write owner @w's page @p of generation @gen at @dst (slots untouched). */
static void fill_page(char *dst, unsigned int w, unsigned int p, uint64_t gen)
{
	struct xs_rng r;
	uint64_t *pl = (uint64_t *)(dst + PAYLOAD_OFF);
	size_t i, n = (size_t)(pg - PAYLOAD_OFF) / 8;
	struct pghdr h = { MAGIC_PAGE, (uint16_t)w, (uint16_t)p, gen, { 0, 0 } };

	xs_rng_init(&r, gen, (uint64_t)w << 16 | p);
	for (i = 0; i < n; i++)
		pl[i] = xs_next(&r);
	memcpy(dst, &h, sizeof(h));
}

enum { C_BLANK, C_OK, C_TORN, C_FOREIGN, C_CHILD, C_SLOTBAD };
static const char *const c_name[] = {
	"zeros", "intact", "torn", "another page's data",
	"the fork child's data", "a corrupt slot",
};

/* What a copy of owner @w's page @p holds; *@gen: its generation. */
static int classify(const char *buf, unsigned int w, unsigned int p,
		    uint64_t *gen)
{
	const uint64_t *slots = (const uint64_t *)(buf + SLOTS_OFF);
	const uint64_t *pl = (const uint64_t *)(buf + PAYLOAD_OFF);
	size_t i, n = (size_t)(pg - PAYLOAD_OFF) / 8;
	struct pghdr h;
	struct xs_rng r;
	unsigned int j;

	memcpy(&h, buf, sizeof(h));
	*gen = h.gen;
	for (j = 0; j < MAXW; j++)
		if (!slot_ok(slots[j], j, p))
			return C_SLOTBAD;
	if (h.magic == MAGIC_CHILD)
		return C_CHILD;
	if (h.magic == 0) {
		if (h.owner || h.page || h.gen)
			return C_TORN;
		for (i = 0; i < n; i++)
			if (pl[i])
				return C_TORN;
		return C_BLANK;
	}
	if (h.magic != MAGIC_PAGE || h.owner != w || h.page != p)
		return C_FOREIGN;
	xs_rng_init(&r, h.gen, (uint64_t)w << 16 | p);
	for (i = 0; i < n; i++)
		if (pl[i] != xs_next(&r))
			return C_TORN;
	return C_OK;
}

/* ------------------------------------------------------------ exporter */

static char *arena;

static char *page_at(unsigned int p)
{
	return arena + (size_t)p * pg;
}

static void page_begin(unsigned int p)
{
	INC(ctl->w[me].pseq[p]);
}

static void page_end(unsigned int p)
{
	INC(ctl->w[me].pseq[p]);
	COUNT(N_PAGEOP);
}

static uint64_t new_gen(void)
{
	return INC(ctl->w[me].gen);
}

/* Map a fresh page at @p and give it a new generation. */
static void page_replace(unsigned int p)
{
	struct wpub *W = &ctl->w[me];
	uint64_t g = new_gen();

	if (mmap(page_at(p), pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
		WFAIL("mmap over arena page %u: %s", p, strerror(errno));
		return;
	}
	fill_page(page_at(p), me, p, g);
	ST(W->pgen[p], g);
	ST(W->pstate[p], ST_RW);
}

/* Change one page of the arena (or a run of pages into holes). */
static void exporter_page_op(void)
{
	struct wpub *W = &ctl->w[me];
	unsigned int p = xs_below(&rng, NPAGES), q, n;
	uint64_t st = W->pstate[p], g;
	unsigned int op = xs_below(&rng, 100);

	if (st == ST_HOLE || (st == ST_ZERO && op < 30)) {
		page_begin(p);
		page_replace(p);
		page_end(p);
		return;
	}
	if (op < 25) {			/* new page over the old one */
		page_begin(p);
		page_replace(p);
		page_end(p);
	} else if (op < 50 && st == ST_RW) {	/* rewrite in place */
		page_begin(p);
		g = new_gen();
		fill_page(page_at(p), me, p, g);
		ST(W->pgen[p], g);
		page_end(p);
	} else if (op < 65) {		/* a run of holes */
		n = 1 + xs_below(&rng, 4);
		if (p + n > NPAGES)
			n = NPAGES - p;
		/* Published before the munmap, so that a SIGBUS is explained. */
		for (q = p; q < p + n; q++) {
			page_begin(q);
			INC(W->holes[q]);
			ST(W->pstate[q], ST_HOLE);
		}
		if (munmap(page_at(p), (size_t)n * pg))
			WFAIL("munmap arena pages %u+%u: %s", p, n,
			      strerror(errno));
		for (q = p; q < p + n; q++) {
			ST(W->pgen[q], new_gen());
			page_end(q);
		}
	} else if (op < 75 && st == ST_RW) {	/* MADV_DONTNEED: zeros */
		page_begin(p);
		if (madvise(page_at(p), pg, MADV_DONTNEED))
			WFAIL("madvise(DONTNEED): %s", strerror(errno));
		ST(W->pgen[p], new_gen());
		ST(W->pstate[p], ST_ZERO);
		page_end(p);
	} else if (op < 88 && st == ST_RW) {	/* read-only */
		page_begin(p);
		INC(W->ros[p]);
		ST(W->pstate[p], ST_RO);	/* before: explains a SIGSEGV */
		if (mprotect(page_at(p), pg, PROT_READ))
			WFAIL("mprotect(PROT_READ): %s", strerror(errno));
		page_end(p);
	} else if (st == ST_RO) {	/* writable again */
		page_begin(p);
		if (mprotect(page_at(p), pg, PROT_READ | PROT_WRITE))
			WFAIL("mprotect(PROT_RW): %s", strerror(errno));
		ST(W->pstate[p], ST_RW);	/* after: RO until it is done */
		page_end(p);
	}
}

static int64_t make_seg(unsigned int k)
{
	int64_t id = xpmem_make(page_at(seg_off[k]), seg_len[k] * pg,
				XPMEM_PERMIT_MODE, (void *)0600);

	if (id == -1)
		WFAIL("xpmem_make(segment %u): %s", k, strerror(errno));
	return id;
}

static void exporter_remake(void)
{
	struct wpub *W = &ctl->w[me];
	unsigned int k = xs_below(&rng, NSEG);
	int64_t old = W->seg[k].segid;

	INC(W->seg[k].seq);
	if (old > 0 && xpmem_remove(old))
		WFAIL("xpmem_remove(own segment %u) = %s", k, strerror(errno));
	ST(W->seg[k].segid, make_seg(k));
	INC(W->seg[k].seq);
	COUNT(N_REMAKE);
}

/* The exporter reads its own pages: intact, and slots all valid. */
static void exporter_verify(void)
{
	struct wpub *W = &ctl->w[me];
	unsigned int p;
	uint64_t gen;
	int c;

	for (p = 0; p < NPAGES; p++) {
		uint64_t st = W->pstate[p];

		if (st == ST_HOLE)
			continue;
		c = classify(page_at(p), me, p, &gen);
		if (st == ST_ZERO ? c != C_BLANK :
		    c != C_OK || gen != W->pgen[p])
			WFAIL("exporter's own page %u (%s, gen %" PRIu64
			      ") holds %s (gen %" PRIu64 ")", p, st_name[st],
			      W->pgen[p], c_name[c], gen);
	}
}

/* Writes that importers reported must be in our pages (or newer ones). */
static void exporter_check_mbox(void)
{
	struct wpub *W = &ctl->w[me];
	uint64_t s1, page, val, pseq, slot;
	int j;

	for (j = 0; j < ctl->nw; j++) {
		struct mbox *m = &W->mbox[j];

		s1 = LD(m->seq);
		if (s1 & 1)
			continue;
		page = LD(m->page);
		val = LD(m->val);
		pseq = LD(m->pseq);
		FENCE();
		if (LD(m->seq) != s1 || !val || page >= NPAGES)
			continue;
		/* Only if we did not change that page since. */
		if (pseq != W->pseq[page] || W->pstate[page] == ST_HOLE)
			continue;
		slot = ((volatile uint64_t *)(page_at(page) + SLOTS_OFF))[j];
		if (!slot_ok(slot, j, page) ||
		    (slot & CNT_MASK) < (val & CNT_MASK))
			WFAIL("write lost: importer %d wrote %#" PRIx64
			      " to page %" PRIu64 ", exporter finds %#" PRIx64,
			      j, val, page, slot);
		else
			COUNT(N_MBOX);
	}
}

/* ------------------------------------------------------------ importer */

struct permit {
	int used;
	int w;
	unsigned int k;
	int64_t segid;
	uint64_t life;
	int64_t apid;
	int writable;
};

struct att {
	int used;
	int p;			/* permit index */
	char *base;
	int fixed;		/* placed in its slot of att_area */
	unsigned int aoff;	/* first segment page */
	unsigned int an;	/* pages */
	uint64_t present;	/* pages still mapped here */
	uint64_t ro;		/* pages made read-only here */
};

static struct permit perms[MAXP];
static struct att atts[MAXA];
static char *att_area;

static char *slot_base(int i)
{
	return att_area + (size_t)i * ATT_SLOT * pg;
}

/* Put the PROT_NONE reservation back over [addr, addr + len). */
static void reserve(char *addr, size_t len)
{
	if (mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		WFAIL("re-reserving %p: %s", (void *)addr, strerror(errno));
}

struct snap {
	uint64_t life, sseq, pseq, pgen, pstate, holes, ros;
	int64_t segid;
};

static void snap(struct snap *s, struct permit *P, unsigned int p)
{
	struct wpub *W = &ctl->w[P->w];

	FENCE();
	s->life = LD(W->life);
	s->sseq = LD(W->seg[P->k].seq);
	s->segid = LD(W->seg[P->k].segid);
	s->pseq = LD(W->pseq[p]);
	s->pgen = LD(W->pgen[p]);
	s->pstate = LD(W->pstate[p]);
	s->holes = LD(W->holes[p]);
	s->ros = LD(W->ros[p]);
	FENCE();
}

/* How an access window went, from snapshots before (a) and after (b). */
struct window {
	int same_life;		/* exporter incarnation of the permit, alive */
	int removed;		/* our segment was removed before we began */
	int seg_stable;
	int page_stable;
	int may_bus;		/* page unmapped, or segment going, meanwhile */
	int may_segv;		/* page read-only at some point meanwhile */
};

static void judge_window(struct window *win, struct permit *P,
			 struct snap *a, struct snap *b)
{
	win->same_life = a->life == P->life && b->life == P->life &&
			 !(P->life & 1);
	win->seg_stable = a->sseq == b->sseq && !(a->sseq & 1);
	win->removed = win->seg_stable && a->segid != P->segid;
	win->page_stable = a->pseq == b->pseq && !(a->pseq & 1);
	win->may_bus = !win->seg_stable || a->pstate == ST_HOLE ||
		       b->pstate == ST_HOLE || a->holes != b->holes;
	win->may_segv = a->pstate == ST_RO || b->pstate == ST_RO ||
			a->ros != b->ros;
}

static int pick_att(int need_write)
{
	int i, tries;

	for (tries = 0; tries < 8; tries++) {
		i = xs_below(&rng, MAXA);
		if (atts[i].used && atts[i].present &&
		    (!need_write || perms[atts[i].p].writable))
			return i;
	}
	return -1;
}

static unsigned int pick_page(struct att *a, uint64_t mask)
{
	unsigned int q, tries;

	for (tries = 0; tries < 16; tries++) {
		q = xs_below(&rng, a->an);
		if (mask >> q & 1)
			return q;
	}
	for (q = 0; q < a->an; q++)
		if (mask >> q & 1)
			return q;
	return a->an;
}

/* A failed access to page @q of attachment @a, with snapshots @sa, @sb. */
#define IFAIL_S(a, q, p, sa, sb, fmt, ...) do {				\
	WFAIL("attachment of worker %d seg %u (segid %#" PRIx64		\
	      ") page %u (arena page %u): " fmt, perms[(a)->p].w,	\
	      perms[(a)->p].k, (uint64_t)perms[(a)->p].segid, q, p,	\
	      ##__VA_ARGS__);						\
	explain(a, sa, sb);						\
} while (0)
/* The same, in a function whose snapshots are its locals s1 and s2. */
#define IFAIL(a, q, p, fmt, ...) \
	IFAIL_S(a, q, p, &s1, &s2, fmt, ##__VA_ARGS__)

/* Details of a failed access, for the report. */
static void explain(struct att *a, struct snap *s1, struct snap *s2)
{
	struct permit *P = &perms[a->p];

	if (msgs > MAX_MSGS)
		return;
	xs_say("#   permit %s life %" PRIu64 "; attachment pages %u+%u at %p"
	       " (%s), present %#" PRIx64 " ro %#" PRIx64 "\n",
	       P->writable ? "rw" : "ro", P->life, a->aoff, a->an,
	       (void *)a->base, a->fixed ? "fixed" : "kernel's choice",
	       a->present, a->ro);
	xs_say("#   before: life %" PRIu64 " seg seq %" PRIu64 " segid %#"
	       PRIx64 " page seq %" PRIu64 " gen %" PRIu64 " %s holes %"
	       PRIu64 " ros %" PRIu64 "\n", s1->life, s1->sseq,
	       (uint64_t)s1->segid, s1->pseq, s1->pgen, st_name[s1->pstate],
	       s1->holes, s1->ros);
	xs_say("#   after:  life %" PRIu64 " seg seq %" PRIu64 " segid %#"
	       PRIx64 " page seq %" PRIu64 " gen %" PRIu64 " %s holes %"
	       PRIu64 " ros %" PRIu64 "\n", s2->life, s2->sseq,
	       (uint64_t)s2->segid, s2->pseq, s2->pgen, st_name[s2->pstate],
	       s2->holes, s2->ros);
	xs_say("#   exporter pid %d, its fork child %d\n",
	       (int)LD(ctl->w[P->w].pid), (int)LD(ctl->w[P->w].child));
}

/* The line of /proc/@pid/maps that holds @addr (or says there is none). */
static void show_vma(const char *who, pid_t pid, uint64_t addr)
{
	char path[64], line[256];
	unsigned long lo, hi;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= addr &&
		    addr < hi) {
			xs_say("#   %s VMA at %#" PRIx64 ": %s", who, addr, line);
			found = 1;
		}
	fclose(f);
	if (!found)
		xs_say("#   %s: no VMA at %#" PRIx64 "\n", who, addr);
}

/* An unexpected SIGBUS: is it the attachment, or the exporter's page? */
static void explain_bus(struct att *a, unsigned int q, unsigned int p)
{
	static char buf[65536];
	struct permit *P = &perms[a->p];
	struct xpmem_addr addr;
	int64_t apid;
	char *at;
	int sig;

	if (msgs > MAX_MSGS)
		return;
	sig = xs_copy(buf, a->base + (size_t)q * pg, pg);
	xs_say("#   again through the same attachment: %s\n",
	       sig ? strsignal(sig) : "readable");
	show_vma("importer", getpid(), (uint64_t)(uintptr_t)a->base + q * pg);
	show_vma("exporter", LD(ctl->w[P->w].pid),
		 LD(ctl->w[P->w].arena) + (uint64_t)p * pg);
	apid = xpmem_get(P->segid, XPMEM_RDONLY, XPMEM_PERMIT_MODE, NULL);
	if (apid == -1) {
		xs_say("#   new permit: %s\n", strerror(errno));
		return;
	}
	addr.apid = apid;
	addr.offset = (off_t)(p - seg_off[P->k]) * pg;
	at = xpmem_attach(addr, pg, NULL);
	if (at == (void *)-1) {
		xs_say("#   new attachment: %s\n", strerror(errno));
	} else {
		sig = xs_copy(buf, at, pg);
		xs_say("#   through a new attachment: %s\n",
		       sig ? strsignal(sig) : "readable");
		xpmem_detach(at);
	}
	xpmem_release(apid);
}

/*
 * What a read and a write judge alike: an exporter that went away, a
 * removed segment, SIGBUS. Returns 1 if that decided the access (counted or
 * failed), 0 if the caller judges it further.
 */
static int judge_gone_or_bus(struct att *a, unsigned int q, unsigned int p,
			     const char *what, int sig, struct window *win,
			     struct snap *s1, struct snap *s2)
{
	if (!win->same_life) {
		COUNT(sig ? N_BUS : N_READ_RACED);
		return 1;
	}
	if (win->removed) {
		if (sig != SIGBUS)
			IFAIL_S(a, q, p, s1, s2, "%s after xpmem_remove(): %s",
				what, sig ? strsignal(sig) : "no SIGBUS");
		else
			COUNT(N_BUS);
		return 1;
	}
	if (sig != SIGBUS)
		return 0;
	if (win->may_bus) {
		COUNT(N_BUS);
		return 1;
	}
	IFAIL_S(a, q, p, s1, s2, "SIGBUS on %s, but the page stayed mapped "
		"(%s) and the segment stayed", what, st_name[s1->pstate]);
	explain_bus(a, q, p);
	return 1;
}

static void importer_read(void)
{
	static char buf[65536];
	struct snap s1, s2;
	struct window win;
	struct permit *P;
	struct att *a;
	unsigned int q, p;
	uint64_t gen = 0;
	int i, sig, c;

	i = pick_att(0);
	if (i < 0)
		return;
	a = &atts[i];
	P = &perms[a->p];
	q = pick_page(a, a->present);
	p = seg_off[P->k] + a->aoff + q;
	snap(&s1, P, p);
	sig = xs_copy(buf, a->base + (size_t)q * pg, pg);
	snap(&s2, P, p);
	judge_window(&win, P, &s1, &s2);
	c = sig ? -1 : classify(buf, P->w, p, &gen);

	if (sig == SIGSEGV) {
		IFAIL(a, q, p, "SIGSEGV reading a mapped attachment page");
		return;
	}
	if (c == C_FOREIGN || c == C_CHILD || c == C_SLOTBAD) {
		IFAIL(a, q, p, "read %s (gen %" PRIu64 ")", c_name[c], gen);
		return;
	}
	if (judge_gone_or_bus(a, q, p, "read", sig, &win, &s1, &s2))
		return;
	if (!win.page_stable || !win.seg_stable) {
		if (c == C_OK && gen < s1.pgen)
			IFAIL(a, q, p, "stale data: gen %" PRIu64 " after gen %"
			      PRIu64 " was published", gen, s1.pgen);
		else
			COUNT(N_READ_RACED);
		return;
	}
	switch (s1.pstate) {
	case ST_HOLE:
		IFAIL(a, q, p, "read %s from an unmapped source page (gen %"
		      PRIu64 "), no SIGBUS", c_name[c], gen);
		return;
	case ST_ZERO:
		if (c != C_BLANK) {
			IFAIL(a, q, p, "read %s (gen %" PRIu64 ") where the "
			      "exporter has a zero page (MADV_DONTNEED)",
			      c_name[c], gen);
			return;
		}
		break;
	default:
		if (c != C_OK || gen != s1.pgen) {
			IFAIL(a, q, p, "read %s gen %" PRIu64 ", expected gen %"
			      PRIu64 " (%s)", c_name[c], gen, s1.pgen,
			      st_name[s1.pstate]);
			return;
		}
	}
	COUNT(N_READ);
}

static void post_mbox(struct permit *P, unsigned int p, uint64_t val,
		      uint64_t pseq)
{
	struct mbox *m = &ctl->w[P->w].mbox[me];

	if (LD(m->seq) & 1)	/* a killed incarnation left it odd */
		INC(m->seq);
	INC(m->seq);
	ST(m->page, p);
	ST(m->val, val);
	ST(m->pseq, pseq);
	INC(m->seq);
}

static void importer_write(void)
{
	struct snap s1, s2;
	struct window win;
	struct permit *P;
	struct att *a;
	unsigned int q, p;
	uint64_t v, back = 0;
	volatile uint64_t *slot;
	int i, sig;

	i = pick_att(1);
	if (i < 0)
		return;
	a = &atts[i];
	P = &perms[a->p];
	q = pick_page(a, a->present);
	p = seg_off[P->k] + a->aoff + q;
	slot = (volatile uint64_t *)(a->base + (size_t)q * pg + SLOTS_OFF) + me;
	v = slot_val(me, p, INC(ctl->w[me].wcount));
	snap(&s1, P, p);
	sig = xs_store(slot, v, &back);
	snap(&s2, P, p);
	judge_window(&win, P, &s1, &s2);

	if (a->ro >> q & 1) {
		/* made read-only here: must never be writable */
		if (sig != SIGSEGV)
			IFAIL(a, q, p, "write to a PROT_READ attachment page: "
			      "%s", sig ? strsignal(sig) : "it worked");
		else
			COUNT(N_SEGV);
		return;
	}
	if (judge_gone_or_bus(a, q, p, "write", sig, &win, &s1, &s2))
		return;
	if (sig == SIGSEGV) {
		if (!win.may_segv)
			IFAIL(a, q, p, "SIGSEGV on write, but the source page "
			      "stayed writable (%s)", st_name[s1.pstate]);
		else
			COUNT(N_SEGV);
		return;
	}
	if (!win.page_stable || !win.seg_stable) {
		COUNT(N_READ_RACED);
		return;
	}
	if (s1.pstate == ST_RO || s1.pstate == ST_HOLE) {
		IFAIL(a, q, p, "write to a %s source page worked",
		      st_name[s1.pstate]);
		return;
	}
	if (back != v) {
		IFAIL(a, q, p, "wrote %#" PRIx64 ", read back %#" PRIx64, v,
		      back);
		return;
	}
	post_mbox(P, p, v, s1.pseq);
	COUNT(N_WRITE);
}

static void importer_get(void)
{
	struct wpub *W;
	struct permit *P;
	uint64_t life, sseq;
	int64_t segid, apid;
	int i, w, wr;
	unsigned int k;

	for (i = 0; i < MAXP && perms[i].used; i++)
		;
	if (i == MAXP)
		return;
	w = xs_below(&rng, ctl->nw);
	k = xs_below(&rng, NSEG);
	W = &ctl->w[w];
	life = LD(W->life);
	sseq = LD(W->seg[k].seq);
	segid = LD(W->seg[k].segid);
	if ((life & 1) || (sseq & 1) || segid <= 0)
		return;
	wr = xs_chance(&rng, 75);
	apid = xpmem_get(segid, wr ? XPMEM_RDWR : XPMEM_RDONLY,
			 XPMEM_PERMIT_MODE, NULL);
	if (apid == -1) {
		if (errno == ENOENT && (LD(W->life) != life ||
					LD(W->seg[k].seq) != sseq))
			COUNT(N_GONE);
		else
			WFAIL("xpmem_get(worker %d seg %u, segid %#" PRIx64
			      ") = %s (exporter alive, segment current)", w,
			      k, (uint64_t)segid, strerror(errno));
		return;
	}
	P = &perms[i];
	*P = (struct permit){ 1, w, k, segid, life, apid, wr };
	COUNT(N_GET);
}

static void drop_att(int i, int check_gone)
{
	struct att *a = &atts[i];
	uint64_t v;
	unsigned int q;

	for (q = 0; check_gone && q < a->an; q++) {
		if (!(a->present >> q & 1))
			continue;
		if (xs_load((uint64_t *)(a->base + (size_t)q * pg), &v) !=
		    SIGSEGV) {
			WFAIL("attachment page %u at %p still mapped after "
			      "detach/release", q, (void *)a->base);
			break;
		}
	}
	if (a->fixed)
		reserve(slot_base(i), (size_t)ATT_SLOT * pg);
	a->used = 0;
}

static void importer_attach(void)
{
	struct wpub *W;
	struct permit *P;
	struct xpmem_addr addr;
	uint64_t life, sseq;
	int64_t segid;
	unsigned int aoff, an;
	size_t size;
	char *want, *got;
	int i, p, flags, tries;

	for (i = 0; i < MAXA && atts[i].used; i++)
		;
	if (i == MAXA)
		return;
	for (p = -1, tries = 0; tries < 8 && p < 0; tries++) {
		p = xs_below(&rng, MAXP);
		if (!perms[p].used)
			p = -1;
	}
	if (p < 0)
		return;
	P = &perms[p];
	aoff = xs_below(&rng, seg_len[P->k]);
	an = 1 + xs_below(&rng, seg_len[P->k] - aoff);
	if (xs_chance(&rng, 30)) {
		aoff = 0;
		an = seg_len[P->k];
	}
	size = (size_t)an * pg;
	if (xs_chance(&rng, 20))	/* rounded up to whole pages */
		size -= xs_below(&rng, pg - 1) + 1;
	want = xs_chance(&rng, 80) ? slot_base(i) : NULL;
	flags = xs_chance(&rng, 30) ? XPMEM_ATTACH_POPULATE : 0;
	W = &ctl->w[P->w];
	life = LD(W->life);
	sseq = LD(W->seg[P->k].seq);
	segid = LD(W->seg[P->k].segid);
	addr.apid = P->apid;
	addr.offset = (off_t)aoff * pg;
	got = xpmem_attach_flags(addr, size, want, flags);
	if (got == (void *)-1) {
		int gone = P->life != life || (life & 1) ||
			   LD(W->life) != life || segid != P->segid ||
			   (sseq & 1) || LD(W->seg[P->k].seq) != sseq;

		if (errno == ENOENT && gone)
			COUNT(N_GONE);
		else
			WFAIL("xpmem_attach(worker %d seg %u, pages %u+%u, "
			      "%s) = %s%s", P->w, P->k, aoff, an,
			      want ? "fixed" : "anywhere", strerror(errno),
			      gone ? "" : " (segment current, exporter alive)");
		return;
	}
	atts[i] = (struct att){ 1, p, got, want != NULL, aoff, an,
				an == 64 ? ~0ULL : (1ULL << an) - 1, 0 };
	if (want && got != want) {
		WFAIL("attach at %p returned %p", (void *)want, (void *)got);
		atts[i].used = 0;
		return;
	}
	/* Never let the kernel's choice sit in a hole of our arena. */
	if (!want && got < arena + (size_t)NPAGES * pg &&
	    got + (size_t)an * pg > arena) {
		if (xpmem_detach(got))
			WFAIL("xpmem_detach(%p): %s", (void *)got,
			      strerror(errno));
		atts[i].used = 0;
		return;
	}
	COUNT(N_ATTACH);
}

static void importer_detach(void)
{
	int i = pick_att(0);
	struct att *a;
	unsigned int q;

	if (i < 0)
		return;
	a = &atts[i];
	q = pick_page(a, a->present);
	if (xpmem_detach(a->base + (size_t)q * pg)) {
		WFAIL("xpmem_detach(page %u of an attachment): %s", q,
		      strerror(errno));
		return;
	}
	drop_att(i, 1);
	COUNT(N_DETACH);
}

static void importer_release(void)
{
	int p = xs_below(&rng, MAXP), i;

	if (!perms[p].used)
		return;
	if (xpmem_release(perms[p].apid)) {
		WFAIL("xpmem_release(own permit): %s", strerror(errno));
		return;
	}
	/* Every attachment made through it is gone. */
	for (i = 0; i < MAXA; i++)
		if (atts[i].used && atts[i].p == p)
			drop_att(i, 1);
	perms[p].used = 0;
	COUNT(N_RELEASE);
}

/* A run of pages of attachment @a that are all in @mask, from a random one. */
static int pick_run(struct att *a, uint64_t mask, unsigned int *q0,
		    unsigned int *n)
{
	unsigned int q = pick_page(a, mask), end;

	if (q >= a->an)
		return -1;
	end = q + 1 + xs_below(&rng, 4);
	*q0 = q;
	for (*n = 0; q < end && q < a->an && (mask >> q & 1); q++)
		(*n)++;
	return 0;
}

static uint64_t run_mask(unsigned int q0, unsigned int n)
{
	return (n == 64 ? ~0ULL : (1ULL << n) - 1) << q0;
}

/* munmap part of an attachment: an implicit detach of that part only. */
static void importer_munmap_part(void)
{
	int i = pick_att(0);
	unsigned int q0, n;
	struct att *a;

	if (i < 0 || pick_run(&atts[i], atts[i].present, &q0, &n))
		return;
	a = &atts[i];
	if (munmap(a->base + (size_t)q0 * pg, (size_t)n * pg)) {
		WFAIL("munmap of part of an attachment: %s", strerror(errno));
		return;
	}
	a->present &= ~run_mask(q0, n);
	a->ro &= ~run_mask(q0, n);
	if (!a->present) {
		drop_att(i, 0);
		return;
	}
	if (a->fixed)
		reserve(a->base + (size_t)q0 * pg, (size_t)n * pg);
}

/* mprotect part of an attachment read-only, or back to read-write. */
static void importer_mprotect_part(void)
{
	int i = pick_att(0), ret, wr;
	unsigned int q0, n;
	struct att *a;
	char *at;

	if (i < 0 || pick_run(&atts[i], atts[i].present, &q0, &n))
		return;
	a = &atts[i];
	at = a->base + (size_t)q0 * pg;
	wr = (a->ro >> q0 & 1);
	ret = mprotect(at, (size_t)n * pg,
		       wr ? PROT_READ | PROT_WRITE : PROT_READ);
	if (wr && !perms[a->p].writable) {
		/* A read-only permit: never writable. */
		if (ret == 0 || errno != EACCES)
			WFAIL("mprotect(PROT_WRITE) of a read-only attachment:"
			      " %s", ret ? strerror(errno) : "it worked");
		return;
	}
	if (ret) {
		WFAIL("mprotect of part of an attachment: %s",
		      strerror(errno));
		return;
	}
	if (wr)
		a->ro &= ~run_mask(q0, n);
	else
		a->ro |= run_mask(q0, n);
}

/* Attaching over an existing attachment must fail with EINVAL. */
static void importer_attach_over(void)
{
	int i = pick_att(0), p;
	struct xpmem_addr addr;
	unsigned int q;
	void *got;

	if (i < 0)
		return;
	p = atts[i].p;
	q = pick_page(&atts[i], atts[i].present);
	addr.apid = perms[p].apid;
	addr.offset = 0;
	got = xpmem_attach(addr, pg, atts[i].base + (size_t)q * pg);
	if (got != (void *)-1 || errno != EINVAL)
		WFAIL("xpmem_attach over an existing attachment: %s",
		      got != (void *)-1 ? "it worked" : strerror(errno));
}

/* ------------------------------------------------------------ fork child */

/* Runs in a fork child of a worker; returns its exit code. */
static int fork_child(void)
{
	struct xpmem_addr addr;
	unsigned int p, n;
	uint64_t v, gen, back;
	int64_t segid, apid;
	static char buf[65536];
	char *at;
	int i, w, sig, c, bad = 0;

	/* Attachments are not inherited. */
	for (i = 0; i < MAXA; i++) {
		if (!atts[i].used || !atts[i].present)
			continue;
		at = atts[i].base + (size_t)pick_page(&atts[i],
						      atts[i].present) * pg;
		if (xs_load((uint64_t *)at, &v) != SIGSEGV) {
			WFAIL("fork child: attachment at %p is mapped in the "
			      "child", (void *)at);
			bad = 1;
		}
	}
	/* Scribble over our copy of the arena: importers must never see it. */
	for (n = 0; n < 8; n++) {
		p = xs_below(&rng, NPAGES);
		v = (uint64_t)MAGIC_CHILD | (uint64_t)me << 32 |
		    (uint64_t)p << 48;
		xs_store((uint64_t *)page_at(p), v, &back);
	}
	/* xpmem from the child (the library reopens /dev/xpmem). */
	w = xs_below(&rng, ctl->nw);
	segid = LD(ctl->w[w].seg[0].segid);
	if (segid <= 0)
		return bad;
	apid = xpmem_get(segid, XPMEM_RDONLY, XPMEM_PERMIT_MODE, NULL);
	if (apid == -1)
		return bad;
	addr.apid = apid;
	addr.offset = 0;
	at = xpmem_attach(addr, (size_t)NPAGES * pg, NULL);
	if (at == (void *)-1)
		return bad;
	p = xs_below(&rng, NPAGES);
	sig = xs_copy(buf, at + (size_t)p * pg, pg);
	c = sig ? C_BLANK : classify(buf, w, p, &gen);
	if (sig == SIGSEGV || c == C_CHILD || c == C_FOREIGN ||
	    c == C_SLOTBAD) {
		WFAIL("fork child reading worker %d page %u: %s", w, p,
		      sig ? strsignal(sig) : c_name[c]);
		bad = 1;
	}
	return bad;
}

static pid_t child_pid;
static unsigned int child_left;

static void exporter_fork(void)
{
	pid_t pid;

	if (child_pid)
		return;
	pid = fork();
	if (pid < 0) {
		WFAIL("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		xs_rng_init(&rng, ctl->seed, xs_next(&rng));
		_exit(fork_child());
	}
	child_pid = pid;
	ST(ctl->w[me].child, pid);
	child_left = xs_below(&rng, 40);
	COUNT(N_FORK);
}

/* Reap the fork child, or kill it at a random point. */
static void exporter_child_tick(int finish)
{
	int status;
	pid_t r;

	if (!child_pid)
		return;
	if (finish || !child_left--) {
		if (xs_chance(&rng, 70) || finish)
			kill(child_pid, SIGKILL);
		r = waitpid(child_pid, &status, 0);
	} else {
		r = waitpid(child_pid, &status, WNOHANG);
	}
	if (r == 0)
		return;
	if (r < 0)
		WFAIL("waitpid(fork child): %s", strerror(errno));
	else if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) &&
		 !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		WFAIL("fork child ended with status %#x", status);
	child_pid = 0;
	ST(ctl->w[me].child, 0);
}

/* ------------------------------------------------------------ worker */

static void worker_init(void)
{
	struct wpub *W = &ctl->w[me];
	unsigned int p, k;
	uint64_t g;

	arena = mmap(NULL, (size_t)NPAGES * pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	att_area = mmap(NULL, (size_t)MAXA * ATT_SLOT * pg, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED || att_area == MAP_FAILED) {
		WFAIL("mmap: %s", strerror(errno));
		_exit(1);
	}
	ST(W->arena, (uint64_t)(uintptr_t)arena);
	for (p = 0; p < NPAGES; p++) {
		if (LD(W->pseq[p]) & 1)
			INC(W->pseq[p]);
		INC(W->pseq[p]);
		g = new_gen();
		fill_page(page_at(p), me, p, g);
		ST(W->pgen[p], g);
		ST(W->pstate[p], ST_RW);
		INC(W->pseq[p]);
	}
	for (k = 0; k < NSEG; k++) {
		if (LD(W->seg[k].seq) & 1)
			INC(W->seg[k].seq);
		INC(W->seg[k].seq);
		ST(W->seg[k].segid, make_seg(k));
		INC(W->seg[k].seq);
	}
	COUNT(N_SPAWN);
	INC(W->life);		/* even: alive */
}

static void worker_main(int w)
{
	struct wpub *W = &ctl->w[w];
	unsigned int op;
	int i;

	me = w;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	xs_probe_setup();
	xs_rng_init(&rng, ctl->seed, 1000 + (uint64_t)w * 100003 +
		    LD(W->life));
	worker_init();
	while (!LD(ctl->stop)) {
		INC(W->heartbeat);
		exporter_child_tick(0);
		op = xs_below(&rng, 1000);
		if (op < 300)
			importer_read();
		else if (op < 400)
			importer_write();
		else if (op < 460)
			importer_get();
		else if (op < 540)
			importer_attach();
		else if (op < 570)
			importer_detach();
		else if (op < 590)
			importer_release();
		else if (op < 620)
			importer_munmap_part();
		else if (op < 650)
			importer_mprotect_part();
		else if (op < 655)
			importer_attach_over();
		else if (op < 850)
			exporter_page_op();
		else if (op < 870)
			exporter_remake();
		else if (op < 900)
			exporter_verify();
		else if (op < 990)
			exporter_check_mbox();
		else
			exporter_fork();
	}
	exporter_child_tick(1);
	exporter_verify();
	exporter_check_mbox();
	/*
	 * Going away: odd life, published before the segments go (by hand or
	 * by exit), so that an importer still in the middle of an access
	 * sees why it got SIGBUS.
	 */
	INC(W->life);
	/* Half clean up by hand; the rest leave it to exit. */
	if (xs_chance(&rng, 50)) {
		for (i = 0; i < MAXP; i++)
			if (perms[i].used && xpmem_release(perms[i].apid))
				WFAIL("xpmem_release at the end: %s",
				      strerror(errno));
		for (i = 0; i < NSEG; i++)
			if (W->seg[i].segid > 0 &&
			    xpmem_remove(W->seg[i].segid))
				WFAIL("xpmem_remove at the end: %s",
				      strerror(errno));
	}
	_exit(0);
}

/* ------------------------------------------------------------ lock order */

static int lo_me;
static char *lo_region;
static char *lo_att;

#define LFAIL(fmt, ...)	FAIL(ctl->lo[lo_me].fails, fmt, ##__VA_ARGS__)

static uint64_t lo_marker(int who, unsigned int p)
{
	return 0x4c4f000000000000ULL | (uint64_t)who << 32 | p;
}

/* Thread: own range changes under the other's faults (mmap_lock writer). */
static void *lo_mapper(void *arg)
{
	struct xs_rng r;
	unsigned int p, op;
	char *at, *extra;

	(void)arg;
	xs_rng_init(&r, ctl->seed, 500 + lo_me);
	while (!LD(ctl->stop)) {
		INC(ctl->lo[lo_me].hb[1]);
		p = xs_below(&r, LO_PAGES);
		at = lo_region + (size_t)p * pg;
		op = xs_below(&r, 4);
		if (op == 0) {
			if (mmap(at, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE |
				 MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
				LFAIL("mmap: %s", strerror(errno));
			else
				*(uint64_t *)at = lo_marker(lo_me, p);
		} else if (op == 1) {
			mprotect(at, pg, PROT_READ);
			mprotect(at, pg, PROT_READ | PROT_WRITE);
		} else if (op == 2) {
			madvise(at, pg, MADV_DONTNEED);
		} else {
			extra = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (extra != MAP_FAILED) {
				extra[0] = 1;
				munmap(extra, 16 * pg);
			}
		}
		INC(ctl->lo[lo_me].maps);
	}
	return NULL;
}

/* Thread: attach the other's segment with POPULATE, touch, detach. */
static void *lo_populater(void *arg)
{
	struct xpmem_addr addr;
	struct xs_rng r;
	int64_t apid;
	uint64_t v;
	char *at;
	unsigned int off;

	addr.apid = (xpmem_apid_t)(intptr_t)arg;
	xs_rng_init(&r, ctl->seed, 600 + lo_me);
	apid = addr.apid;
	while (!LD(ctl->stop)) {
		INC(ctl->lo[lo_me].hb[2]);
		off = xs_below(&r, LO_PAGES / 2);
		addr.apid = apid;
		addr.offset = (off_t)off * pg;
		at = xpmem_attach_flags(addr, (size_t)(LO_PAGES / 2) * pg,
					NULL, XPMEM_ATTACH_POPULATE);
		if (at == (void *)-1) {
			LFAIL("xpmem_attach(POPULATE): %s", strerror(errno));
			continue;
		}
		if (xs_load((uint64_t *)at, &v) == SIGSEGV)
			LFAIL("SIGSEGV reading a fresh attachment");
		if (xpmem_detach(at))
			LFAIL("xpmem_detach: %s", strerror(errno));
		INC(ctl->lo[lo_me].attaches);
	}
	return NULL;
}

static void lo_main(int i)
{
	struct lopub *L = &ctl->lo[i];
	struct xpmem_addr addr;
	pthread_t t1, t2;
	int64_t other, apid;
	unsigned int p;
	uint64_t v;
	int sig;

	lo_me = i;
	me = -1;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	xs_probe_setup();
	lo_region = mmap(NULL, (size_t)LO_PAGES * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lo_region == MAP_FAILED) {
		LFAIL("mmap: %s", strerror(errno));
		_exit(1);
	}
	for (p = 0; p < LO_PAGES; p++)
		*(uint64_t *)(lo_region + (size_t)p * pg) = lo_marker(i, p);
	L->segid = xpmem_make(lo_region, (size_t)LO_PAGES * pg,
			      XPMEM_PERMIT_MODE, (void *)0600);
	if (L->segid == -1) {
		LFAIL("xpmem_make: %s", strerror(errno));
		_exit(1);
	}
	while (!(other = LD(ctl->lo[!i].segid)) && !LD(ctl->stop)) {
		INC(L->hb[0]);
		sched_yield();
	}
	if (other <= 0)
		_exit(0);
	apid = xpmem_get(other, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	addr.apid = apid;
	addr.offset = 0;
	lo_att = xpmem_attach(addr, (size_t)LO_PAGES * pg, NULL);
	if (apid == -1 || lo_att == (void *)-1) {
		LFAIL("get/attach of the other's segment: %s",
		      strerror(errno));
		_exit(1);
	}
	if (pthread_create(&t1, NULL, lo_mapper, NULL) ||
	    pthread_create(&t2, NULL, lo_populater, (void *)(intptr_t)apid)) {
		LFAIL("pthread_create failed");
		_exit(1);
	}
	/* Fault on the other's pages while our own mapper holds mmap_lock. */
	while (!LD(ctl->stop)) {
		INC(L->hb[0]);
		for (p = 0; p < LO_PAGES && !LD(ctl->stop); p++) {
			sig = xs_load((uint64_t *)(lo_att + (size_t)p * pg),
				      &v);
			if (sig == SIGSEGV)
				LFAIL("SIGSEGV reading the other's page %u", p);
			else if (!sig && v && v != lo_marker(!i, p))
				LFAIL("page %u holds %#" PRIx64 ", not the "
				      "other's marker", p, v);
			INC(L->faults);
		}
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	_exit(0);
}

/* ------------------------------------------------------------ driver */

#define NPROC	(MAXW + 2)

struct child {
	pid_t pid;
	int lo;			/* lock-order process (index), else -1 */
	int killing;		/* we sent SIGKILL */
	double kill_time;
	uint64_t hb[3];		/* last progress seen */
	double hb_time;
};

static struct child kids[NPROC];
static int nkids;
static int hangs, lo_hangs, bad_exits, lo_bad_exits;
static double hang_secs;

static void spawn(int c)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		xs_say("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		if (kids[c].lo >= 0)
			lo_main(kids[c].lo);
		worker_main(c);
	}
	kids[c].pid = pid;
	kids[c].killing = 0;
	kids[c].hb_time = xs_now();
	if (kids[c].lo < 0)
		ctl->w[c].pid = pid;
	else
		ctl->lo[kids[c].lo].pid = pid;
}

static int kid_of(pid_t pid)
{
	int c;

	for (c = 0; c < nkids; c++)
		if (kids[c].pid == pid)
			return c;
	return -1;
}

/* Report a hang of kid @c and its children, with their kernel stacks. */
static void report_hang(int c, const char *what)
{
	pid_t sub[32];
	int i, n;

	xs_say("# FAIL: %s %d (pid %d) %s; where its threads are:\n",
	       kids[c].lo >= 0 ? "lock-order process" : "worker",
	       kids[c].lo >= 0 ? kids[c].lo : c, (int)kids[c].pid, what);
	xs_dump_stacks(kids[c].pid);
	n = xs_children(kids[c].pid, sub, 32);
	for (i = 0; i < n; i++) {
		xs_say("#   its child %d:\n", (int)sub[i]);
		xs_dump_stacks(sub[i]);
	}
	if (kids[c].lo >= 0)
		lo_hangs++;
	else
		hangs++;
}

static void watchdog(double now)
{
	uint64_t hb[3] = { 0 };
	int c, j, n, moved;

	for (c = 0; c < nkids; c++) {
		if (!kids[c].pid)
			continue;
		if (kids[c].killing) {
			if (kids[c].killing == 1 &&
			    now - kids[c].kill_time > hang_secs) {
				report_hang(c, "survives SIGKILL");
				kids[c].killing = 2;
			}
			continue;
		}
		/* A worker's loop, or every thread of a lock-order process. */
		n = kids[c].lo >= 0 ? 3 : 1;
		for (j = 0; j < n; j++)
			hb[j] = kids[c].lo >= 0 ?
				LD(ctl->lo[kids[c].lo].hb[j]) :
				LD(ctl->w[c].heartbeat);
		moved = 1;
		for (j = 0; j < n; j++)
			if (hb[j] == kids[c].hb[j])
				moved = 0;
		if (moved) {
			memcpy(kids[c].hb, hb, sizeof(hb));
			kids[c].hb_time = now;
		} else if (now - kids[c].hb_time > hang_secs) {
			report_hang(c, "made no progress for a long time");
			kill(kids[c].pid, SIGKILL);
			if (kids[c].lo < 0 && !(LD(ctl->w[c].life) & 1))
				INC(ctl->w[c].life);
			kids[c].killing = 1;
			kids[c].kill_time = now;
		}
	}
}

static void reap(int stopping)
{
	int status, c;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		c = kid_of(pid);
		if (c < 0)
			continue;	/* an orphaned fork child */
		kids[c].pid = 0;
		if (kids[c].killing ||
		    (stopping && WIFEXITED(status) && !WEXITSTATUS(status))) {
			if (!stopping && kids[c].lo < 0)
				spawn(c);
			continue;
		}
		xs_say("# FAIL: %s %d (pid %d) ended by itself: %s %d\n",
		       kids[c].lo >= 0 ? "lock-order process" : "worker",
		       kids[c].lo >= 0 ? kids[c].lo : c, (int)pid,
		       WIFSIGNALED(status) ? "signal" : "exit code",
		       WIFSIGNALED(status) ? WTERMSIG(status) :
		       WEXITSTATUS(status));
		if (kids[c].lo >= 0) {
			lo_bad_exits++;
			continue;
		}
		bad_exits++;
		if (!stopping) {
			if (!(LD(ctl->w[c].life) & 1))
				INC(ctl->w[c].life);
			spawn(c);
		}
	}
}

static void kill_one(struct xs_rng *r, double now)
{
	int c = xs_below(r, ctl->nw);

	if (!kids[c].pid || kids[c].killing || (LD(ctl->w[c].life) & 1))
		return;
	INC(ctl->w[c].life);	/* odd: importers expect anything now */
	kill(kids[c].pid, SIGKILL);
	kids[c].killing = 1;
	kids[c].kill_time = now;
}

static int live_kids(void)
{
	int c, n = 0;

	for (c = 0; c < nkids; c++)
		n += kids[c].pid != 0;
	return n;
}

int main(void)
{
	uint64_t seed, secs, sum[N_COUNT] = { 0 }, fails = 0, lo_fails = 0;
	double now, end, next_kill, deadline;
	struct xs_tap tap;
	struct xs_rng r;
	int c, j, nw, ok;

	pg = sysconf(_SC_PAGESIZE);
	seed = xs_seed("STRESS_SEED");
	secs = xs_env("STRESS_SECONDS", 60, 1, 7 * 86400);
	nw = (int)xs_env("STRESS_PROCS", 4, 2, MAXW);
	hang_secs = (double)xs_env("STRESS_HANG_SECONDS", HANG_SECS, 5, 3600);
	if (access("/dev/xpmem", R_OK | W_OK)) {
		xs_say("TAP version 13\n1..0 # SKIP /dev/xpmem is missing: "
		       "load xpmem.ko (make stress does)\n");
		return 4;
	}
	xs_tap_plan(&tap, "stress", 4);
	xs_say("# seed %" PRIu64 " (repeat with STRESS_SEED=%" PRIu64
	       "), %" PRIu64 " s, %d workers + the lock-order pair\n",
	       seed, seed, secs, nw);
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED) {
		xs_say("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	ctl->seed = seed;
	ctl->nw = nw;
	me = -1;
	xs_rng_init(&r, seed, 0);
	/* Orphaned fork children are reaped here, not by init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	xs_tap_begin(&tap, "mesh_data_verified");
	nkids = nw + 2;
	for (c = 0; c < nkids; c++) {
		kids[c].lo = c < nw ? -1 : c - nw;
		if (c < nw)
			ctl->w[c].life = 1;
		spawn(c);
	}
	now = xs_now();
	end = now + (double)secs;
	next_kill = now + 1.0 + (double)xs_below(&r, 3000) / 1000.0;
	while ((now = xs_now()) < end) {
		reap(0);
		watchdog(now);
		if (now >= next_kill) {
			kill_one(&r, now);
			next_kill = now + 0.5 + (double)xs_below(&r, 3000) /
				    1000.0;
		}
		poll(NULL, 0, 20);
	}

	/* Everybody stops and exits. */
	ST(ctl->stop, 1);
	deadline = xs_now() + hang_secs;
	for (;;) {
		reap(1);
		now = xs_now();
		if (!live_kids())
			break;
		if (now > deadline) {
			for (c = 0; c < nkids; c++) {
				if (kids[c].pid && kids[c].killing != 2) {
					report_hang(c, "did not exit after stop");
					kill(kids[c].pid, SIGKILL);
					kids[c].killing = 2;
				}
			}
			if (now > deadline + hang_secs)
				break;
		}
		watchdog(now);
		poll(NULL, 0, 20);
	}
	/* Orphans (fork children) too: wait until no child is left. */
	while (waitpid(-1, NULL, WNOHANG) > 0 || (errno != ECHILD &&
						  xs_now() < deadline + hang_secs))
		poll(NULL, 0, 20);

	for (c = 0; c < nw; c++) {
		for (j = 0; j < N_COUNT; j++)
			sum[j] += ctl->w[c].n[j];
		fails += ctl->w[c].fails;
	}
	xs_say("# mesh:");
	for (j = 0; j < N_COUNT; j++)
		xs_say(" %s %" PRIu64 "%s", n_name[j], sum[j],
		       j + 1 < N_COUNT ? "," : "\n");
	ok = !fails && !hangs && !bad_exits;
	if (!sum[N_READ] || !sum[N_WRITE] || !sum[N_MBOX] || !sum[N_BUS]) {
		xs_say("# FAIL: the mesh did not exercise verified reads, "
		       "writes, mailbox checks and SIGBUS (too short a run?)\n");
		ok = 0;
	}
	xs_say("# mesh: %" PRIu64 " failed checks, %d hangs, %d unexpected "
	       "exits\n", fails, hangs, bad_exits);
	xs_tap_end(&tap, "mesh_data_verified", ok);

	xs_tap_begin(&tap, "lock_order_no_deadlock");
	for (c = 0; c < 2; c++) {
		lo_fails += ctl->lo[c].fails;
		xs_say("# lock-order process %d: %" PRIu64 " page reads, %"
		       PRIu64 " own mapping changes, %" PRIu64
		       " populated attaches\n", c, ctl->lo[c].faults,
		       ctl->lo[c].maps, ctl->lo[c].attaches);
		if (!ctl->lo[c].faults || !ctl->lo[c].maps ||
		    !ctl->lo[c].attaches)
			lo_fails++;
	}
	xs_tap_end(&tap, "lock_order_no_deadlock",
		   !lo_fails && !lo_hangs && !lo_bad_exits);

	xs_tap_begin(&tap, "all_processes_exit");
	ok = !live_kids();
	if (!ok)
		xs_say("# FAIL: %d processes still alive\n", live_kids());
	xs_tap_end(&tap, "all_processes_exit", ok);

	/* Nothing may be left once every process is gone. */
	xs_tap_no_objects_left(&tap);
	xs_say("# seed %" PRIu64 " (repeat with STRESS_SEED=%" PRIu64 ")\n",
	       seed, seed);
	return xs_tap_done(&tap);
}
