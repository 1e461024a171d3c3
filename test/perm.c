// SPDX-License-Identifier: GPL-2.0
/*
 * perm.c - who may attach what, and what an attachment may write.
 *
 * The SysV-style mode check of xpmem_get (owner, group and other classes,
 * CAP_IPC_OWNER), EACCES for another process's segid or apid, read-only
 * permits (read-only attachment that mprotect cannot upgrade), read-only
 * sources, the zero page and private file mappings never written through an
 * attachment. Peers with other ids are fork children that drop to them.
 */
#include "xpmem_test.h"

#define NPAGES 4

/* Credentials a peer switches to; @extra is a supplementary group or -1. */
struct who {
	uid_t uid;
	gid_t gid;
	int extra;
};

static const struct who root = { 0, 0, -1 };
static const struct who nobody = { XT_NOBODY, XT_NOBODY, -1 };
static const struct who nobody_gid0 = { XT_NOBODY, 0, -1 };
static const struct who nobody_in_0 = { XT_NOBODY, XT_NOBODY, 0 };
static const struct who other = { XT_NOBODY - 1, XT_NOBODY - 1, -1 };

struct get_arg {
	struct who who;
	xpmem_segid_t segid;
	int flags;
};

/*
 * Peer: as @who, get the segment with @flags. Sends 0 or the errno of
 * xpmem_get. On success it attaches and checks pattern 1 past the first
 * page (which earlier RDWR peers may have written); with RDWR it writes
 * pattern 2 over the first page, otherwise a write must SIGSEGV.
 */
static int get_peer(struct xt_proc *parent, void *arg)
{
	struct get_arg *g = arg;
	size_t pg = xt_pg();
	struct xpmem_addr addr = { .offset = 0 };
	char *p;

	XT_CHECK(xt_become(g->who.uid, g->who.gid, g->who.extra) == 0);
	addr.apid = xpmem_get(g->segid, g->flags, XPMEM_PERMIT_MODE, NULL);
	if (addr.apid == -1) {
		XT_CHECK(xt_send(parent, (uint64_t)errno) == 0);
		return 0;
	}
	XT_CHECK(addr.apid > 0);
	p = xpmem_attach(addr, NPAGES * pg, NULL);
	XT_CHECK(p != (void *)-1);
	XT_CHECK_EQ(-1, xt_bad_at(p + pg, (NPAGES - 1) * pg, 1, pg));
	if (g->flags == XPMEM_RDWR)
		xt_fill(p, pg, 2);
	else
		XT_CHECK_EQ(SIGSEGV, xt_write_sig(p, 0));
	XT_CHECK(xt_send(parent, 0) == 0);
	return 0;
}

/*
 * Run get_peer as @who. Return: 0 if the get (and attach) worked, the
 * errno of xpmem_get, or -1000 - status if the peer itself failed.
 */
static long get_as(struct who who, xpmem_segid_t segid, int flags)
{
	struct get_arg g = { who, segid, flags };
	struct xt_proc c;
	uint64_t err = 9999;
	int st;

	if (xt_child(&c, get_peer, &g))
		return -1000;
	xt_recv(&c, &err);
	st = xt_wait(&c);
	return st ? -1000 - st : (long)err;
}

struct exp_arg {
	struct who who;
	uintptr_t mode;
};

/* Peer exporter: as @who, export NPAGES of pattern 1 with @mode. */
static int export_peer(struct xt_proc *parent, void *arg)
{
	struct exp_arg *e = arg;
	xpmem_segid_t segid;
	char *buf;

	XT_CHECK(xt_become(e->who.uid, e->who.gid, e->who.extra) == 0);
	buf = xt_region(NPAGES, 1);
	XT_CHECK(buf != MAP_FAILED);
	segid = xpmem_make(buf, NPAGES * xt_pg(), XPMEM_PERMIT_MODE,
			   XT_MODE(e->mode));
	XT_CHECK(segid > 0);
	XT_CHECK(xt_send(parent, (uint64_t)segid) == 0);
	XT_CHECK(xt_expect(parent, 0) == 0);	/* stay until told */
	return 0;
}

/* The test process (root) exports 4 pages of pattern 1. */
FIXTURE(perm) {
	size_t pg, len;
	char *buf;
};

FIXTURE_SETUP(perm)
{
	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	self->buf = xt_region(NPAGES, 1);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(perm)
{
}

static xpmem_segid_t export_mode(FIXTURE_DATA(perm) *self, uintptr_t mode)
{
	return xpmem_make(self->buf, self->len, XPMEM_PERMIT_MODE,
			  XT_MODE(mode));
}

#define NEED_ROOT() do {						\
	if (geteuid() != 0)						\
		SKIP(return, "needs root to switch uid/gid");		\
} while (0)

/* Mode 0600 refuses another uid: EACCES for RDONLY, RDWR and flags 0. */
TEST_F(perm, mode_0600_other_uid_get_fails_eacces)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0600);
	ASSERT_LT(0, segid);
	ASSERT_EQ(EACCES, get_as(nobody, segid, XPMEM_RDONLY));
	ASSERT_EQ(EACCES, get_as(nobody, segid, XPMEM_RDWR));
	ASSERT_EQ(EACCES, get_as(nobody, segid, 0));
}

/* Mode 0666 lets another uid attach read-write; its write is seen. */
TEST_F(perm, mode_0666_other_uid_attaches_rdwr_and_writes)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0666);
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, get_as(nobody, segid, XPMEM_RDWR));
	ASSERT_EQ(-1, xt_bad(self->buf, self->pg, 2));
	ASSERT_EQ(-1, xt_bad_at(self->buf + self->pg, self->len - self->pg, 1,
				self->pg));
	ASSERT_EQ(0, get_as(nobody, segid, XPMEM_RDONLY));
}

/* Mode 0644: another uid may get RDONLY (or 0) but not RDWR. */
TEST_F(perm, mode_0644_other_uid_rdonly_ok_rdwr_eacces)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0644);
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, get_as(nobody, segid, XPMEM_RDONLY));
	ASSERT_EQ(0, get_as(nobody, segid, 0));
	ASSERT_EQ(EACCES, get_as(nobody, segid, XPMEM_RDWR));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
}

/* Mode 0622 (write without read for others): RDONLY and RDWR refused. */
TEST_F(perm, mode_0622_write_bit_alone_grants_nothing)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0622);
	ASSERT_LT(0, segid);
	ASSERT_EQ(EACCES, get_as(nobody, segid, XPMEM_RDONLY));
	ASSERT_EQ(EACCES, get_as(nobody, segid, XPMEM_RDWR));
}

/* Mode 0640: a member of the exporter's gid gets RDONLY, not RDWR. */
TEST_F(perm, mode_0640_group_member_rdonly_ok_rdwr_eacces)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0640);
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, get_as(nobody_gid0, segid, XPMEM_RDONLY));
	ASSERT_EQ(EACCES, get_as(nobody_gid0, segid, XPMEM_RDWR));
	ASSERT_EQ(EACCES, get_as(nobody, segid, XPMEM_RDONLY));
}

/* Mode 0660: a member of the exporter's gid gets RDWR. */
TEST_F(perm, mode_0660_group_member_rdwr_ok)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0660);
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, get_as(nobody_gid0, segid, XPMEM_RDWR));
	ASSERT_EQ(-1, xt_bad(self->buf, self->pg, 2));
}

/* Membership through a supplementary group counts as the group class. */
TEST_F(perm, mode_0640_supplementary_group_member_rdonly_ok)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0640);
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, get_as(nobody_in_0, segid, XPMEM_RDONLY));
	ASSERT_EQ(EACCES, get_as(nobody_in_0, segid, XPMEM_RDWR));
}

/* Mode 0606: a group member is judged by the group bits only: EACCES. */
TEST_F(perm, mode_0606_group_member_uses_group_bits_eacces)
{
	xpmem_segid_t segid;

	NEED_ROOT();
	segid = export_mode(self, 0606);
	ASSERT_LT(0, segid);
	ASSERT_EQ(EACCES, get_as(nobody_gid0, segid, XPMEM_RDONLY));
	ASSERT_EQ(0, get_as(nobody, segid, XPMEM_RDWR));
}

/*
 * An unprivileged owner is judged by the owner bits only: mode 0066 is
 * refused to its own uid but granted to another uid and to root.
 */
TEST_F(perm, mode_0066_owner_uses_owner_bits_eacces)
{
	struct exp_arg e = { nobody, 0066 };
	struct xt_proc c;
	uint64_t segid;

	NEED_ROOT();
	ASSERT_EQ(0, xt_child(&c, export_peer, &e));
	ASSERT_EQ(0, xt_recv(&c, &segid));
	EXPECT_EQ(EACCES, get_as(nobody, (xpmem_segid_t)segid, XPMEM_RDONLY));
	EXPECT_EQ(0, get_as(other, (xpmem_segid_t)segid, XPMEM_RDWR));
	EXPECT_EQ(0, get_as(root, (xpmem_segid_t)segid, XPMEM_RDWR));
	ASSERT_EQ(0, xt_send(&c, 0));
	ASSERT_EQ(0, xt_wait(&c));
}

/* Mode 0400: the unprivileged owner's uid gets RDONLY but not RDWR. */
TEST_F(perm, mode_0400_owner_rdonly_ok_rdwr_eacces)
{
	struct exp_arg e = { nobody, 0400 };
	struct xt_proc c;
	uint64_t segid;

	NEED_ROOT();
	ASSERT_EQ(0, xt_child(&c, export_peer, &e));
	ASSERT_EQ(0, xt_recv(&c, &segid));
	EXPECT_EQ(0, get_as(nobody, (xpmem_segid_t)segid, XPMEM_RDONLY));
	EXPECT_EQ(EACCES, get_as(nobody, (xpmem_segid_t)segid, XPMEM_RDWR));
	EXPECT_EQ(EACCES, get_as(other, (xpmem_segid_t)segid, XPMEM_RDONLY));
	ASSERT_EQ(0, xt_send(&c, 0));
	ASSERT_EQ(0, xt_wait(&c));
}

/* CAP_IPC_OWNER (root) bypasses the check: mode 0000 still attaches RDWR. */
TEST_F(perm, root_bypasses_mode_0000)
{
	struct exp_arg e = { nobody, 0 };
	struct xt_proc c;
	uint64_t segid;

	NEED_ROOT();
	ASSERT_EQ(0, xt_child(&c, export_peer, &e));
	ASSERT_EQ(0, xt_recv(&c, &segid));
	EXPECT_EQ(0, get_as(root, (xpmem_segid_t)segid, XPMEM_RDWR));
	EXPECT_EQ(EACCES, get_as(other, (xpmem_segid_t)segid, XPMEM_RDONLY));
	ASSERT_EQ(0, xt_send(&c, 0));
	ASSERT_EQ(0, xt_wait(&c));
}

struct ids_arg {
	xpmem_segid_t segid;
};

/* Peer: removing the parent's segment fails with EACCES. */
static int remove_peer(struct xt_proc *parent, void *arg)
{
	struct ids_arg *ia = arg;

	XT_CHECK_EQ(-1, xpmem_remove(ia->segid));
	XT_CHECK_EQ(EACCES, errno);
	return 0;
}

/* Removing another process's segment (same uid) fails with EACCES. */
TEST_F(perm, remove_other_process_segid_fails_eacces)
{
	struct ids_arg ia;
	struct xt_att a;

	ia.segid = export_mode(self, 0666);
	ASSERT_LT(0, ia.segid);
	ASSERT_EQ(0, xt_run(remove_peer, &ia));
	/* the segment is still there and working */
	ASSERT_EQ(0, xt_get_attach(ia.segid, XPMEM_RDWR, 0, self->len, &a));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
	ASSERT_EQ(0, xpmem_remove(ia.segid));
}

/* Peer: get a permit, hand it to the parent, then check it still works. */
static int permit_peer(struct xt_proc *parent, void *arg)
{
	struct ids_arg *ia = arg;
	struct xpmem_addr addr = { .offset = 0 };
	char *p;

	addr.apid = xpmem_get(ia->segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	XT_CHECK(addr.apid > 0);
	XT_CHECK(xt_send(parent, (uint64_t)addr.apid) == 0);
	XT_CHECK(xt_expect(parent, 1) == 0);
	p = xpmem_attach(addr, xt_pg(), NULL);
	XT_CHECK(p != (void *)-1);
	XT_CHECK_EQ(-1, xt_bad(p, xt_pg(), 1));
	XT_CHECK_EQ(0, xpmem_release(addr.apid));
	return 0;
}

/* Releasing or attaching another process's apid fails with EACCES. */
TEST_F(perm, other_process_apid_release_and_attach_fail_eacces)
{
	struct xpmem_addr addr = { .offset = 0 };
	struct ids_arg ia;
	struct xt_proc c;
	uint64_t apid;

	ia.segid = export_mode(self, 0600);
	ASSERT_LT(0, ia.segid);
	ASSERT_EQ(0, xt_child(&c, permit_peer, &ia));
	ASSERT_EQ(0, xt_recv(&c, &apid));
	addr.apid = (xpmem_apid_t)apid;
	EXPECT_EQ(EACCES, xt_err((long)xpmem_attach(addr, self->pg, NULL)));
	EXPECT_EQ(EACCES, xt_err(xpmem_release(addr.apid)));
	ASSERT_EQ(0, xt_send(&c, 1));
	ASSERT_EQ(0, xt_wait(&c));
}

/*
 * An XPMEM_RDONLY permit gives a read-only attachment: reads work, a write
 * raises SIGSEGV, and the exporter's memory is unchanged.
 */
TEST_F(perm, rdonly_permit_attachment_write_raises_sigsegv)
{
	struct xt_att a;
	size_t i;

	ASSERT_EQ(0, xt_make_get_attach(self->buf, self->len, XPMEM_RDONLY,
					&a));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(SIGSEGV, xt_write_sig(a.addr + i * self->pg, 0));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
}

/* mprotect(PROT_WRITE) of a read-only attachment fails; writes still fault. */
TEST_F(perm, rdonly_permit_attachment_mprotect_write_fails)
{
	struct xt_att a;
	int ret;

	ASSERT_EQ(0, xt_make_get_attach(self->buf, self->len, XPMEM_RDONLY,
					&a));
	ret = mprotect(a.addr, self->len, PROT_READ | PROT_WRITE);
	TH_LOG("mprotect: %d, errno %d", ret, ret ? errno : 0);
	ASSERT_EQ(-1, ret);
	ret = mprotect(a.addr + self->pg, self->pg, PROT_WRITE);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(SIGSEGV, xt_write_sig(a.addr, 0));
	ASSERT_EQ(SIGSEGV, xt_write_sig(a.addr + self->pg, 0));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
}

/* A permit got with flags 0 is read-only, like XPMEM_RDONLY. */
TEST_F(perm, flags_0_permit_gives_readonly_attachment)
{
	struct xt_att a;

	ASSERT_EQ(0, xt_make_get_attach(self->buf, self->len, 0, &a));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
	ASSERT_EQ(SIGSEGV, xt_write_sig(a.addr, 0));
	ASSERT_EQ(-1, mprotect(a.addr, self->len, PROT_READ | PROT_WRITE));
	ASSERT_EQ(SIGSEGV, xt_write_sig(a.addr + self->len - 1, 0));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
}

struct rw_arg {
	xpmem_segid_t segid;
	size_t len;
	unsigned int seed;	/* what the importer should read */
};

/*
 * Importer of a source that is not writable: with an RDWR permit it reads
 * pattern @seed, and every write raises SIGSEGV.
 */
static int readonly_source_importer(struct xt_proc *parent, void *arg)
{
	struct rw_arg *r = arg;
	size_t i, pg = xt_pg();
	struct xt_att a;

	XT_CHECK(xt_get_attach(r->segid, XPMEM_RDWR, 0, r->len, &a) == 0);
	XT_CHECK_EQ(-1, xt_bad(a.addr, r->len, r->seed));
	for (i = 0; i < r->len / pg; i++)
		XT_CHECK_EQ(SIGSEGV, xt_write_sig(a.addr + i * pg, 0));
	XT_CHECK_EQ(-1, xt_bad(a.addr, r->len, r->seed));
	/* an unprotected write kills the importer with SIGSEGV */
	a.addr[0] = 0;
	return 0;
}

/* A PROT_READ source attached with an RDWR permit: a write is SIGSEGV. */
TEST_F(perm, readonly_source_rdwr_permit_write_raises_sigsegv)
{
	struct rw_arg r = { 0, self->len, 1 };

	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_READ));
	r.segid = export_mode(self, 0600);
	ASSERT_LT(0, r.segid);
	ASSERT_EQ(XT_SIG(SIGSEGV), xt_run(readonly_source_importer, &r));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
}

/* Importer: write, then see writes refused while the source is read-only. */
static int mprotect_importer(struct xt_proc *parent, void *arg)
{
	struct rw_arg *r = arg;
	struct xt_att a;
	uint8_t v;

	XT_CHECK(xt_get_attach(r->segid, XPMEM_RDWR, 0, r->len, &a) == 0);
	xt_fill(a.addr, r->len, 2);
	XT_CHECK(xt_send(parent, 1) == 0);
	XT_CHECK(xt_expect(parent, 2) == 0);	/* now PROT_READ */
	XT_CHECK_EQ(SIGSEGV, xt_write_sig(a.addr, 0));
	XT_CHECK_EQ(SIGSEGV, xt_write_sig(a.addr + r->len - 1, 0));
	XT_CHECK_EQ(0, xt_access_sig((uint8_t *)a.addr, 0, 0, &v));
	XT_CHECK_EQ(xt_pat(2, 0), v);
	XT_CHECK_EQ(-1, xt_bad(a.addr, r->len, 2));
	XT_CHECK(xt_send(parent, 3) == 0);
	XT_CHECK(xt_expect(parent, 4) == 0);	/* writable again */
	XT_CHECK_EQ(0, xt_write_sig(a.addr, 0x42));
	xt_fill(a.addr + xt_pg(), xt_pg(), 3);
	XT_CHECK(xt_send(parent, 5) == 0);
	return 0;
}

/*
 * An exporter mprotect(PROT_READ) takes effect at once on an attachment
 * that already wrote: the next importer write is SIGSEGV; PROT_WRITE back
 * makes it writable again.
 */
TEST_F(perm, exporter_mprotect_readonly_blocks_importer_writes)
{
	struct rw_arg r = { 0, self->len, 2 };
	struct xt_proc c;

	r.segid = export_mode(self, 0600);
	ASSERT_LT(0, r.segid);
	ASSERT_EQ(0, xt_child(&c, mprotect_importer, &r));
	ASSERT_EQ(0, xt_expect(&c, 1));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_READ));
	ASSERT_EQ(0, xt_send(&c, 2));
	ASSERT_EQ(0, xt_expect(&c, 3));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, xt_send(&c, 4));
	ASSERT_EQ(0, xt_expect(&c, 5));
	ASSERT_EQ(0x42, self->buf[0]);
	ASSERT_EQ(-1, xt_bad_at(self->buf + 1, self->pg - 1, 2, 1));
	ASSERT_EQ(-1, xt_bad(self->buf + self->pg, self->pg, 3));
	ASSERT_EQ(0, xt_wait(&c));
}

/* Importer of untouched memory: reads zeros, then writes pattern 2. */
static int zero_page_importer(struct xt_proc *parent, void *arg)
{
	struct rw_arg *r = arg;
	struct xt_att a;
	char *fresh;

	XT_CHECK(xt_get_attach(r->segid, XPMEM_RDWR, 0, r->len, &a) == 0);
	XT_CHECK_EQ(-1, xt_bad(a.addr, r->len, 0));
	xt_fill(a.addr, r->len, 2);
	XT_CHECK_EQ(-1, xt_bad(a.addr, r->len, 2));
	XT_CHECK(xt_send(parent, 1) == 0);
	XT_CHECK(xt_expect(parent, 2) == 0);
	fresh = xt_region(NPAGES, 0);
	XT_CHECK(fresh != MAP_FAILED);
	XT_CHECK_EQ(-1, xt_bad(fresh, r->len, 0));
	return 0;
}

/*
 * The zero page is never written: an importer reads an untouched anonymous
 * source (zeros) and then writes it; the exporter sees the write, while
 * other untouched anonymous memory, here and in the importer, still reads 0.
 */
TEST_F(perm, untouched_anon_source_write_never_reaches_zero_page)
{
	char *src = xt_region(NPAGES, 0), *other_buf = xt_region(NPAGES, 0);
	struct rw_arg r = { 0, self->len, 0 };
	struct xt_proc c;
	char *fresh;

	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(MAP_FAILED, other_buf);
	r.segid = xpmem_make(src, self->len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, r.segid);
	ASSERT_EQ(0, xt_child(&c, zero_page_importer, &r));
	ASSERT_EQ(0, xt_expect(&c, 1));
	ASSERT_EQ(-1, xt_bad(src, self->len, 2));
	ASSERT_EQ(-1, xt_bad(other_buf, self->len, 0));
	fresh = xt_region(NPAGES, 0);
	ASSERT_NE(MAP_FAILED, fresh);
	ASSERT_EQ(-1, xt_bad(fresh, self->len, 0));
	ASSERT_EQ(0, xt_send(&c, 2));
	ASSERT_EQ(0, xt_wait(&c));
}

/* Importer: read pattern 1, then write pattern 2 over the first 2 pages. */
static int private_file_importer(struct xt_proc *parent, void *arg)
{
	struct rw_arg *r = arg;
	struct xt_att a;

	XT_CHECK(xt_get_attach(r->segid, XPMEM_RDWR, 0, r->len, &a) == 0);
	XT_CHECK_EQ(-1, xt_bad(a.addr, r->len, 1));
	xt_fill(a.addr, 2 * xt_pg(), 2);
	XT_CHECK_EQ(-1, xt_bad(a.addr, 2 * xt_pg(), 2));
	XT_CHECK(xt_send(parent, 1) == 0);
	return 0;
}

/*
 * Private file mapping: an importer write lands in the exporter's private
 * copy (whether the exporter had read the page or not); the file and other
 * mappings of it are unchanged.
 */
TEST_F(perm, private_file_mapping_write_lands_in_exporter_copy_only)
{
	struct rw_arg r = { 0, self->len, 1 };
	char path[64], *priv, *shared;
	struct xt_proc c;
	volatile char sink;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/xt-perm-%d", (int)getpid());
	fd = xt_pattern_file(path, self->len, 1);
	ASSERT_LE(0, fd);
	unlink(path);
	priv = xt_map(self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	sink = priv[0];		/* page 0 mapped from the page cache, page 1 not */
	(void)sink;
	r.segid = xpmem_make(priv, self->len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, r.segid);
	ASSERT_EQ(0, xt_child(&c, private_file_importer, &r));
	ASSERT_EQ(0, xt_expect(&c, 1));
	ASSERT_EQ(0, xt_wait(&c));
	ASSERT_EQ(-1, xt_bad(priv, 2 * self->pg, 2));
	ASSERT_EQ(-1, xt_bad_at(priv + 2 * self->pg, 2 * self->pg, 1,
				2 * self->pg));
	ASSERT_EQ(-1, xt_file_bad(fd, self->len, 1));
	shared = xt_map(self->len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, shared);
	ASSERT_EQ(-1, xt_bad(shared, self->len, 1));
	close(fd);
}

/* A read-only shared file mapping: an RDWR importer's write is SIGSEGV. */
TEST_F(perm, readonly_shared_file_mapping_write_raises_sigsegv)
{
	struct rw_arg r = { 0, self->len, 1 };
	char path[64], *map;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/xt-perm-%d", (int)getpid());
	fd = xt_pattern_file(path, self->len, 1);
	ASSERT_LE(0, fd);
	unlink(path);
	map = xt_map(self->len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	r.segid = xpmem_make(map, self->len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, r.segid);
	ASSERT_EQ(XT_SIG(SIGSEGV), xt_run(readonly_source_importer, &r));
	ASSERT_EQ(-1, xt_file_bad(fd, self->len, 1));
	ASSERT_EQ(-1, xt_bad(map, self->len, 1));
	close(fd);
}

XT_MAIN
