// SPDX-License-Identifier: GPL-2.0
/*
 * sources.c - every kind of memory an exporter can export.
 *
 * One fixture variant per source: heap, stack, anonymous private and
 * shared, SysV shm, files mapped shared and private on tmpfs and on ext4
 * (a loop device over an image in /tmp), transparent huge pages and hugetlb.
 * For each, a separate importer process reads and writes through its
 * attachment, the exporter's pages are paged out and re-read, and the
 * exporter's VMA is split under the attachment. Plus a THP collapse.
 */
#include "xpmem_test.h"

#include <alloca.h>
#include <sys/shm.h>

#define NPAGES 16

enum src_kind {
	SRC_HEAP,
	SRC_STACK,
	SRC_ANON_PRIVATE,
	SRC_ANON_SHARED,
	SRC_SYSV_SHM,
	SRC_TMPFS_SHARED,
	SRC_TMPFS_PRIVATE,
	SRC_EXT4_SHARED,
	SRC_EXT4_PRIVATE,
	SRC_THP,
	SRC_HUGETLB,
};

FIXTURE(src) {
	size_t pg, len;
	size_t unit;		/* granularity of mprotect on the source */
	char *buf;
	int fd;			/* the file of a file source, else -1 */
	int shared_file;	/* file source mapped MAP_SHARED */
	int private_file;	/* file source mapped MAP_PRIVATE */
	int shm;		/* buf is a SysV shm attachment */
	struct xt_mnt mnt;
	char why[160];		/* why the source cannot be made, if it can't */
	struct xt_remote r;
	struct xt_proc c;
};

FIXTURE_VARIANT(src) {
	enum src_kind kind;
};

FIXTURE_VARIANT_ADD(src, heap) { .kind = SRC_HEAP };
FIXTURE_VARIANT_ADD(src, stack) { .kind = SRC_STACK };
FIXTURE_VARIANT_ADD(src, anon_private) { .kind = SRC_ANON_PRIVATE };
FIXTURE_VARIANT_ADD(src, anon_shared) { .kind = SRC_ANON_SHARED };
FIXTURE_VARIANT_ADD(src, sysv_shm) { .kind = SRC_SYSV_SHM };
FIXTURE_VARIANT_ADD(src, tmpfs_shared) { .kind = SRC_TMPFS_SHARED };
FIXTURE_VARIANT_ADD(src, tmpfs_private) { .kind = SRC_TMPFS_PRIVATE };
FIXTURE_VARIANT_ADD(src, ext4_shared) { .kind = SRC_EXT4_SHARED };
FIXTURE_VARIANT_ADD(src, ext4_private) { .kind = SRC_EXT4_PRIVATE };
FIXTURE_VARIANT_ADD(src, thp) { .kind = SRC_THP };
FIXTURE_VARIANT_ADD(src, hugetlb) { .kind = SRC_HUGETLB };

/* Map a file of pattern 1 in @dir, shared or private; "" on success. */
static void file_source(FIXTURE_DATA(src) *self, const char *dir, int shared)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/xt-src-%d", dir, (int)getpid());
	self->fd = xt_pattern_file(path, self->len, 1);
	if (self->fd < 0) {
		snprintf(self->why, sizeof(self->why), "cannot create %s: %s",
			 path, strerror(errno));
		return;
	}
	unlink(path);
	self->buf = xt_map(self->len, PROT_READ | PROT_WRITE,
			   shared ? MAP_SHARED : MAP_PRIVATE, self->fd, 0);
	if (self->buf == MAP_FAILED) {
		snprintf(self->why, sizeof(self->why), "mmap %s: %s", path,
			 strerror(errno));
		self->buf = NULL;
		return;
	}
	self->shared_file = shared;
	self->private_file = !shared;
}

/* A SysV shm segment of pattern 1, marked for removal once detached. */
static void shm_source(FIXTURE_DATA(src) *self)
{
	int id = shmget(IPC_PRIVATE, self->len, IPC_CREAT | 0600);
	void *p;

	if (id < 0) {
		snprintf(self->why, sizeof(self->why), "shmget: %s",
			 strerror(errno));
		return;
	}
	p = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	if (p == (void *)-1) {
		snprintf(self->why, sizeof(self->why), "shmat: %s",
			 strerror(errno));
		return;
	}
	self->buf = p;
	self->shm = 1;
	xt_fill(self->buf, self->len, 1);
}

/* Everything but the stack source, which lives in the test's own frame. */
FIXTURE_SETUP(src)
{
	void *p;

	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	self->unit = self->pg;
	self->fd = -1;
	switch (variant->kind) {
	case SRC_HEAP:
		if (posix_memalign(&p, self->pg, self->len) == 0) {
			self->buf = p;
			xt_fill(self->buf, self->len, 1);
		} else {
			snprintf(self->why, sizeof(self->why), "no heap");
		}
		break;
	case SRC_STACK:
		break;
	case SRC_ANON_PRIVATE:
		self->buf = xt_region(NPAGES, 1);
		break;
	case SRC_ANON_SHARED:
		self->buf = xt_map(self->len, PROT_READ | PROT_WRITE,
				   MAP_SHARED, -1, 1);
		break;
	case SRC_SYSV_SHM:
		shm_source(self);
		break;
	case SRC_TMPFS_SHARED:
	case SRC_TMPFS_PRIVATE:
		file_source(self, "/dev/shm",
			    variant->kind == SRC_TMPFS_SHARED);
		break;
	case SRC_EXT4_SHARED:
	case SRC_EXT4_PRIVATE:
		if (xt_ext4_mount(&self->mnt, self->why, sizeof(self->why)))
			break;
		file_source(self, self->mnt.dir,
			    variant->kind == SRC_EXT4_SHARED);
		break;
	case SRC_THP:
		self->len = 2 * XT_HPAGE;
		self->buf = xt_thp_region(self->len, 1, self->why,
					  sizeof(self->why));
		break;
	case SRC_HUGETLB:
		self->len = 2 * XT_HPAGE;
		self->unit = XT_HPAGE;
		self->buf = xt_hugetlb_region(self->len, 1, self->why,
					      sizeof(self->why));
		break;
	}
	if (self->buf == MAP_FAILED) {
		snprintf(self->why, sizeof(self->why), "mmap: %s",
			 strerror(errno));
		self->buf = NULL;
	}
}

FIXTURE_TEARDOWN(src)
{
	if (self->c.pid > 0)
		EXPECT_EQ(0, xt_remote_quit(&self->c));
	if (self->shm && self->buf)
		shmdt(self->buf);
	else if (self->fd >= 0 && self->buf)
		munmap(self->buf, self->len);
	if (self->fd >= 0)
		close(self->fd);
	xt_ext4_umount(&self->mnt);
}

/*
 * Start of every test: make the stack source in the caller's frame, skip
 * if the source could not be made, export it and start an importer.
 */
#define SRC_BEGIN() do {						\
	if (variant->kind == SRC_STACK)					\
		self->buf = stack_source(self,				\
					 alloca(self->len + self->pg));	\
	if (!self->buf)							\
		SKIP(return, "%s", self->why);				\
	src_start(_metadata, self, variant->kind);			\
} while (0)

static char *stack_source(FIXTURE_DATA(src) *self, void *area)
{
	char *p = (char *)(((uintptr_t)area + self->pg - 1) &
			   ~(uintptr_t)(self->pg - 1));

	xt_fill(p, self->len, 1);
	return p;
}

/*
 * Export the source and start the importer. The importer is a fork child:
 * keep the source out of it (MADV_DONTFORK) or, for heap and stack, write
 * it again afterwards, so that the exporter's pages are its own and not
 * copy-on-write shared with the importer (fork.c tests that case).
 */
static void src_start(struct __test_metadata *_metadata,
		      FIXTURE_DATA(src) *self, enum src_kind kind)
{
	int own_frame = kind == SRC_HEAP || kind == SRC_STACK;

	self->r.segid = xpmem_make(self->buf, self->len, XPMEM_PERMIT_MODE,
				   XT_MODE(0600));
	ASSERT_LT(0, self->r.segid);
	self->r.flags = XPMEM_RDWR;
	self->r.len = self->len;
	if (!own_frame)
		ASSERT_EQ(0, madvise(self->buf, self->len, MADV_DONTFORK));
	ASSERT_EQ(0, xt_remote_start(&self->c, &self->r));
	if (own_frame)
		xt_fill(self->buf, self->len, 1);
}

/* Page the source out; log how many of its pages left memory. */
static void page_out(struct __test_metadata *_metadata,
		     FIXTURE_DATA(src) *self)
{
	size_t i, n = self->len / self->pg, out = 0;
	unsigned char *vec = malloc(n);

	if (self->shared_file)
		ASSERT_EQ(0, msync(self->buf, self->len, MS_SYNC));
	madvise(self->buf, self->len, MADV_PAGEOUT);	/* may do nothing */
	if (vec && mincore(self->buf, self->len, vec) == 0) {
		for (i = 0; i < n; i++)
			out += !(vec[i] & 1);
		TH_LOG("%zu of %zu pages paged out", out, n);
	}
	free(vec);
}

/* The file behind a file source holds what it should after writes. */
static long file_bad(FIXTURE_DATA(src) *self, unsigned int shared_seed)
{
	if (self->shared_file)
		return xt_file_bad(self->fd, self->len, shared_seed);
	if (self->private_file)
		return xt_file_bad(self->fd, self->len, 1);
	return -1;
}

/*
 * The importer reads the source, and its writes land in the exporter's
 * memory (in the file for a shared file mapping, never in the file for a
 * private one); the exporter's later writes reach the importer.
 */
TEST_F(src, importer_reads_source_and_writes_back)
{
	SRC_BEGIN();
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 2));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
	ASSERT_EQ(-1, file_bad(self, 2));
	xt_fill(self->buf, self->len, 3);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 3));
	ASSERT_EQ(-1, file_bad(self, 3));
}

/*
 * The exporter's pages are paged out (MADV_PAGEOUT: clean file pages are
 * dropped from the page cache) before and after the importer mapped them;
 * the importer reads them back with their data and keeps writing through.
 */
TEST_F(src, exporter_pageout_then_importer_rereads)
{
	SRC_BEGIN();
	page_out(_metadata, self);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 2));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
	page_out(_metadata, self);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 2));
	xt_fill(self->buf, self->len, 3);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 3));
	ASSERT_EQ(-1, file_bad(self, 3));
}

/*
 * mprotect splits the exporter's VMA (and a THP's page-table mapping)
 * under a live attachment: read-only there for a while, then writable
 * again, with the data intact and coherent all along.
 */
TEST_F(src, exporter_vma_split_keeps_attachment_coherent)
{
	char *mid;

	SRC_BEGIN();
	mid = self->buf + self->unit;
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, mprotect(mid, self->unit, PROT_READ));
	ASSERT_EQ(SIGSEGV, xt_ask(&self->c, XT_OP_WRITE_SIG,
				  self->unit / self->pg, 0));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_WRITE_SIG, 0, xt_pat(1, 0)));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, mprotect(mid, self->unit, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_FILL, 0, 4));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 4));
	xt_fill(self->buf, self->len, 5);
	ASSERT_EQ(0, xt_ask(&self->c, XT_OP_CHECK, 0, 5));
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/*
 * Small pages collapsed into a THP under a live, already faulted
 * attachment (khugepaged's copy to a new huge page): the importer then
 * sees the new page, both ways.
 */
TEST(thp_collapse_under_attachment_stays_coherent)
{
	size_t len = XT_HPAGE;
	struct xt_remote r;
	struct xt_proc c;
	char *raw, *p, buf[64];
	long kb = 0;
	int ret;

	raw = xt_map(2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + len - 1) & ~(len - 1));
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, madvise(p, len, MADV_DONTFORK));
	xt_fill(p, len, 1);
	r.segid = xpmem_make(p, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, r.segid);
	r.flags = XPMEM_RDWR;
	r.len = len;
	ASSERT_EQ(0, xt_remote_start(&c, &r));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	ret = madvise(p, len, MADV_COLLAPSE);
	if (ret && errno == EAGAIN)
		ret = madvise(p, len, MADV_COLLAPSE);
	if (ret) {
		int err = errno;

		xt_remote_quit(&c);
		SKIP(return, "MADV_COLLAPSE: %s", strerror(err));
	}
	if (xt_smaps_field(p, "AnonHugePages", buf, sizeof(buf)) == 0)
		kb = strtol(buf, NULL, 10);
	ASSERT_EQ((long)(len >> 10), kb);
	EXPECT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));
	EXPECT_EQ(0, xt_ask(&c, XT_OP_FILL, 0, 2));
	EXPECT_EQ(-1, xt_bad(p, len, 2));
	xt_fill(p, len, 3);
	EXPECT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 3));
	ASSERT_EQ(0, xt_remote_quit(&c));
}

XT_MAIN
