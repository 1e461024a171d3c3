// SPDX-License-Identifier: GPL-2.0
/*
 * coherence.c - an attachment always shows what the exporter has now.
 *
 * Exporter (the test process) and importer (a remote importer child) see
 * each other's stores and atomics; the importer follows the exporter's
 * virtual addresses through munmap + mmap, mmap over the range, mremap
 * away and back, MADV_DONTNEED, fork + copy-on-write, and swap-out (zram).
 * Ownership rules of the same events (SIGBUS, SIGSEGV) are in lifetime.c
 * and perm.c.
 */
#include "xpmem_test.h"

#define NPAGES 16

/* 16 exported pages of pattern 1 and an importer attached to all of them. */
FIXTURE(coh) {
	size_t pg, len;
	char *buf;
	struct xt_remote r;
	struct xt_proc c;
};

FIXTURE_SETUP(coh)
{
	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	self->buf = xt_region(NPAGES, 1);
	ASSERT_NE(MAP_FAILED, self->buf);
	self->r.segid = xpmem_make(self->buf, self->len, XPMEM_PERMIT_MODE,
				   XT_MODE(0600));
	ASSERT_LT(0, self->r.segid);
	self->r.flags = XPMEM_RDWR;
	self->r.len = self->len;
	ASSERT_EQ(0, xt_remote_start(&self->c, &self->r));
	/*
	 * The importer is a fork child, so the pages are copy-on-write
	 * shared with it now: write them again to make them ours alone.
	 */
	xt_fill(self->buf, self->len, 1);
}

FIXTURE_TEARDOWN(coh)
{
	if (self->c.pid > 0)
		EXPECT_EQ(0, xt_remote_quit(&self->c));
}

/* Stores of each side are seen by the other, round after round. */
TEST_F(coh, exporter_and_importer_writes_seen_both_ways)
{
	unsigned int round;
	size_t i;

	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	for (round = 0; round < 16; round++) {
		xt_fill(self->buf, self->len, 10 + 2 * round);
		ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 10 + 2 * round));
		ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 11 + 2 * round));
		ASSERT_EQ(-1, xt_bad(self->buf, self->len, 11 + 2 * round));
	}
	/* page by page, alternating writers */
	for (i = 0; i < NPAGES; i++) {
		if (i & 1) {
			ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL_PAGE, i, 50));
		} else {
			xt_fill_at(self->buf + i * self->pg, self->pg, 50,
				   i * self->pg);
		}
	}
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 50));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 50));
}

/* Atomic increments from exporter and importer on one word all count. */
TEST_F(coh, atomic_increments_from_both_sides_add_up)
{
	enum { N = 200000 };
	uint64_t *word = (uint64_t *)(void *)self->buf, res = 1;
	int i;

	*word = 0;
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK_PAGE, 1, 1));
	ASSERT_EQ(0, xt_ask_async(&self->c, XT_OP_ADD, 0, N));
	for (i = 0; i < N; i++)
		__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, xt_recv(&self->c, &res));
	ASSERT_EQ(0, res);
	ASSERT_EQ(2 * N, __atomic_load_n(word, __ATOMIC_SEQ_CST));
}

/*
 * The exporter unmaps its range and maps new memory at the same address:
 * the existing attachment shows the new memory, both ways.
 */
TEST_F(coh, exporter_munmap_mmap_same_va_seen_through_attachment)
{
	char *p;

	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, munmap(self->buf, self->len));
	p = mmap(self->buf, self->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(self->buf, p);
	xt_fill(self->buf, self->len, 2);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 2));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 3));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 3));
}

/* A shared file mapped over the range (MAP_FIXED) is what the importer sees. */
TEST_F(coh, exporter_mmap_file_over_range_seen_through_attachment)
{
	char path[64], *p;
	int fd;

	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	snprintf(path, sizeof(path), "/dev/shm/xt-coh-%d", (int)getpid());
	fd = xt_pattern_file(path, self->len, 4);
	ASSERT_LE(0, fd);
	unlink(path);
	p = mmap(self->buf, self->len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(self->buf, p);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 4));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 5));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 5));
	ASSERT_EQ(-1, xt_file_bad(fd, self->len, 5));
	close(fd);
}

/*
 * While the exporter's range is unmapped the importer gets SIGBUS (a hole,
 * also for pages it had mapped); mapped again, it sees the new memory.
 */
TEST_F(coh, exporter_munmap_makes_hole_until_remapped)
{
	size_t i;
	char *p;

	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, munmap(self->buf + 4 * self->pg, 8 * self->pg));
	for (i = 0; i < NPAGES; i++) {
		int want = i >= 4 && i < 12 ? SIGBUS : 0;

		ASSERT_EQ(want, xt_ask(&self->c, XT_OP_READ_SIG, i, 0));
		ASSERT_EQ(want, xt_ask(&self->c, XT_OP_WRITE_SIG, i,
				       xt_pat(1, i * self->pg)));
	}
	p = mmap(self->buf + 4 * self->pg, 8 * self->pg,
		 PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(self->buf + 4 * self->pg, p);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK_PAGE, 3, 1));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK_PAGE, 4, 0));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK_PAGE, 11, 0));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK_PAGE, 12, 1));
	xt_fill(self->buf, self->len, 6);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 6));
}

/* mremap moving the range away leaves a hole; moving it back restores it. */
TEST_F(coh, exporter_mremap_away_and_back_followed_by_va)
{
	char *dst = xt_region(NPAGES, 0), *p;

	ASSERT_NE(MAP_FAILED, dst);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	p = mremap(self->buf, self->len, self->len,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, p);
	ASSERT_EQ(SIGBUS, xt_ask(&self->c, XT_OP_READ_SIG, 0, 0));
	ASSERT_EQ(SIGBUS, xt_ask(&self->c, XT_OP_READ_SIG, NPAGES - 1, 0));
	ASSERT_EQ(-1, xt_bad(dst, self->len, 1));
	p = mremap(dst, self->len, self->len, MREMAP_MAYMOVE | MREMAP_FIXED,
		   self->buf);
	ASSERT_EQ(self->buf, p);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 7));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 7));
}

/*
 * MADV_DONTNEED on part of the exporter's anonymous range: the importer
 * reads zeros there (and old data elsewhere); its writes then land in the
 * exporter's new pages.
 */
TEST_F(coh, exporter_madv_dontneed_importer_sees_zeros_then_writes)
{
	size_t i;

	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, madvise(self->buf + 4 * self->pg, 4 * self->pg,
			     MADV_DONTNEED));
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK_PAGE, i,
				    i >= 4 && i < 8 ? 0 : 1));
	ASSERT_EQ(0, madvise(self->buf, self->len, MADV_DONTNEED));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 0));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 8));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 8));
}

/* Fork child of the exporter: keeps pattern 1 whatever the parent does. */
static int cow_child(struct xt_proc *parent, void *arg)
{
	FIXTURE_DATA(coh) *self = arg;

	XT_CHECK(xt_expect(parent, 1) == 0);
	XT_CHECK_EQ(-1, xt_bad(self->buf, self->len, 1));
	return 0;
}

/*
 * The exporter forks, then writes: the importer sees the parent's new data
 * (the attachment follows the parent's copy-on-write), and the importer's
 * writes go to the parent, never to the child's copy.
 */
TEST_F(coh, exporter_fork_then_write_importer_sees_parent_data)
{
	struct xt_proc f;
	size_t i;

	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_child(&f, cow_child, self));
	xt_fill(self->buf, self->len / 2, 9);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK_PAGE, i,
				    i < NPAGES / 2 ? 9 : 1));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 10));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 10));
	ASSERT_EQ(0, xt_send(&f, 1));
	ASSERT_EQ(0, xt_wait(&f));
}

/* Put @len bytes at @p out to swap; return how many pages left memory. */
static size_t page_out(char *p, size_t len)
{
	size_t i, n = len / xt_pg(), out = 0;
	unsigned char vec[NPAGES];

	if (madvise(p, len, MADV_PAGEOUT) || mincore(p, len, vec))
		return 0;
	for (i = 0; i < n && i < NPAGES; i++)
		out += !(vec[i] & 1);
	return out;
}

/* Swap on a zram device for the duration of one test. */
static int zram_swap_on(char *why, size_t len)
{
	if (geteuid() != 0) {
		snprintf(why, len, "swap on zram needs root");
		return -1;
	}
	if (system("export PATH=\"$PATH:/usr/sbin:/sbin\"; "
		   "modprobe -q zram >/dev/null 2>&1; "
		   "test -e /sys/block/zram0 || exit 1; "
		   "swapoff /dev/zram0 >/dev/null 2>&1; "
		   "echo 1 > /sys/block/zram0/reset && "
		   "echo 64M > /sys/block/zram0/disksize && "
		   "mkswap /dev/zram0 >/dev/null && swapon /dev/zram0") != 0) {
		snprintf(why, len, "cannot set up swap on /dev/zram0");
		return -1;
	}
	return 0;
}

static void zram_swap_off(void)
{
	if (system("export PATH=\"$PATH:/usr/sbin:/sbin\"; "
		   "swapoff /dev/zram0 && echo 1 > /sys/block/zram0/reset"))
		fprintf(stderr, "# swapoff /dev/zram0 failed\n");
}

/*
 * Exporter pages swapped out (MADV_PAGEOUT to zram) are read back through
 * the attachment with their data, and importer writes reach the exporter.
 */
TEST_F(coh, exporter_swapped_out_pages_seen_through_attachment)
{
	char why[128];
	size_t out;

	if (zram_swap_on(why, sizeof(why)))
		SKIP(return, "%s", why);
	/* the importer has attached but not touched anything yet */
	out = page_out(self->buf, self->len);
	TH_LOG("%zu of %d pages swapped out", out, NPAGES);
	if (!out) {
		zram_swap_off();
		SKIP(return, "MADV_PAGEOUT swapped nothing out");
	}
	EXPECT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	EXPECT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 2));
	EXPECT_EQ(-1, xt_bad(self->buf, self->len, 2));
	/* again, now with importer mappings in place */
	out = page_out(self->buf, self->len);
	TH_LOG("%zu of %d pages swapped out the second time", out, NPAGES);
	EXPECT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 2));
	xt_fill(self->buf, self->len, 3);
	EXPECT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 3));
	zram_swap_off();
}

XT_MAIN
