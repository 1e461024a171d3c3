// SPDX-License-Identifier: GPL-2.0
/*
 * mm_events.c - the coherence matrix: after each change the core mm makes to
 * the exporter's memory, an importer in another process reads what the
 * exporter reads, and its writes land in the exporter's current page.
 *
 * Events not covered elsewhere: mremap growing in place and by moving,
 * MADV_FREE + reclaim, MADV_REMOVE, hole punch and truncate of a shared
 * memfd, MADV_DONTFORK / MADV_WIPEONFORK + fork, THP split by a partial
 * munmap or mprotect and collapse by khugepaged, hugetlb munmap + remap,
 * page migration (move_pages to another NUMA node, MADV_SOFT_OFFLINE), KSM
 * merge and unmerge, writes by a third process (process_vm_writev,
 * /proc/PID/mem) that break COW while the exporter sleeps, a
 * userfaultfd-registered source, and the exporter killed while importers
 * fault. Each check that follows an invalidation fails if the importer's
 * PTEs are not zapped (tools/mutants.sh "nozap" shows it).
 * coherence.c, sources.c, fork.c, perm.c and lifetime.c have the rest.
 *
 * The importer is a child forked before the source exists (so no source
 * page is copy-on-write shared with it) that attaches on request.
 */
#include "xpmem_test.h"

#include <linux/userfaultfd.h>
#include <sched.h>
#include <sys/uio.h>

#define NPAGES		16
#define IMP_DEAD	UINT64_MAX
#define IMP_SIG(s)	(0x100u + (s))	/* PEEK result: a signal, not a byte */

#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

/* ------------------------------------------------------- the importer */

enum imp_op {
	IMP_ATTACH = 1,	/* get + attach segid @at, @len bytes, flags @seed */
	IMP_CHECK,	/* [off, off+len) holds pattern @seed from @at: 0, else 1 + offset */
	IMP_FILL,	/* fill [off, off+len) with pattern @seed from @at */
	IMP_PEEK,	/* the byte at @off, or IMP_SIG(signal) */
	IMP_POKE,	/* store byte @seed at @off: 0 or the signal */
	IMP_SPIN,	/* a thread reads [off, off+len) page by page until IMP_QUIT */
	IMP_BYTES,	/* byte 0 of page i of [off, off+len) is race_val(@seed, i) */
	IMP_PVW,	/* process_vm_writev pattern @seed from @at to parent VA @off */
	IMP_PMEM,	/* the same through pwrite() on /proc/PARENT/mem */
	IMP_STORM,	/* answer 0, read [off, off+len) until a signal, answer it */
	IMP_QUIT,
};

struct imp_req {
	uint32_t op;
	uint32_t seed;
	uint64_t off;
	uint64_t len;
	uint64_t at;
};

struct imp_state {
	char *addr;
	size_t len;
	volatile int stop;
	const volatile char *spin;
	size_t spin_len;
};

static void *imp_spinner(void *arg)
{
	struct imp_state *st = arg;
	size_t i;

	while (!st->stop)
		for (i = 0; i < st->spin_len; i += xt_pg())
			(void)st->spin[i];
	return NULL;
}

/* What the racing test writes to byte 0 of page @i in round @round. */
static uint8_t race_val(unsigned int round, size_t i)
{
	return (uint8_t)((round * 7 + i) % 251 + 1);
}

/* Write @len bytes of pattern @seed (from @at) to address @va of @pid. */
static uint64_t imp_remote_write(pid_t pid, int how, uint64_t va, size_t len,
				 unsigned int seed, size_t at)
{
	char *tmp = malloc(len), path[64];
	struct iovec l = { tmp, len }, r = { (void *)(uintptr_t)va, len };
	ssize_t n;
	int fd;

	if (!tmp)
		return IMP_DEAD;
	xt_fill_at(tmp, len, seed, at);
	if (how == IMP_PVW) {
		n = process_vm_writev(pid, &l, 1, &r, 1, 0);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		fd = open(path, O_RDWR | O_CLOEXEC);
		n = fd < 0 ? -1 : pwrite(fd, tmp, len, (off_t)va);
		if (fd >= 0)
			close(fd);
	}
	free(tmp);
	return n == (ssize_t)len ? 0 : (uint64_t)(n < 0 ? errno : EIO);
}

static int importer_main(struct xt_proc *parent, void *arg)
{
	struct imp_state st = { 0 };
	pthread_t spinner;
	int spinning = 0;
	struct xt_att a = { 0 };
	struct imp_req q;
	uint64_t res;
	uint8_t v;
	size_t i;
	long bad;
	int sig;

	(void)arg;
	for (;;) {
		/* Blocking: the parent may take long (KSM); PDEATHSIG ends us. */
		if (read(parent->rd, &q, sizeof(q)) != (ssize_t)sizeof(q))
			return 1;
		if (q.op != IMP_ATTACH && q.op != IMP_QUIT && q.op != IMP_PVW &&
		    q.op != IMP_PMEM)
			XT_CHECK(st.addr && q.off + q.len <= st.len &&
				 (q.len || q.off < st.len));
		switch (q.op) {
		case IMP_ATTACH:
			res = xt_get_attach((xpmem_segid_t)q.at, (int)q.seed,
					    0, q.len, &a) ? (uint64_t)errno : 0;
			if (!res) {
				st.addr = a.addr;
				st.len = q.len;
			}
			break;
		case IMP_CHECK:
			bad = xt_bad_at(st.addr + q.off, q.len, q.seed, q.at);
			res = bad < 0 ? 0 : 1 + (uint64_t)bad;
			break;
		case IMP_FILL:
			xt_fill_at(st.addr + q.off, q.len, q.seed, q.at);
			res = 0;
			break;
		case IMP_PEEK:
			sig = xt_access_sig((uint8_t *)st.addr + q.off, 0, 0, &v);
			res = sig ? IMP_SIG(sig) : v;
			break;
		case IMP_POKE:
			res = (uint64_t)xt_write_sig(st.addr + q.off,
						     (uint8_t)q.seed);
			break;
		case IMP_SPIN:
			st.spin = st.addr + q.off;
			st.spin_len = q.len;
			XT_CHECK(!spinning);
			XT_CHECK(!pthread_create(&spinner, NULL, imp_spinner,
						 &st));
			spinning = 1;
			res = 0;
			break;
		case IMP_BYTES:
			res = 0;
			for (i = 0; !res && i < q.len / xt_pg(); i++)
				if ((uint8_t)st.addr[q.off + i * xt_pg()] !=
				    race_val(q.seed, i))
					res = 1 + i;
			break;
		case IMP_PVW:
		case IMP_PMEM:
			res = imp_remote_write(parent->pid, (int)q.op, q.off,
					       q.len, q.seed, q.at);
			break;
		case IMP_STORM:
			/* Answer first: the parent waits for the signal. */
			XT_CHECK(xt_send(parent, 0) == 0);
			for (sig = 0; !sig;)
				for (i = 0; i < q.len && !sig; i += xt_pg())
					sig = xt_read_sig(st.addr + q.off + i);
			res = (uint64_t)sig;
			break;
		case IMP_QUIT:
			if (spinning) {
				st.stop = 1;
				pthread_join(spinner, NULL);
			}
			return 0;
		default:
			XT_CHECK(!"unknown request");
		}
		XT_CHECK(xt_send(parent, res) == 0);
	}
}

/* Send a request without waiting for its answer. Return: 0 or -1. */
static int imp_send(struct xt_proc *c, uint32_t op, uint64_t off,
		    uint64_t len, uint32_t seed, uint64_t at)
{
	struct imp_req q = { op, seed, off, len, at };

	return write(c->wr, &q, sizeof(q)) == (ssize_t)sizeof(q) ? 0 : -1;
}

/* One request and its answer; IMP_DEAD if the importer died. */
static uint64_t imp(struct xt_proc *c, uint32_t op, uint64_t off,
		    uint64_t len, uint32_t seed, uint64_t at)
{
	uint64_t res;

	if (imp_send(c, op, off, len, seed, at) || xt_recv(c, &res))
		return IMP_DEAD;
	return res;
}

/* Does the importer see pattern @seed at [off, off + len)? 0 if yes. */
#define imp_check(c, off, len, seed) imp(c, IMP_CHECK, off, len, seed, off)
#define imp_fill(c, off, len, seed) imp(c, IMP_FILL, off, len, seed, off)
#define imp_peek(c, off) imp(c, IMP_PEEK, off, 0, 0, 0)
#define imp_poke(c, off, val) imp(c, IMP_POKE, off, 0, val, 0)

/* Does the exporter hold pattern @seed at [p + off, p + off + len)? */
static int exp_ok(const char *p, size_t off, size_t len, unsigned int seed)
{
	return xt_bad_at(p + off, len, seed, off) == -1;
}

/* The page frame behind @p in this process (we are root), or 0. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(ev) {
	size_t pg, len;
	struct xt_proc c;	/* the importer */
	struct xt_proc w;	/* a third process, when a test needs one */
	long fault_pages;	/* the module parameter to restore, if > 0 */
};

FIXTURE_SETUP(ev)
{
	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	self->w.pid = 0;
	self->fault_pages = 0;
	ASSERT_EQ(0, xt_child(&self->c, importer_main, NULL));
}

static int sys_set(const char *path, long v);

FIXTURE_TEARDOWN(ev)
{
	if (self->fault_pages > 0)
		sys_set("/sys/module/xpmem/parameters/fault_pages",
			self->fault_pages);
	if (self->w.pid > 0) {
		imp_send(&self->w, IMP_QUIT, 0, 0, 0, 0);
		EXPECT_EQ(0, xt_wait(&self->w));
	}
	if (self->c.pid > 0) {
		imp_send(&self->c, IMP_QUIT, 0, 0, 0, 0);
		EXPECT_EQ(0, xt_wait(&self->c));
	}
}

/* Export [src, src + len) and have the importer attach all of it. */
static void ev_attach(struct __test_metadata *_metadata,
		      FIXTURE_DATA(ev) *self, void *src, size_t len)
{
	xpmem_segid_t segid;

	segid = xpmem_make(src, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, imp(&self->c, IMP_ATTACH, 0, len, XPMEM_RDWR,
			 (uint64_t)segid));
}

/* ------------------------------------------------------------- mremap */

/*
 * The segment covers more than the exporter's mapping; mremap grows the
 * mapping in place over the rest: the importer's SIGBUS there turns into
 * the exporter's new (zero) pages, both ways. (No page changes, so nothing
 * is invalidated: the importer only faults where it had nothing.)
 */
TEST_F(ev, mremap_grow_in_place_importer_sees_new_tail)
{
	size_t half = self->len / 2;
	char *p;

	p = xt_region(NPAGES, 1);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + half, half));
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_check(&self->c, 0, half, 1));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, half));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, self->len - 1));
	ASSERT_EQ(p, mremap(p, half, self->len, 0));
	ASSERT_EQ(0, imp_check(&self->c, 0, half, 1));
	ASSERT_EQ(0, imp_check(&self->c, half, half, 0));
	ASSERT_EQ(0, imp_fill(&self->c, half, half, 2));
	ASSERT_TRUE(exp_ok(p, half, half, 2));
	xt_fill(p, self->len, 3);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 3));
}

/*
 * mremap grows the exporter's mapping where it cannot grow in place, so it
 * moves: the old addresses become a hole (SIGBUS, also for pages the
 * importer had mapped), and what the exporter maps there next is what the
 * importer sees and writes; the moved pages never get importer writes.
 */
TEST_F(ev, mremap_grow_by_moving_leaves_hole_then_follows_va)
{
	size_t len = self->len;
	char *p, *q;

	p = xt_region(2 * NPAGES, 1);
	ASSERT_NE(MAP_FAILED, p);
	/* a different VMA right after the source blocks growing in place */
	ASSERT_EQ(0, mprotect(p + len, len, PROT_READ));
	ev_attach(_metadata, self, p, len);
	ASSERT_EQ(0, imp_check(&self->c, 0, len, 1));
	q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_NE(p, q);
	ASSERT_TRUE(exp_ok(q, 0, len, 1));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, 0));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, len - 1));
	ASSERT_EQ(SIGBUS, imp_poke(&self->c, self->pg, 0));
	ASSERT_EQ(p, mmap(p, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	xt_fill(p, len, 2);
	ASSERT_EQ(0, imp_check(&self->c, 0, len, 2));
	ASSERT_EQ(0, imp_fill(&self->c, 0, len, 3));
	ASSERT_TRUE(exp_ok(p, 0, len, 3));
	ASSERT_TRUE(exp_ok(q, 0, len, 1));
}

/* ------------------------------------------------- freeing and files */

/*
 * MADV_FREE, then the exporter rewrites half of the range (which keeps it)
 * and reclaim runs (MADV_PAGEOUT drops the clean other half): the importer
 * sees, page by page, what the exporter sees, and writes into it.
 */
TEST_F(ev, madv_free_then_pageout_importer_sees_exporter_pages)
{
	size_t i, half = self->len / 2, dropped = 0;
	char *p = xt_region(NPAGES, 1);
	unsigned int seed;
	cpu_set_t cpus;

	ASSERT_NE(MAP_FAILED, p);
	/*
	 * MADV_FREE queues the pages on this CPU's lazy-free batch, and
	 * MADV_PAGEOUT drains only the batch of the CPU it runs on (6.12
	 * skips pages still queued): stay on one CPU.
	 */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 1));
	ASSERT_EQ(0, madvise(p, self->len, MADV_FREE));
	xt_fill(p, half, 2);
	ASSERT_EQ(0, madvise(p, self->len, MADV_PAGEOUT));
	for (i = 0; i < NPAGES; i++) {
		size_t off = i * self->pg;

		if (i < NPAGES / 2) {
			seed = 2;
		} else if (exp_ok(p, off, self->pg, 0)) {
			seed = 0;
			dropped++;
		} else {
			seed = 1;
		}
		ASSERT_TRUE(exp_ok(p, off, self->pg, seed));
		EXPECT_EQ(0, imp_check(&self->c, off, self->pg, seed));
	}
	TH_LOG("reclaim dropped %zu of %d lazily freed pages", dropped,
	       NPAGES / 2);
	ASSERT_LT(0, dropped);
	ASSERT_EQ(0, imp_fill(&self->c, 0, self->len, 3));
	ASSERT_TRUE(exp_ok(p, 0, self->len, 3));
	xt_fill(p, self->len, 4);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 4));
}

/* A memfd of NPAGES pages of pattern 1, mapped shared; returns the fd. */
static int shmem_source(FIXTURE_DATA(ev) *self, char **p)
{
	char *tmp = malloc(self->len);
	int fd = memfd_create("xt-mm-events", MFD_CLOEXEC);

	*p = MAP_FAILED;
	if (fd < 0 || !tmp || ftruncate(fd, (off_t)self->len))
		goto out;
	xt_fill(tmp, self->len, 1);
	if (pwrite(fd, tmp, self->len, 0) != (ssize_t)self->len)
		goto out;
	*p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
out:
	free(tmp);
	return fd;
}

/*
 * Pages 4..7 of a shared memfd source are freed by @punch (MADV_REMOVE or
 * a hole punch): the importer reads zeros there like the exporter, the rest
 * unchanged, and its writes there reach the exporter and the file.
 */
static void shmem_hole(struct __test_metadata *_metadata,
		       FIXTURE_DATA(ev) *self, int madv)
{
	size_t pg = self->pg, hole = 4 * pg, hlen = 4 * pg;
	char *p;
	int fd;

	fd = shmem_source(self, &p);
	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, p);
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 1));
	if (madv) {
		ASSERT_EQ(0, madvise(p + hole, hlen, MADV_REMOVE));
	} else {
		ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				       FALLOC_FL_KEEP_SIZE, (off_t)hole,
				       (off_t)hlen));
	}
	/* the importer looks first: the exporter has no new pages yet */
	ASSERT_EQ(0, imp_check(&self->c, 0, hole, 1));
	ASSERT_EQ(0, imp_check(&self->c, hole, hlen, 0));
	ASSERT_EQ(0, imp_check(&self->c, hole + hlen,
			       self->len - hole - hlen, 1));
	ASSERT_TRUE(exp_ok(p, hole, hlen, 0));
	ASSERT_EQ(0, imp_fill(&self->c, hole, hlen, 2));
	ASSERT_TRUE(exp_ok(p, hole, hlen, 2));
	ASSERT_TRUE(exp_ok(p, 0, hole, 1));
	ASSERT_EQ(0, msync(p, self->len, MS_SYNC));
	ASSERT_EQ(-1, xt_file_bad(fd, hole, 1));
	close(fd);
}

TEST_F(ev, shmem_madv_remove_importer_sees_zeros_and_writes_back)
{
	shmem_hole(_metadata, self, 1);
}

TEST_F(ev, shmem_punch_hole_importer_sees_zeros_and_writes_back)
{
	shmem_hole(_metadata, self, 0);
}

/*
 * ftruncate shrinks a shared memfd source: beyond the new end the importer
 * gets SIGBUS like the exporter, also for pages it had mapped; grown back,
 * both read zeros there and the importer's writes reach the file.
 */
TEST_F(ev, shmem_truncate_shrink_sigbus_then_grow_back_zeros)
{
	size_t half = self->len / 2;
	char *p, *tmp;
	int fd;

	fd = shmem_source(self, &p);
	ASSERT_LE(0, fd);
	ASSERT_NE(MAP_FAILED, p);
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 1));
	ASSERT_EQ(0, ftruncate(fd, (off_t)half));
	ASSERT_EQ(SIGBUS, xt_read_sig(p + half));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, half));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, self->len - 1));
	ASSERT_EQ(SIGBUS, imp_poke(&self->c, half + self->pg, 0));
	ASSERT_EQ(0, imp_check(&self->c, 0, half, 1));
	ASSERT_EQ(0, ftruncate(fd, (off_t)self->len));
	ASSERT_EQ(0, imp_check(&self->c, half, half, 0));
	ASSERT_TRUE(exp_ok(p, half, half, 0));
	ASSERT_EQ(0, imp_fill(&self->c, half, half, 2));
	ASSERT_TRUE(exp_ok(p, half, half, 2));
	tmp = malloc(half);
	ASSERT_NE(NULL, tmp);
	ASSERT_EQ((ssize_t)half, pread(fd, tmp, half, (off_t)half));
	ASSERT_EQ(-1, xt_bad_at(tmp, half, 2, half));
	free(tmp);
	close(fd);
}

/* --------------------------------------------------------------- fork */

/* Fork child of the exporter after MADV_DONTFORK or MADV_WIPEONFORK. */
static int advised_child(struct xt_proc *parent, void *arg)
{
	uintptr_t *a = arg;	/* address, length, advice */
	char *p = (char *)a[0];
	size_t len = a[1];

	if (a[2] == MADV_DONTFORK) {
		XT_CHECK_EQ(0, xt_vma_len(p));
	} else {
		XT_CHECK_EQ(-1, xt_bad(p, len, 0));
		xt_fill(p, len, 9);
	}
	XT_CHECK(xt_send(parent, 1) == 0);
	XT_CHECK(xt_expect(parent, 2) == 0);
	if (a[2] != MADV_DONTFORK)
		XT_CHECK_EQ(-1, xt_bad(p, len, 9));
	return 0;
}

/*
 * The exporter's range is kept from (MADV_DONTFORK) or wiped in
 * (MADV_WIPEONFORK) its fork child: the importer keeps the parent's pages,
 * both ways, and the child's memory never sees the importer's writes.
 * (The parent's pages do not change at fork here: nothing is invalidated.)
 */
static void advised_fork(struct __test_metadata *_metadata,
			 FIXTURE_DATA(ev) *self, int advice)
{
	char *p = xt_region(NPAGES, 1);
	uintptr_t a[3];
	struct xt_proc f;

	ASSERT_NE(MAP_FAILED, p);
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 1));
	ASSERT_EQ(0, madvise(p, self->len, advice));
	a[0] = (uintptr_t)p;
	a[1] = self->len;
	a[2] = (uintptr_t)advice;
	ASSERT_EQ(0, xt_child(&f, advised_child, a));
	ASSERT_EQ(0, xt_expect(&f, 1));
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 1));
	ASSERT_EQ(0, imp_fill(&self->c, 0, self->len, 2));
	ASSERT_TRUE(exp_ok(p, 0, self->len, 2));
	xt_fill(p, self->len, 3);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 3));
	ASSERT_EQ(0, xt_send(&f, 2));
	ASSERT_EQ(0, xt_wait(&f));
}

TEST_F(ev, madv_dontfork_then_fork_importer_keeps_parent_pages)
{
	advised_fork(_metadata, self, MADV_DONTFORK);
}

TEST_F(ev, madv_wipeonfork_then_fork_importer_keeps_parent_pages)
{
	advised_fork(_metadata, self, MADV_WIPEONFORK);
}

/* ---------------------------------------------------------- huge pages */

/* A 2 MiB THP source attached by the importer; skip if no THP. */
#define THP_SOURCE(p) do {						\
	char __why[128];						\
									\
	p = xt_thp_region(XT_HPAGE, 1, __why, sizeof(__why));		\
	if (!p)								\
		SKIP(return, "%s", __why);				\
	ev_attach(_metadata, self, p, XT_HPAGE);			\
	ASSERT_EQ(0, imp_check(&self->c, 0, XT_HPAGE, 1));		\
} while (0)

/*
 * A 4 KiB munmap in the middle of the exporter's THP splits it: the
 * importer gets SIGBUS in the hole (which it had mapped) and stays coherent
 * on both sides of it.
 */
TEST_F(ev, thp_split_by_partial_munmap_hole_sigbus_rest_coherent)
{
	size_t hole = XT_HPAGE / 2, after = hole + self->pg;
	char *p;

	THP_SOURCE(p);
	ASSERT_EQ(0, munmap(p + hole, self->pg));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, hole));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, after - 1));
	ASSERT_EQ(0, imp_check(&self->c, 0, hole, 1));
	ASSERT_EQ(0, imp_check(&self->c, after, XT_HPAGE - after, 1));
	xt_fill(p, hole, 2);
	xt_fill_at(p + after, XT_HPAGE - after, 2, after);
	ASSERT_EQ(0, imp_check(&self->c, 0, hole, 2));
	ASSERT_EQ(0, imp_check(&self->c, after, XT_HPAGE - after, 2));
	ASSERT_EQ(0, imp_fill(&self->c, 0, hole, 3));
	ASSERT_EQ(0, imp_fill(&self->c, after, XT_HPAGE - after, 3));
	ASSERT_TRUE(exp_ok(p, 0, hole, 3));
	ASSERT_TRUE(exp_ok(p, after, XT_HPAGE - after, 3));
}

/*
 * mprotect(PROT_READ) of one 4 KiB page of the exporter's THP splits its
 * mapping: importer writes there raise SIGSEGV (it had it mapped writable),
 * elsewhere they land; made writable again, writes there land too.
 */
TEST_F(ev, thp_split_by_partial_mprotect_write_sigsegv_there_only)
{
	size_t ro = XT_HPAGE / 2, last = XT_HPAGE - 1;
	char *p;

	THP_SOURCE(p);
	ASSERT_EQ(0, mprotect(p + ro, self->pg, PROT_READ));
	ASSERT_EQ(SIGSEGV, imp_poke(&self->c, ro, 0x5a));
	ASSERT_EQ(SIGSEGV, imp_poke(&self->c, ro + self->pg - 1, 0x5a));
	ASSERT_EQ(xt_pat(1, ro), imp_peek(&self->c, ro));
	ASSERT_EQ(0, imp_poke(&self->c, 0, 0x5b));
	ASSERT_EQ(0, imp_poke(&self->c, last, 0x5c));
	ASSERT_EQ(0x5b, p[0]);
	ASSERT_EQ(0x5c, p[last]);
	ASSERT_TRUE(exp_ok(p, ro, self->pg, 1));
	ASSERT_EQ(0, mprotect(p + ro, self->pg, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, imp_fill(&self->c, 0, XT_HPAGE, 4));
	ASSERT_TRUE(exp_ok(p, 0, XT_HPAGE, 4));
}

#define KHUGEPAGED "/sys/kernel/mm/transparent_hugepage/khugepaged/"

static long sys_get(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int sys_set(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", v) > 0 ? 0 : -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

static long anon_huge_kb(const void *p)
{
	char buf[64];

	if (xt_smaps_field(p, "AnonHugePages", buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

/*
 * khugepaged (not MADV_COLLAPSE, which 6.1 lacks) collapses the exporter's
 * small pages, which the importer had mapped writable, into a new huge
 * page and frees them: the importer follows to the huge page, both ways.
 */
TEST_F_TIMEOUT(ev, thp_khugepaged_collapse_importer_follows, 90)
{
	long sleep_ms, alloc_ms, to_scan, scans;
	char *raw, *p;
	uint64_t end;

	sleep_ms = sys_get(KHUGEPAGED "scan_sleep_millisecs");
	alloc_ms = sys_get(KHUGEPAGED "alloc_sleep_millisecs");
	to_scan = sys_get(KHUGEPAGED "pages_to_scan");
	if (sleep_ms < 0 || to_scan < 0)
		SKIP(return, "no khugepaged in this kernel (" KHUGEPAGED ")");
	raw = xt_map(2 * XT_HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, -1,
		     0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + XT_HPAGE - 1) & ~(XT_HPAGE - 1));
	ASSERT_EQ(0, madvise(p, XT_HPAGE, MADV_NOHUGEPAGE));
	xt_fill(p, XT_HPAGE, 1);
	ASSERT_EQ(0, anon_huge_kb(p));
	ev_attach(_metadata, self, p, XT_HPAGE);
	ASSERT_EQ(0, imp_fill(&self->c, 0, XT_HPAGE, 2));
	ASSERT_EQ(0, madvise(p, XT_HPAGE, MADV_HUGEPAGE));
	ASSERT_EQ(0, sys_set(KHUGEPAGED "pages_to_scan", 4096));
	sys_set(KHUGEPAGED "alloc_sleep_millisecs", 0);
	ASSERT_EQ(0, sys_set(KHUGEPAGED "scan_sleep_millisecs", 0));
	/* Poll the scan counter: no fixed sleep decides anything. */
	scans = sys_get(KHUGEPAGED "full_scans");
	end = now_ms() + 45000;
	while (anon_huge_kb(p) < (long)(XT_HPAGE >> 10) &&
	       sys_get(KHUGEPAGED "full_scans") < scans + 10 && now_ms() < end)
		usleep(1000);
	sys_set(KHUGEPAGED "scan_sleep_millisecs", sleep_ms);
	sys_set(KHUGEPAGED "alloc_sleep_millisecs", alloc_ms);
	sys_set(KHUGEPAGED "pages_to_scan", to_scan);
	ASSERT_EQ((long)(XT_HPAGE >> 10), anon_huge_kb(p)) {
		TH_LOG("khugepaged did not collapse the range in %ld full "
		       "scans", sys_get(KHUGEPAGED "full_scans") - scans);
	}
	ASSERT_TRUE(exp_ok(p, 0, XT_HPAGE, 2));
	xt_fill(p, XT_HPAGE, 3);
	ASSERT_EQ(0, imp_check(&self->c, 0, XT_HPAGE, 3));
	ASSERT_EQ(0, imp_fill(&self->c, 0, XT_HPAGE, 4));
	ASSERT_TRUE(exp_ok(p, 0, XT_HPAGE, 4));
}

/* Make sure @n more 2 MiB hugetlb pages are free (we are root). */
static void hugetlb_reserve(long n)
{
	long total = 0, free_pages = 0;
	FILE *f;

	f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
		  "r");
	if (f) {
		if (fscanf(f, "%ld", &free_pages) != 1)
			free_pages = 0;
		fclose(f);
	}
	if (free_pages >= n)
		return;
	f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	if (!f)
		return;
	if (fscanf(f, "%ld", &total) == 1) {
		rewind(f);
		fprintf(f, "%ld\n", total + n - free_pages);
	}
	fclose(f);
}

/*
 * The exporter unmaps its hugetlb range and moves a new huge page (mapped
 * elsewhere while the old one still existed, so another frame) to the same
 * address: the importer sees and writes the new page.
 */
TEST_F(ev, hugetlb_munmap_and_remap_same_va_importer_follows)
{
	uint64_t old_pfn;
	char why[128], *p, *q;

	hugetlb_reserve(2);
	p = xt_hugetlb_region(XT_HPAGE, 1, why, sizeof(why));
	if (!p)
		SKIP(return, "%s", why);
	ev_attach(_metadata, self, p, XT_HPAGE);
	ASSERT_EQ(0, imp_check(&self->c, 0, XT_HPAGE, 1));
	old_pfn = xt_pfn_of(p);
	ASSERT_NE(0, old_pfn);
	q = xt_map(XT_HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_HUGETLB, -1, 2);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, munmap(p, XT_HPAGE));
	ASSERT_EQ(p, mremap(q, XT_HPAGE, XT_HPAGE,
			    MREMAP_MAYMOVE | MREMAP_FIXED, p));
	ASSERT_NE(old_pfn, xt_pfn_of(p));
	ASSERT_EQ(0, imp_check(&self->c, 0, XT_HPAGE, 2));
	ASSERT_EQ(0, imp_fill(&self->c, 0, XT_HPAGE, 3));
	ASSERT_TRUE(exp_ok(p, 0, XT_HPAGE, 3));
}

/* ----------------------------------------------------------- migration */

static int numa_nodes(void)
{
	char path[64];
	int n;

	for (n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
			 n);
		if (access(path, F_OK))
			break;
	}
	return n;
}

/*
 * After the exporter's pages moved to new frames (@p's PFNs differ from
 * @old), the importer sees the exporter's data, both ways.
 */
static void check_moved(struct __test_metadata *_metadata,
			FIXTURE_DATA(ev) *self, char *p, const uint64_t *old)
{
	size_t i;

	for (i = 0; i < NPAGES; i++)
		ASSERT_NE(old[i], xt_pfn_of(p + i * self->pg));
	ASSERT_TRUE(exp_ok(p, 0, self->len, 2));
	xt_fill(p, self->len, 3);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 3));
	ASSERT_EQ(0, imp_fill(&self->c, 0, self->len, 4));
	ASSERT_TRUE(exp_ok(p, 0, self->len, 4));
}

/*
 * move_pages(2) migrates the exporter's pages to another NUMA node: the
 * importer, which had them mapped writable, follows to the new frames.
 * Needs two nodes: run_guest.sh --append numa=fake=2 (the kernel's NUMA
 * emulation) gives them.
 */
TEST_F(ev, move_pages_to_other_node_importer_follows)
{
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES];
	uint64_t old[NPAGES];
	char *p;
	size_t i;

	if (numa_nodes() < 2)
		SKIP(return, "one NUMA node: nowhere to migrate to (boot the "
		     "guest with numa=fake=2)");
	p = xt_region(NPAGES, 1);
	ASSERT_NE(MAP_FAILED, p);
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_fill(&self->c, 0, self->len, 2));
	for (i = 0; i < NPAGES; i++) {
		pages[i] = p + i * self->pg;
		old[i] = xt_pfn_of(pages[i]);
	}
	ASSERT_EQ(0, syscall(SYS_move_pages, 0, NPAGES, pages, NULL, status,
			     0));
	for (i = 0; i < NPAGES; i++) {
		ASSERT_LE(0, status[i]);
		nodes[i] = !status[i];
	}
	ASSERT_EQ(0, syscall(SYS_move_pages, 0, NPAGES, pages, nodes, status,
			     MPOL_MF_MOVE));
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(nodes[i], status[i]);
	check_moved(_metadata, self, p, old);
}

/*
 * MADV_SOFT_OFFLINE migrates each exporter page to a new frame (and takes
 * the old one out of use): migration on a single-node machine. The
 * importer, which had the pages mapped writable, follows.
 */
TEST_F(ev, soft_offline_migration_importer_follows)
{
	uint64_t old[NPAGES];
	char *p;
	size_t i;

	p = xt_region(NPAGES, 1);
	ASSERT_NE(MAP_FAILED, p);
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_fill(&self->c, 0, self->len, 2));
	for (i = 0; i < NPAGES; i++)
		old[i] = xt_pfn_of(p + i * self->pg);
	if (madvise(p, self->len, MADV_SOFT_OFFLINE)) {
		/* EINVAL: CONFIG_MEMORY_FAILURE is off; EPERM: not root */
		ASSERT_TRUE(errno == EINVAL || errno == EPERM);
		SKIP(return, "MADV_SOFT_OFFLINE: %s", strerror(errno));
	}
	check_moved(_metadata, self, p, old);
}

/* ----------------------------------------------------------------- KSM */

#define KSM "/sys/kernel/mm/ksm/"

static long ksm_get(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), KSM "%s", name);
	return sys_get(path);
}

static int ksm_set(const char *name, long v)
{
	char path[128];

	snprintf(path, sizeof(path), KSM "%s", name);
	return sys_set(path, v);
}

/*
 * Pages 0 and 1 of @p hold the same bytes; make them mergeable, run ksmd
 * until they share one frame. Return: 0, or -1 if they did not merge
 * within 10 full scans (or 45 s); the reason is in @why.
 */
static int ksm_merge(char *p, size_t len, char *why, size_t wlen)
{
	long scans;
	uint64_t end;

	if (madvise(p, len, MADV_MERGEABLE)) {
		snprintf(why, wlen, "MADV_MERGEABLE: %s", strerror(errno));
		return -1;
	}
	if (ksm_set("pages_to_scan", 10000) || ksm_set("sleep_millisecs", 0) ||
	    ksm_set("run", 1)) {
		snprintf(why, wlen, "cannot start ksmd through " KSM);
		return -1;
	}
	scans = ksm_get("full_scans");
	end = now_ms() + 45000;
	/* Poll the scan counter: no fixed sleep decides anything. */
	while (ksm_get("full_scans") < scans + 10 && now_ms() < end) {
		if (xt_pfn_of(p) && xt_pfn_of(p) == xt_pfn_of(p + xt_pg()))
			return 0;
		usleep(1000);
	}
	if (xt_pfn_of(p) && xt_pfn_of(p) == xt_pfn_of(p + xt_pg()))
		return 0;
	snprintf(why, wlen, "ksmd did not merge two identical pages in %ld "
		 "full scans", ksm_get("full_scans") - scans);
	return -1;
}

static void ksm_stop(void)
{
	ksm_set("run", 0);
	ksm_set("sleep_millisecs", 20);
	ksm_set("pages_to_scan", 100);
}

/* Pages 0 and 1 of a new 4-page region: the same bytes, pattern @seed. */
static char *twin_pages(unsigned int seed)
{
	size_t pg = xt_pg();
	char *p = xt_region(4, 0);

	if (p == MAP_FAILED)
		return p;
	xt_fill(p, pg, seed);
	xt_fill(p + pg, pg, seed);
	xt_fill_at(p + 2 * pg, 2 * pg, seed + 1, 2 * pg);
	return p;
}

/*
 * KSM merges two identical exporter pages (the importer had the first
 * mapped writable); an importer write to the first then lands in the
 * exporter's first page (COW broken away from the KSM page) and the second
 * page, which shares the old frame, does not change.
 */
TEST_F_TIMEOUT(ev, ksm_merge_then_importer_write_lands_in_exporter_page_only, 90)
{
	size_t pg = self->pg;
	char why[128], *p;
	int ret;

	if (ksm_get("run") < 0)
		SKIP(return, "no KSM in this kernel (" KSM " is missing)");
	p = twin_pages(1);
	ASSERT_NE(MAP_FAILED, p);
	ev_attach(_metadata, self, p, 4 * pg);
	/* same byte: the importer maps the first page writable */
	ASSERT_EQ(0, imp_poke(&self->c, 0, xt_pat(1, 0)));
	ASSERT_EQ(xt_pat(2, 2 * pg), imp_peek(&self->c, 2 * pg));
	ret = ksm_merge(p, 4 * pg, why, sizeof(why));
	ksm_stop();
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	ASSERT_EQ(0, imp_poke(&self->c, 1, 0x77));
	ASSERT_EQ(0x77, p[1]);
	p[1] = (char)xt_pat(1, 1);
	ASSERT_EQ(-1, xt_bad(p, pg, 1));
	ASSERT_EQ(-1, xt_bad(p + pg, pg, 1));
	ASSERT_NE(xt_pfn_of(p), xt_pfn_of(p + pg));
	ASSERT_EQ(0, imp(&self->c, IMP_CHECK, pg, pg, 1, 0));
	ASSERT_EQ(0, imp(&self->c, IMP_FILL, 0, 2 * pg, 5, 0));
	ASSERT_TRUE(exp_ok(p, 0, 2 * pg, 5));
	ASSERT_TRUE(exp_ok(p, 2 * pg, 2 * pg, 2));
}

/*
 * KSM merges two identical exporter pages, the importer reads the merged
 * frame, then MADV_UNMERGEABLE gives the exporter private copies again: the
 * exporter's next writes (to its own pages, no fault) reach the importer.
 */
TEST_F_TIMEOUT(ev, ksm_unmerge_importer_sees_exporter_private_copy, 90)
{
	size_t pg = self->pg;
	char why[128], *p;
	int ret;

	if (ksm_get("run") < 0)
		SKIP(return, "no KSM in this kernel (" KSM " is missing)");
	p = twin_pages(1);
	ASSERT_NE(MAP_FAILED, p);
	ev_attach(_metadata, self, p, 4 * pg);
	ret = ksm_merge(p, 4 * pg, why, sizeof(why));
	ksm_stop();
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	ASSERT_EQ(0, imp(&self->c, IMP_CHECK, 0, pg, 1, 0));
	ASSERT_EQ(0, imp(&self->c, IMP_CHECK, pg, pg, 1, 0));
	ASSERT_EQ(0, madvise(p, 4 * pg, MADV_UNMERGEABLE));
	ASSERT_NE(xt_pfn_of(p), xt_pfn_of(p + pg));
	xt_fill(p, 2 * pg, 6);
	ASSERT_EQ(0, imp_check(&self->c, 0, 2 * pg, 6));
	ASSERT_EQ(0, imp_fill(&self->c, 0, 2 * pg, 7));
	ASSERT_TRUE(exp_ok(p, 0, 2 * pg, 7));
}

/* -------------------------------------------- writes by a third process */

enum { SRC_PRIVATE_FILE, SRC_FORK_SHARED };

/* Fork child that shares the exporter's pages and keeps pattern 1. */
static int sharer_child(struct xt_proc *parent, void *arg)
{
	uintptr_t *a = arg;

	XT_CHECK(xt_send(parent, 1) == 0);
	XT_CHECK(xt_expect(parent, 2) == 0);
	XT_CHECK_EQ(-1, xt_bad((char *)a[0], a[1], 1));
	return 0;
}

/*
 * Another process writes the exporter's memory while the exporter sleeps
 * (@how: process_vm_writev or /proc/PID/mem), on a page the exporter
 * never wrote of a MAP_PRIVATE file, or on a page it shares with a fork
 * child: its COW break is seen by the importer, which had the old page
 * mapped, and the importer's writes then land in the exporter's new page,
 * never in the file or the child's page.
 */
static void third_party_write(struct __test_metadata *_metadata,
			      FIXTURE_DATA(ev) *self, int src, int how)
{
	size_t half = self->len / 2;
	struct xt_proc f = { 0 };
	uintptr_t a[2];
	int fd = -1;
	char *p;

	/* the writer is forked before the source exists */
	ASSERT_EQ(0, xt_child(&self->w, importer_main, NULL));
	if (src == SRC_PRIVATE_FILE) {
		fd = shmem_source(self, &p);
		ASSERT_LE(0, fd);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, munmap(p, self->len));
		p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 fd, 0);
		ASSERT_NE(MAP_FAILED, p);
	} else {
		p = xt_region(NPAGES, 1);
		ASSERT_NE(MAP_FAILED, p);
		a[0] = (uintptr_t)p;
		a[1] = self->len;
		ASSERT_EQ(0, xt_child(&f, sharer_child, a));
		ASSERT_EQ(0, xt_expect(&f, 1));
	}
	ev_attach(_metadata, self, p, self->len);
	ASSERT_EQ(0, imp_check(&self->c, 0, self->len, 1));
	ASSERT_EQ(0, imp(&self->w, how, (uintptr_t)p, half, 2, 0));
	ASSERT_TRUE(exp_ok(p, 0, half, 2));
	ASSERT_EQ(0, imp_check(&self->c, 0, half, 2));
	ASSERT_EQ(0, imp_check(&self->c, half, half, 1));
	ASSERT_EQ(0, imp_fill(&self->c, 0, self->len, 3));
	ASSERT_TRUE(exp_ok(p, 0, self->len, 3));
	if (fd >= 0) {
		ASSERT_EQ(-1, xt_file_bad(fd, self->len, 1));
		close(fd);
	} else {
		ASSERT_EQ(0, xt_send(&f, 2));
		ASSERT_EQ(0, xt_wait(&f));
	}
}

TEST_F(ev, process_vm_writev_private_file_page_seen_by_importer)
{
	third_party_write(_metadata, self, SRC_PRIVATE_FILE, IMP_PVW);
}

TEST_F(ev, process_vm_writev_fork_shared_page_seen_by_importer)
{
	third_party_write(_metadata, self, SRC_FORK_SHARED, IMP_PVW);
}

TEST_F(ev, proc_pid_mem_write_private_file_page_seen_by_importer)
{
	third_party_write(_metadata, self, SRC_PRIVATE_FILE, IMP_PMEM);
}

TEST_F(ev, proc_pid_mem_write_fork_shared_page_seen_by_importer)
{
	third_party_write(_metadata, self, SRC_FORK_SHARED, IMP_PMEM);
}

/* ----------------------------------------------------- exporter death */

/* Exporter whose pages 2 and 3 are userfaultfd-missing, never resolved. */
static void *uffd_toucher(void *p)
{
	return (void *)(uintptr_t)*(volatile char *)p;
}

static int uffd_exporter(struct xt_proc *parent, void *arg)
{
	size_t pg = xt_pg();
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct pollfd pfd;
	xpmem_segid_t segid;
	pthread_t t;
	char *p;
	int uffd;

	(void)arg;
	p = xt_region(4, 0);
	XT_CHECK(p != MAP_FAILED);
	xt_fill(p, 2 * pg, 1);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	XT_CHECK(uffd >= 0);
	XT_CHECK_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	reg.range.start = (uintptr_t)p;
	reg.range.len = 4 * pg;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	XT_CHECK_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	segid = xpmem_make(p, 4 * pg, XPMEM_PERMIT_MODE, XT_MODE(0600));
	XT_CHECK(segid > 0);
	/* a thread of ours blocks in the fault; the uffd then has an event */
	XT_CHECK_EQ(0, pthread_create(&t, NULL, uffd_toucher, p + 3 * pg));
	pfd.fd = uffd;
	pfd.events = POLLIN;
	XT_CHECK_EQ(1, poll(&pfd, 1, XT_TIMEOUT_MS));
	XT_CHECK(xt_send(parent, (uint64_t)segid) == 0);
	for (;;)
		pause();	/* until SIGKILL */
}

/*
 * The exporter's range is registered with userfaultfd and one of its own
 * threads is blocked on a missing page that nobody resolves. The importer
 * gets SIGBUS there at once (the kernel cannot wait for userfaultfd on
 * another process's behalf) and data elsewhere; the exporter is then
 * SIGKILLed, blocked thread and all: every importer access is SIGBUS.
 */
TEST_F(ev, uffd_source_exporter_killed_importer_gets_sigbus_no_hang)
{
	size_t pg = self->pg;
	struct xt_proc e;
	uint64_t segid;

	ASSERT_EQ(0, xt_child(&e, uffd_exporter, NULL));
	ASSERT_EQ(0, xt_recv(&e, &segid));
	ASSERT_EQ(0, imp(&self->c, IMP_ATTACH, 0, 4 * pg, XPMEM_RDWR, segid));
	ASSERT_EQ(0, imp_check(&self->c, 0, 2 * pg, 1));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, 2 * pg));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, 3 * pg));
	ASSERT_EQ(0, imp_check(&self->c, 0, 2 * pg, 1));
	kill(e.pid, SIGKILL);
	ASSERT_EQ(XT_SIG(SIGKILL), xt_wait(&e));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, 0));
	ASSERT_EQ(IMP_SIG(SIGBUS), imp_peek(&self->c, pg));
	ASSERT_EQ(SIGBUS, imp_poke(&self->c, 0, 1));
}

/* Exporter that drops and rewrites its pages forever: constant faults. */
static int churn_exporter(struct xt_proc *parent, void *arg)
{
	size_t len = NPAGES * xt_pg();
	xpmem_segid_t segid;
	unsigned int n;
	char *p;

	(void)arg;
	p = xt_region(NPAGES, 1);
	XT_CHECK(p != MAP_FAILED);
	segid = xpmem_make(p, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	XT_CHECK(segid > 0);
	XT_CHECK(xt_send(parent, (uint64_t)segid) == 0);
	for (n = 0;; n++) {
		madvise(p, len, MADV_DONTNEED);
		memset(p, (int)(n & 0xff) | 1, len);
	}
}

/*
 * The exporter is SIGKILLed while its pages are dropped and rewritten in a
 * loop and the importer faults on them in a loop: the importer ends with
 * SIGBUS promptly instead of hanging or reading freed pages.
 */
TEST_F(ev, exporter_killed_during_importer_faults_importer_gets_sigbus)
{
	struct xt_proc e;
	uint64_t segid, res;

	ASSERT_EQ(0, xt_child(&e, churn_exporter, NULL));
	ASSERT_EQ(0, xt_recv(&e, &segid));
	ASSERT_EQ(0, imp(&self->c, IMP_ATTACH, 0, self->len, XPMEM_RDWR,
			 segid));
	ASSERT_EQ(0, imp(&self->c, IMP_STORM, 0, self->len, 0, 0));
	kill(e.pid, SIGKILL);
	ASSERT_EQ(XT_SIG(SIGKILL), xt_wait(&e));
	ASSERT_EQ(0, xt_recv(&self->c, &res));
	ASSERT_EQ(SIGBUS, res);
}

/* ------------------------------------------------------ racing faults */

#define FAULT_PAGES "/sys/module/xpmem/parameters/fault_pages"

/*
 * The exporter drops its pages (MADV_DONTNEED, 32 at a time) and writes
 * new ones, round after round, while an importer thread reads them all in
 * a loop: each of its faults looks up a whole page table's worth (2 MiB:
 * fault_pages is raised to 512 for the test) while the exporter frees some
 * of them. After each round the importer sees every page's new value. A
 * fault that installed what it looked up before a racing invalidation (no
 * sequence check) would leave a freed page mapped.
 */
TEST_F_TIMEOUT(ev, racing_faults_and_dontneed_leave_no_stale_page, 180)
{
	enum { PAGES = 512, BLOCK = 32, ROUNDS = 40 };
	size_t pg = self->pg, len = PAGES * pg, b, i;
	unsigned int n;
	char *raw, *p;

	raw = xt_map(2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + len - 1) & ~(len - 1));
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	for (i = 0; i < PAGES; i++)
		p[i * pg] = (char)race_val(0, i);
	ev_attach(_metadata, self, p, len);
	self->fault_pages = sys_get(FAULT_PAGES);
	if (self->fault_pages > 0)
		ASSERT_EQ(0, sys_set(FAULT_PAGES, PAGES));
	ASSERT_EQ(0, imp(&self->c, IMP_BYTES, 0, len, 0, 0));
	ASSERT_EQ(0, imp(&self->c, IMP_SPIN, 0, len, 0, 0));
	for (n = 1; n <= ROUNDS; n++) {
		for (b = 0; b < PAGES; b += BLOCK) {
			ASSERT_EQ(0, madvise(p + b * pg, BLOCK * pg,
					     MADV_DONTNEED));
			for (i = b; i < b + BLOCK; i++)
				p[i * pg] = (char)race_val(n, i);
		}
		ASSERT_EQ(0, imp(&self->c, IMP_BYTES, 0, len, n, 0)) {
			TH_LOG("round %u: the importer sees a stale page", n);
		}
	}
}

XT_MAIN
