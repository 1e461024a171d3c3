// SPDX-License-Identifier: GPL-2.0
/*
 * attach.c - xpmem_attach and xpmem_detach.
 *
 * Every errno row of attach and detach in docs/semantics.md, placement
 * (kernel-chosen, page aligned; fixed vaddr replacing a mapping; never over
 * another attachment), offsets and size rounding, detach of a whole
 * attachment from any address in it (also after a split), the VMA flags
 * that keep attachments out of core dumps, and concurrent first touch.
 * Most tests attach the caller's own segment, which is allowed.
 */
#include "xpmem_test.h"

#define NPAGES 8

/* An 8-page exported buffer of pattern 1 and an RDWR permit on it. */
FIXTURE(att) {
	size_t pg, len;
	char *buf;
	xpmem_segid_t segid;
	struct xpmem_addr addr;		/* .apid = the permit, .offset = 0 */
};

FIXTURE_SETUP(att)
{
	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	self->segid = xt_export(NPAGES, 1, &self->buf);
	ASSERT_LT(0, self->segid);
	self->addr.apid = xpmem_get(self->segid, XPMEM_RDWR,
				    XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, self->addr.apid);
	self->addr.offset = 0;
}

FIXTURE_TEARDOWN(att)
{
}

/* Attach with @offset and @size (at @vaddr); errno, or 0 and *@out. */
static int attach(FIXTURE_DATA(att) *self, off_t offset, size_t size,
		  void *vaddr, char **out)
{
	struct xpmem_addr addr = { self->addr.apid, offset };
	char *p = xpmem_attach(addr, size, vaddr);

	if (out)
		*out = NULL;
	if (p == (void *)-1)
		return errno;
	if (out)
		*out = p;
	return 0;
}

/* A kernel-chosen attachment is page aligned and shows the segment. */
TEST_F(att, attach_null_vaddr_page_aligned_shows_segment)
{
	char *p;

	ASSERT_EQ(0, attach(self, 0, self->len, NULL, &p));
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, (uintptr_t)p % self->pg);
	ASSERT_EQ(self->len, xt_vma_len(p));
	ASSERT_EQ(-1, xt_bad(p, self->len, 1));
	xt_fill(p, self->len, 2);
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
}

/* Offset k pages: the attachment starts at page k of the segment. */
TEST_F(att, attach_at_offset_starts_at_that_page)
{
	size_t k;
	char *p;

	for (k = 0; k < NPAGES; k++) {
		ASSERT_EQ(0, attach(self, (off_t)(k * self->pg),
				    self->len - k * self->pg, NULL, &p));
		ASSERT_EQ(-1, xt_bad_at(p, self->len - k * self->pg, 1,
					k * self->pg));
	}
}

/* size is rounded up to whole pages: 1 byte maps a page, pg + 1 two. */
TEST_F(att, attach_size_rounded_up_to_whole_pages)
{
	char *p1, *p2;

	ASSERT_EQ(0, attach(self, 0, 1, NULL, &p1));
	ASSERT_EQ(self->pg, xt_vma_len(p1));
	ASSERT_EQ(-1, xt_bad(p1, self->pg, 1));
	ASSERT_EQ(0, attach(self, (off_t)self->pg, self->pg + 1, NULL, &p2));
	ASSERT_EQ(2 * self->pg, xt_vma_len(p2));
	ASSERT_EQ(-1, xt_bad_at(p2, 2 * self->pg, 1, self->pg));
}

/* An attachment may end exactly at the end of the segment. */
TEST_F(att, attach_up_to_segment_end_succeeds)
{
	char *p;

	ASSERT_EQ(0, attach(self, (off_t)(self->len - self->pg), self->pg,
			    NULL, &p));
	ASSERT_EQ(-1, xt_bad_at(p, self->pg, 1, self->len - self->pg));
}

/* A fixed vaddr replaces what was mapped there (MAP_FIXED). */
TEST_F(att, attach_fixed_vaddr_replaces_existing_mapping)
{
	char *place = xt_region(NPAGES, 5), *p;

	ASSERT_NE(MAP_FAILED, place);
	ASSERT_EQ(0, attach(self, 0, self->len, place, &p));
	ASSERT_EQ(place, p);
	ASSERT_EQ(-1, xt_bad(place, self->len, 1));
	place[0] = 0x11;
	ASSERT_EQ(0x11, self->buf[0]);
}

/* A fixed vaddr over part of an existing attachment: EINVAL, both intact. */
TEST_F(att, attach_fixed_vaddr_over_attachment_fails_einval)
{
	char *p, *q;

	ASSERT_EQ(0, attach(self, 0, self->len, NULL, &p));
	ASSERT_EQ(EINVAL, attach(self, 0, self->len, p, &q));
	ASSERT_EQ(EINVAL, attach(self, 0, self->pg, p + 3 * self->pg, &q));
	/* overlapping only the first page, from below */
	ASSERT_EQ(EINVAL, attach(self, 0, 2 * self->pg, p - self->pg, &q));
	ASSERT_EQ(self->len, xt_vma_len(p));
	ASSERT_EQ(-1, xt_bad(p, self->len, 1));
}

/* attach: apid 0 or negative fails with EINVAL. */
TEST_F(att, attach_nonpositive_apid_fails_einval)
{
	struct xpmem_addr addr = { 0, 0 };

	ASSERT_EQ(EINVAL, xt_err((long)xpmem_attach(addr, self->pg, NULL)));
	addr.apid = -1;
	ASSERT_EQ(EINVAL, xt_err((long)xpmem_attach(addr, self->pg, NULL)));
	addr.apid = INT64_MIN;
	ASSERT_EQ(EINVAL, xt_err((long)xpmem_attach(addr, self->pg, NULL)));
}

/* attach: a vaddr that is not page aligned fails with EINVAL. */
TEST_F(att, attach_unaligned_vaddr_fails_einval)
{
	char *place = xt_region(NPAGES + 1, 0);

	ASSERT_NE(MAP_FAILED, place);
	ASSERT_EQ(EINVAL, attach(self, 0, self->pg, place + 1, NULL));
	ASSERT_EQ(EINVAL, attach(self, 0, self->pg, place + self->pg / 2,
				 NULL));
	ASSERT_EQ(EINVAL, attach(self, 0, self->pg, place + self->pg - 8,
				 NULL));
}

/* attach: an offset that is not page aligned fails with EINVAL. */
TEST_F(att, attach_unaligned_offset_fails_einval)
{
	ASSERT_EQ(EINVAL, attach(self, 1, self->pg, NULL, NULL));
	ASSERT_EQ(EINVAL, attach(self, (off_t)self->pg / 2, self->pg, NULL,
				 NULL));
	ASSERT_EQ(EINVAL, attach(self, (off_t)self->pg + 8, self->pg, NULL,
				 NULL));
}

/* attach: a negative offset fails with EINVAL. */
TEST_F(att, attach_negative_offset_fails_einval)
{
	ASSERT_EQ(EINVAL, attach(self, -(off_t)self->pg, self->pg, NULL,
				 NULL));
	ASSERT_EQ(EINVAL, attach(self, INT64_MIN, self->pg, NULL, NULL));
}

/* attach: size 0 fails with EINVAL. */
TEST_F(att, attach_zero_size_fails_einval)
{
	ASSERT_EQ(EINVAL, attach(self, 0, 0, NULL, NULL));
	ASSERT_EQ(EINVAL, attach(self, (off_t)self->pg, 0, NULL, NULL));
}

/* attach: offset + size beyond the segment fails with EINVAL. */
TEST_F(att, attach_past_segment_end_fails_einval)
{
	ASSERT_EQ(EINVAL, attach(self, 0, self->len + 1, NULL, NULL));
	ASSERT_EQ(EINVAL, attach(self, 0, self->len + self->pg, NULL, NULL));
	ASSERT_EQ(EINVAL, attach(self, (off_t)self->pg, self->len, NULL,
				 NULL));
	ASSERT_EQ(EINVAL, attach(self, (off_t)self->len, self->pg, NULL,
				 NULL));
	ASSERT_EQ(EINVAL, attach(self, (off_t)(16 * self->len), self->pg,
				 NULL, NULL));
}

/* attach: offset + size that wraps around 2^64 fails with EINVAL. */
TEST_F(att, attach_offset_plus_size_overflow_fails_einval)
{
	ASSERT_EQ(EINVAL, attach(self, (off_t)self->pg, (size_t)0 - self->pg,
				 NULL, NULL));
	ASSERT_EQ(EINVAL, attach(self, INT64_MAX - (off_t)self->pg + 1,
				 2 * self->pg, NULL, NULL));
	ASSERT_EQ(EINVAL, attach(self, 0, SIZE_MAX, NULL, NULL));
}

/* attach: vaddr + size beyond the top of user space fails with EINVAL. */
TEST_F(att, attach_beyond_user_space_fails_einval)
{
	char *top = (char *)(1UL << 56);	/* above any TASK_SIZE here */

	ASSERT_EQ(EINVAL, attach(self, 0, self->pg, top, NULL));
	ASSERT_EQ(EINVAL, attach(self, 0, 2 * self->pg, top - self->pg,
				 NULL));
	ASSERT_EQ(EINVAL, attach(self, 0, 2 * self->pg,
				 (void *)-self->pg, NULL));
}

/* attach: an apid that never existed fails with ENOENT. */
TEST_F(att, attach_unknown_apid_fails_enoent)
{
	struct xpmem_addr addr = { INT64_MAX, 0 };

	ASSERT_EQ(ENOENT, xt_err((long)xpmem_attach(addr, self->pg, NULL)));
}

/* attach: a released permit fails with ENOENT. */
TEST_F(att, attach_released_apid_fails_enoent)
{
	ASSERT_EQ(0, xpmem_release(self->addr.apid));
	ASSERT_EQ(ENOENT, attach(self, 0, self->pg, NULL, NULL));
}

/* attach: a permit whose segment was removed fails with ENOENT. */
TEST_F(att, attach_removed_segment_fails_enoent)
{
	ASSERT_EQ(0, xpmem_remove(self->segid));
	ASSERT_EQ(ENOENT, attach(self, 0, self->pg, NULL, NULL));
}

/* A failed attach returns (void *)-1 and leaves a fixed vaddr alone. */
TEST_F(att, failed_fixed_attach_leaves_mapping_alone)
{
	char *place = xt_region(NPAGES, 7);

	ASSERT_NE(MAP_FAILED, place);
	ASSERT_EQ(EINVAL, attach(self, 0, self->len + self->pg, place, NULL));
	ASSERT_EQ(EINVAL, attach(self, 1, self->pg, place, NULL));
	ASSERT_EQ(-1, xt_bad(place, self->len, 7));
}

/* Two attachments of one segment are coherent with each other. */
TEST_F(att, two_attachments_of_one_segment_are_coherent)
{
	char *p, *q;

	ASSERT_EQ(0, attach(self, 0, self->len, NULL, &p));
	ASSERT_EQ(0, attach(self, (off_t)self->pg, self->pg, NULL, &q));
	ASSERT_NE(p, q);
	xt_fill(p, self->len, 3);
	ASSERT_EQ(-1, xt_bad_at(q, self->pg, 3, self->pg));
	q[5] = 0x77;
	ASSERT_EQ(0x77, p[self->pg + 5]);
	ASSERT_EQ(0x77, self->buf[self->pg + 5]);
}

/* detach of any address inside an attachment unmaps all of it. */
TEST_F(att, detach_mid_address_unmaps_whole_attachment)
{
	char *p;

	ASSERT_EQ(0, attach(self, 0, self->len, NULL, &p));
	ASSERT_EQ(-1, xt_bad(p, self->len, 1));
	ASSERT_EQ(0, xpmem_detach(p + 3 * self->pg + 17));
	ASSERT_EQ(0, xt_vma_len(p));
	ASSERT_EQ(0, xt_vma_len(p + self->len - 1));
	ASSERT_EQ(SIGSEGV, xt_read_sig(p));
	ASSERT_EQ(SIGSEGV, xt_read_sig(p + self->len - 1));
	/* the permit and the exporter's memory are untouched */
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
	ASSERT_EQ(0, attach(self, 0, self->pg, NULL, &p));
	ASSERT_EQ(-1, xt_bad(p, self->pg, 1));
}

/* detach where nothing is mapped returns 0, also for a detached address. */
TEST_F(att, detach_unmapped_address_returns_0)
{
	char *p, *hole = xt_region(1, 0);

	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, self->pg));
	ASSERT_EQ(0, xpmem_detach(hole));
	ASSERT_EQ(0, attach(self, 0, self->len, NULL, &p));
	ASSERT_EQ(0, xpmem_detach(p));
	ASSERT_EQ(0, xpmem_detach(p));
	ASSERT_EQ(0, xpmem_detach(p + self->pg));
}

/* detach of memory that is not an attachment fails with EINVAL. */
TEST_F(att, detach_non_attachment_fails_einval)
{
	char stack_byte = 0;
	char *heap = malloc(64);

	ASSERT_NE(NULL, heap);
	ASSERT_EQ(EINVAL, xt_err(xpmem_detach(self->buf)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_detach(heap)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_detach(&stack_byte)));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
	free(heap);
}

/* After mprotect splits an attachment, detach unmaps every piece. */
TEST_F(att, detach_after_mprotect_split_unmaps_all_pieces)
{
	char *p;

	ASSERT_EQ(0, attach(self, 0, self->len, NULL, &p));
	ASSERT_EQ(0, mprotect(p + 2 * self->pg, 2 * self->pg, PROT_READ));
	ASSERT_EQ(2 * self->pg, xt_vma_len(p));
	ASSERT_EQ(-1, xt_bad(p, self->len, 1));
	ASSERT_EQ(SIGSEGV, xt_write_sig(p + 2 * self->pg, 0));
	ASSERT_EQ(0, xt_write_sig(p + 4 * self->pg, 0x33));
	ASSERT_EQ(0x33, self->buf[4 * self->pg]);
	ASSERT_EQ(0, xpmem_detach(p + 5 * self->pg));
	ASSERT_EQ(0, xt_vma_len(p));
	ASSERT_EQ(0, xt_vma_len(p + 2 * self->pg));
	ASSERT_EQ(0, xt_vma_len(p + self->len - 1));
}

/* An attachment is marked VM_DONTDUMP ("dd"): never in a core dump. */
TEST_F(att, attachment_is_excluded_from_core_dumps)
{
	char *p;

	ASSERT_EQ(0, attach(self, 0, self->len, NULL, &p));
	ASSERT_EQ(-1, xt_bad(p, self->pg, 1));
	ASSERT_EQ(1, xt_vma_has_flag(p, "dd"));
	ASSERT_EQ(0, xt_vma_has_flag(self->buf, "dd"));
}

struct toucher {
	char *p;
	size_t len;
	int idx, n;
	pthread_barrier_t *go;
	long bad;
};

/*
 * Thread: all threads read the whole attachment at once (first touch of
 * every page races), then each writes its own slice.
 */
static void *touch_thread(void *arg)
{
	struct toucher *t = arg;
	size_t slice = t->len / (size_t)t->n;

	pthread_barrier_wait(t->go);
	t->bad = xt_bad(t->p, t->len, 1);
	pthread_barrier_wait(t->go);
	xt_fill_at(t->p + t->idx * slice, slice, 4, t->idx * slice);
	return NULL;
}

/* Many threads faulting the same attachment at once all see the segment. */
TEST_F(att, concurrent_first_touch_from_many_threads)
{
	enum { NTHREADS = 8, BIG = 512 };
	struct toucher t[NTHREADS];
	pthread_t tid[NTHREADS];
	pthread_barrier_t go;
	size_t len = BIG * self->pg;
	struct xt_att a;
	char *src;
	int i;

	src = xt_region(BIG, 1);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_EQ(0, xt_make_get_attach(src, len, XPMEM_RDWR, &a));
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, NTHREADS));
	for (i = 0; i < NTHREADS; i++) {
		t[i] = (struct toucher){ a.addr, len, i, NTHREADS, &go, 0 };
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, touch_thread, &t[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(-1, t[i].bad);
	ASSERT_EQ(-1, xt_bad(src, len, 4));
	ASSERT_EQ(-1, xt_bad(a.addr, len, 4));
}

/* A 64 MiB attachment shows every page of the source at the right place. */
TEST_F(att, large_attachment_every_page_correct)
{
	size_t npages = (64UL << 20) / self->pg, len = npages * self->pg;
	struct xt_att a;
	char *src;

	src = xt_region(npages, 9);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_EQ(0, xt_make_get_attach(src, len, XPMEM_RDWR, &a));
	ASSERT_EQ(-1, xt_bad(a.addr, len, 9));
	xt_fill(a.addr, len, 10);
	ASSERT_EQ(-1, xt_bad(src, len, 10));
	ASSERT_EQ(0, xpmem_detach(a.addr));
	ASSERT_EQ(0, xpmem_release(a.apid));
	ASSERT_EQ(0, xpmem_remove(a.segid));
}

/*
 * A failed attach gives back the page offsets it took: attaching more of
 * the address space than the attacher has free (ENOMEM) more often than
 * the module's page offset space (2^51 pages) could hold such attachments
 * at once leaves attach working. (Each attach takes its size in offsets.)
 */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

/* About 65,000 attaches: longer than the harness's default 30 s in TCG. */
TEST_F_TIMEOUT(slow, failed_attaches_do_not_use_up_page_offsets, 600)
{
	long pg = (long)xt_pg(), i, cycles;
	uintptr_t top = (uintptr_t)&pg;
	struct xpmem_addr addr;
	xpmem_segid_t segid;
	size_t size;
	char *p;

	/* The whole user address space, give or take: never free. */
	while (top & (top - 1))
		top &= top - 1;
	size = 2 * top - 2 * pg;
	cycles = (long)((1UL << (63 - __builtin_ctzl(pg))) / (size / pg)) + 100;
	segid = xpmem_make(NULL, XPMEM_MAXADDR_SIZE, XPMEM_PERMIT_MODE,
			   XT_MODE(0600));
	ASSERT_LT(0, segid);
	addr.apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, addr.apid);
	addr.offset = pg;
	for (i = 0; i < cycles; i++) {
		p = xpmem_attach(addr, size, NULL);
		ASSERT_EQ((void *)-1, p);
		ASSERT_EQ(ENOMEM, errno) {
			TH_LOG("attach %ld of %ld: %s", i, cycles,
			       strerror(errno));
		}
	}
	p = xpmem_attach(addr, pg, NULL);
	ASSERT_NE((void *)-1, p);
	ASSERT_EQ(0, xpmem_detach(p));
	ASSERT_EQ(0, xpmem_release(addr.apid));
	ASSERT_EQ(0, xpmem_remove(segid));
}

XT_MAIN
