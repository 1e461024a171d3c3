// SPDX-License-Identifier: GPL-2.0
/*
 * seg.c - segments and permits through the library: xpmem_make,
 * xpmem_remove, xpmem_get and xpmem_release.
 *
 * Every errno row of these four calls in docs/semantics.md (EACCES rows are
 * in perm.c), the id rules (positive, never reused), what may be exported
 * (holes, unmapped ranges, overlaps, the whole address space), and what
 * remove and release do to existing attachments.
 */
#include "xpmem_test.h"

#define NPAGES 4

/* A 4-page exported buffer holding pattern 1. */
FIXTURE(seg) {
	size_t pg, len;
	char *buf;
	xpmem_segid_t segid;
};

FIXTURE_SETUP(seg)
{
	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	self->segid = xt_export(NPAGES, 1, &self->buf);
	ASSERT_LT(0, self->segid);
}

FIXTURE_TEARDOWN(seg)
{
}

static xpmem_segid_t make(void *vaddr, size_t size, uintptr_t mode)
{
	return xpmem_make(vaddr, size, XPMEM_PERMIT_MODE, XT_MODE(mode));
}

/* Segment ids are positive, distinct, and not reused after a remove. */
TEST_F(seg, make_ids_positive_distinct_never_reused)
{
	xpmem_segid_t ids[33];
	int i, j;

	ids[0] = self->segid;
	for (i = 1; i < 17; i++) {
		ids[i] = make(self->buf, self->pg, 0600);
		ASSERT_LT(0, ids[i]);
	}
	for (i = 0; i < 17; i++)
		ASSERT_EQ(0, xpmem_remove(ids[i]));
	for (i = 17; i < 33; i++) {
		ids[i] = make(self->buf, self->pg, 0600);
		ASSERT_LT(0, ids[i]);
	}
	for (i = 0; i < 33; i++)
		for (j = i + 1; j < 33; j++)
			ASSERT_NE(ids[i], ids[j]);
}

/* make: permit_type other than XPMEM_PERMIT_MODE fails with EINVAL. */
TEST_F(seg, make_bad_permit_type_fails_einval)
{
	int types[] = { 0, 2, -1, 0x101 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		errno = 0;
		ASSERT_EQ(-1, xpmem_make(self->buf, self->len, types[i],
					 XT_MODE(0600)));
		ASSERT_EQ(EINVAL, errno);
	}
}

/* make: a mode with bits outside 0777 fails with EINVAL. */
TEST_F(seg, make_mode_bits_outside_0777_fail_einval)
{
	uint64_t modes[] = { 01000, 02600, 04600, 01777, 0x10000,
			     (1ULL << 32) | 0600, ~0ULL };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		TH_LOG("mode %#llx", (unsigned long long)modes[i]);
		ASSERT_EQ(EINVAL, xt_err(make(self->buf, self->len, modes[i])));
	}
	ASSERT_LT(0, make(self->buf, self->len, 0));
	ASSERT_LT(0, make(self->buf, self->len, 0777));
}

/* make: size 0 fails with EINVAL. */
TEST_F(seg, make_zero_size_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(make(self->buf, 0, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make(NULL, 0, 0600)));
}

/* make: a vaddr that is not page aligned fails with EINVAL. */
TEST_F(seg, make_unaligned_vaddr_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(make(self->buf + 1, self->pg, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make(self->buf + self->pg / 2, self->pg,
				      0600)));
	ASSERT_EQ(EINVAL, xt_err(make(self->buf + self->pg - 1, self->pg,
				      0600)));
}

/* make: a size that is not page aligned fails with EINVAL. */
TEST_F(seg, make_unaligned_size_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(make(self->buf, 1, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make(self->buf, self->pg - 1, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make(self->buf, self->pg + 1, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make(self->buf, XPMEM_MAXADDR_SIZE - 1,
				      0600)));
}

/* make: a range ending beyond the top of user space fails with EINVAL. */
TEST_F(seg, make_beyond_user_space_fails_einval)
{
	/* 2^56 is above TASK_SIZE with 4- and 5-level paging (and arm64) */
	char *top = (char *)(1UL << 56);

	ASSERT_EQ(EINVAL, xt_err(make(self->buf, 1UL << 56, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make(top, self->pg, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make(top - self->pg, 2 * self->pg, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make((void *)-self->pg, self->pg, 0600)));
}

/* make: a range whose end wraps around the address space fails: EINVAL. */
TEST_F(seg, make_wrapping_range_fails_einval)
{
	size_t huge = (size_t)0 - self->pg;	/* page aligned, ~2^64 */

	ASSERT_EQ(EINVAL, xt_err(make(self->buf, huge, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make((void *)self->pg, huge, 0600)));
}

/* make: XPMEM_MAXADDR_SIZE is only accepted together with vaddr 0. */
TEST_F(seg, make_maxaddr_size_with_nonzero_vaddr_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(make(self->buf, XPMEM_MAXADDR_SIZE, 0600)));
	ASSERT_EQ(EINVAL, xt_err(make((void *)self->pg, XPMEM_MAXADDR_SIZE,
				      0600)));
}

/*
 * make(0, XPMEM_MAXADDR_SIZE) exports the whole address space; attaching
 * at offset == a virtual address shows what is there, both ways.
 */
TEST_F(seg, make_whole_address_space_attach_at_va_offset)
{
	struct xt_att a;
	xpmem_segid_t all;

	all = make(NULL, XPMEM_MAXADDR_SIZE, 0600);
	ASSERT_LT(0, all);
	ASSERT_NE(self->segid, all);
	ASSERT_EQ(0, xt_get_attach(all, XPMEM_RDWR, (off_t)self->buf,
				   self->len, &a));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
	xt_fill(a.addr + self->pg, self->pg, 2);
	ASSERT_EQ(-1, xt_bad(self->buf + self->pg, self->pg, 2));
	xt_fill(self->buf, self->pg, 3);
	ASSERT_EQ(-1, xt_bad(a.addr, self->pg, 3));
}

/*
 * make of a range that is not mapped at all succeeds; touching it: SIGBUS.
 * (The attachment goes to a fixed place, so that it cannot land in the
 * hole it exports.)
 */
TEST_F(seg, make_unmapped_range_succeeds_touch_sigbus)
{
	char *place = xt_region(NPAGES, 0);
	char *hole = xt_region(NPAGES, 0);
	xpmem_segid_t segid;
	struct xt_att a;
	size_t i;

	ASSERT_NE(MAP_FAILED, place);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, self->len));
	segid = make(hole, self->len, 0600);
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, xt_get_attach_at(segid, XPMEM_RDWR, 0, self->len, place,
				      &a));
	ASSERT_EQ(place, a.addr);
	for (i = 0; i < NPAGES; i++) {
		ASSERT_EQ(SIGBUS, xt_read_sig(a.addr + i * self->pg));
		ASSERT_EQ(SIGBUS, xt_write_sig(a.addr + i * self->pg, 1));
	}
}

/* Overlapping segments of one range both work and show the same memory. */
TEST_F(seg, make_overlapping_ranges_both_work)
{
	xpmem_segid_t inner;
	struct xt_att a, b;

	inner = make(self->buf + self->pg, 2 * self->pg, 0600);
	ASSERT_LT(0, inner);
	ASSERT_NE(self->segid, inner);
	ASSERT_EQ(0, xt_get_attach(self->segid, XPMEM_RDWR, 0, self->len, &a));
	ASSERT_EQ(0, xt_get_attach(inner, XPMEM_RDWR, 0, 2 * self->pg, &b));
	ASSERT_EQ(-1, xt_bad_at(b.addr, 2 * self->pg, 1, self->pg));
	b.addr[0] = 0x5a;
	ASSERT_EQ(0x5a, a.addr[self->pg]);
	ASSERT_EQ(0x5a, self->buf[self->pg]);
}

/* remove: segid 0 or negative fails with EINVAL. */
TEST_F(seg, remove_nonpositive_segid_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(xpmem_remove(0)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_remove(-1)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_remove(INT64_MIN)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_remove(-self->segid)));
}

/* remove: a segid that never existed fails with ENOENT. */
TEST_F(seg, remove_unknown_segid_fails_enoent)
{
	ASSERT_EQ(ENOENT, xt_err(xpmem_remove(INT64_MAX)));
}

/* remove: removing twice fails with ENOENT the second time. */
TEST_F(seg, remove_twice_fails_enoent)
{
	ASSERT_EQ(0, xpmem_remove(self->segid));
	ASSERT_EQ(ENOENT, xt_err(xpmem_remove(self->segid)));
}

/* remove leaves the exporter's own memory as it was, and writable. */
TEST_F(seg, remove_leaves_exporter_memory_alone)
{
	ASSERT_EQ(0, xpmem_remove(self->segid));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
	xt_fill(self->buf, self->len, 2);
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
}

/* get: segid 0 or negative fails with EINVAL. */
TEST_F(seg, get_nonpositive_segid_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(xpmem_get(0, XPMEM_RDWR, XPMEM_PERMIT_MODE,
					   NULL)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_get(-1, XPMEM_RDWR, XPMEM_PERMIT_MODE,
					   NULL)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_get(INT64_MIN, XPMEM_RDONLY,
					   XPMEM_PERMIT_MODE, NULL)));
}

/* get: flags other than RDONLY, RDWR or 0 fail with EINVAL. */
TEST_F(seg, get_bad_flags_fail_einval)
{
	int flags[] = { XPMEM_RDONLY | XPMEM_RDWR, 0x4, 0x8, 0x100, -1,
			XPMEM_RDWR | 0x10, XPMEM_RDONLY | 0x80000000 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		TH_LOG("flags %#x", flags[i]);
		ASSERT_EQ(EINVAL, xt_err(xpmem_get(self->segid, flags[i],
						   XPMEM_PERMIT_MODE, NULL)));
	}
}

/* get: permit_type other than XPMEM_PERMIT_MODE fails with EINVAL. */
TEST_F(seg, get_bad_permit_type_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(xpmem_get(self->segid, XPMEM_RDWR, 0, NULL)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_get(self->segid, XPMEM_RDWR, 2, NULL)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_get(self->segid, XPMEM_RDWR, -1,
					   NULL)));
}

/* get: a segid that never existed fails with ENOENT. */
TEST_F(seg, get_unknown_segid_fails_enoent)
{
	ASSERT_EQ(ENOENT, xt_err(xpmem_get(INT64_MAX, XPMEM_RDWR,
					   XPMEM_PERMIT_MODE, NULL)));
}

/* get: a removed segment fails with ENOENT. */
TEST_F(seg, get_removed_segid_fails_enoent)
{
	ASSERT_EQ(0, xpmem_remove(self->segid));
	ASSERT_EQ(ENOENT, xt_err(xpmem_get(self->segid, XPMEM_RDWR,
					   XPMEM_PERMIT_MODE, NULL)));
	ASSERT_EQ(ENOENT, xt_err(xpmem_get(self->segid, XPMEM_RDONLY,
					   XPMEM_PERMIT_MODE, NULL)));
}

/* get: flags 0 is accepted, as is getting your own segment many times. */
TEST_F(seg, get_flags_0_and_own_segment_repeatedly_accepted)
{
	xpmem_apid_t ids[8];
	int i, j;

	ids[0] = xpmem_get(self->segid, 0, XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, ids[0]);
	for (i = 1; i < 8; i++) {
		ids[i] = xpmem_get(self->segid, i & 1 ? XPMEM_RDWR :
				   XPMEM_RDONLY, XPMEM_PERMIT_MODE, NULL);
		ASSERT_LT(0, ids[i]);
	}
	for (i = 0; i < 8; i++)
		for (j = i + 1; j < 8; j++)
			ASSERT_NE(ids[i], ids[j]);
}

/* release: apid 0 or negative fails with EINVAL. */
TEST_F(seg, release_nonpositive_apid_fails_einval)
{
	ASSERT_EQ(EINVAL, xt_err(xpmem_release(0)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_release(-1)));
	ASSERT_EQ(EINVAL, xt_err(xpmem_release(INT64_MIN)));
}

/* release: an apid that never existed fails with ENOENT. */
TEST_F(seg, release_unknown_apid_fails_enoent)
{
	ASSERT_EQ(ENOENT, xt_err(xpmem_release(INT64_MAX)));
}

/* release: releasing twice fails with ENOENT the second time. */
TEST_F(seg, release_twice_fails_enoent)
{
	xpmem_apid_t apid;

	apid = xpmem_get(self->segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, apid);
	ASSERT_EQ(0, xpmem_release(apid));
	ASSERT_EQ(ENOENT, xt_err(xpmem_release(apid)));
}

/*
 * A permit outlives the removal of its segment: attach through it then
 * fails with ENOENT, and it is released normally (once).
 */
TEST_F(seg, remove_keeps_permit_until_release_attach_enoent)
{
	struct xpmem_addr addr = { .offset = 0 };

	addr.apid = xpmem_get(self->segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, addr.apid);
	ASSERT_EQ(0, xpmem_remove(self->segid));
	ASSERT_EQ(ENOENT, xt_err((long)xpmem_attach(addr, self->len, NULL)));
	ASSERT_EQ(0, xpmem_release(addr.apid));
	ASSERT_EQ(ENOENT, xt_err(xpmem_release(addr.apid)));
}

/*
 * release unmaps every attachment made through that permit (the address
 * then faults with SIGSEGV), and only those.
 */
TEST_F(seg, release_unmaps_only_its_own_attachments)
{
	struct xpmem_addr addr = { .offset = 0 };
	struct xt_att other;
	char *p1, *p2;

	addr.apid = xpmem_get(self->segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, addr.apid);
	p1 = xpmem_attach(addr, self->len, NULL);
	ASSERT_NE((void *)-1, p1);
	p2 = xpmem_attach(addr, self->pg, NULL);
	ASSERT_NE((void *)-1, p2);
	ASSERT_EQ(0, xt_get_attach(self->segid, XPMEM_RDWR, 0, self->len,
				   &other));
	ASSERT_EQ(-1, xt_bad(p1, self->len, 1));
	ASSERT_EQ(-1, xt_bad(p2, self->pg, 1));
	ASSERT_EQ(0, xpmem_release(addr.apid));
	ASSERT_EQ(0, xt_vma_len(p1));
	ASSERT_EQ(0, xt_vma_len(p2));
	ASSERT_EQ(SIGSEGV, xt_read_sig(p1));
	ASSERT_EQ(SIGSEGV, xt_read_sig(p2));
	ASSERT_EQ(-1, xt_bad(other.addr, self->len, 1));
}

struct remove_arg {
	xpmem_segid_t segid;
	size_t len;
};

/* Importer: attach and read, then after the remove every page SIGBUSes. */
static int importer_after_remove(struct xt_proc *parent, void *arg)
{
	struct remove_arg *ra = arg;
	struct xt_att a;
	size_t i, pg = xt_pg();

	XT_CHECK(xt_get_attach(ra->segid, XPMEM_RDWR, 0, ra->len, &a) == 0);
	XT_CHECK_EQ(-1, xt_bad(a.addr, ra->len, 1));
	XT_CHECK(xt_send(parent, 1) == 0);
	XT_CHECK(xt_expect(parent, 2) == 0);
	for (i = 0; i < ra->len / pg; i++) {
		XT_CHECK_EQ(SIGBUS, xt_read_sig(a.addr + i * pg));
		XT_CHECK_EQ(SIGBUS, xt_write_sig(a.addr + i * pg, 7));
	}
	/* and an unprotected access kills the importer with SIGBUS */
	return *(volatile uint8_t *)a.addr == 0xff ? 2 : 3;
}

/*
 * remove stops every attachment of the segment at once, in every process:
 * each page, even one already mapped, raises SIGBUS.
 */
TEST_F(seg, remove_makes_attachments_in_every_process_sigbus)
{
	struct remove_arg ra = { self->segid, self->len };
	struct xt_proc c;
	struct xt_att own;

	ASSERT_EQ(0, xt_get_attach(self->segid, XPMEM_RDWR, 0, self->len,
				   &own));
	ASSERT_EQ(-1, xt_bad(own.addr, self->len, 1));
	ASSERT_EQ(0, xt_child(&c, importer_after_remove, &ra));
	ASSERT_EQ(0, xt_expect(&c, 1));
	ASSERT_EQ(0, xpmem_remove(self->segid));
	ASSERT_EQ(SIGBUS, xt_read_sig(own.addr));
	ASSERT_EQ(SIGBUS, xt_read_sig(own.addr + self->len - 1));
	ASSERT_EQ(0, xt_send(&c, 2));
	ASSERT_EQ(XT_SIG(SIGBUS), xt_wait(&c));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
}

XT_MAIN
