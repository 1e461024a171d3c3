// SPDX-License-Identifier: GPL-2.0
/*
 * fork.c - xpmem across fork().
 *
 * A fork child has no xpmem state of its own: with the fd inherited from
 * its parent every command but VERSION fails with errno 2004, while the
 * library re-opens the device and just works. Attachments are not
 * inherited; a child's exit does not touch its parent's state; a child's
 * segments are its own. Copy-on-write after an exporter's fork: importer
 * writes go to the parent, never to the child.
 */
#include "xpmem_test.h"

#define NPAGES 4

/* The test process exports 4 pages of pattern 1 through the library. */
FIXTURE(fork) {
	size_t pg, len;
	char *buf;
	xpmem_segid_t segid;
};

FIXTURE_SETUP(fork)
{
	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	self->segid = xt_export(NPAGES, 1, &self->buf);
	ASSERT_LT(0, self->segid);
}

FIXTURE_TEARDOWN(fork)
{
}

/* Child: every command on the inherited fd gives 2004, VERSION works. */
static int inherited_fd_child(struct xt_proc *parent, void *arg)
{
	FIXTURE_DATA(fork) *self = arg;
	int fd = xt_dev_fd();
	struct xpmem_cmd_make make = {
		.vaddr = (uintptr_t)self->buf, .size = self->len,
		.permit_type = XPMEM_PERMIT_MODE_TYPE, .permit_value = 0600,
	};
	struct xpmem_cmd_remove rm = { .segid = self->segid };
	struct xpmem_cmd_get get = {
		.segid = self->segid, .flags = XPMEM_GET_RDWR,
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
	};
	struct xpmem_cmd_release rel = { .apid = 1 };
	struct xpmem_cmd_attach att = { .apid = 1, .size = self->len };
	struct xpmem_cmd_detach det = { .vaddr = (uintptr_t)self->buf };

	XT_CHECK(fd >= 0);
	XT_CHECK_EQ(XT_VERSION, xt_ioctl(fd, XPMEM_CMD_VERSION, NULL));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_MAKE, &make));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_REMOVE, &rm));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_GET, &get));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_RELEASE,
						  &rel));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_ATTACH, &att));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_DETACH, &det));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_FORK_BEGIN,
						  NULL));
	XT_CHECK_EQ(-XPMEM_ERRNO_NOPROC, xt_ioctl(fd, XPMEM_CMD_FORK_END,
						  NULL));
	XT_CHECK_EQ(XT_VERSION, xt_ioctl(fd, XPMEM_CMD_VERSION, NULL));
	return 0;
}

/*
 * A fork child using the raw fd inherited from its parent gets errno 2004
 * (XPMEM_ERRNO_NOPROC) from every command except VERSION.
 */
TEST_F(fork, child_inherited_raw_fd_gets_2004_except_version)
{
	ASSERT_EQ(0, xt_run(inherited_fd_child, self));
	/* the parent's state is untouched */
	ASSERT_EQ(0, xpmem_remove(self->segid));
}

/* Child: the library works with no special step, on a fresh fd. */
static int library_child(struct xt_proc *parent, void *arg)
{
	FIXTURE_DATA(fork) *self = arg;
	xpmem_segid_t mine;
	struct xt_att a, b;

	XT_CHECK_EQ(1, xt_dev_fds());	/* the inherited one */
	XT_CHECK_EQ(XT_VERSION, xpmem_version());
	XT_CHECK(xt_get_attach(self->segid, XPMEM_RDWR, 0, self->len, &a) == 0);
	XT_CHECK_EQ(1, xt_dev_fds());	/* replaced, not added */
	XT_CHECK_EQ(-1, xt_bad(a.addr, self->len, 1));
	xt_fill(a.addr, self->pg, 2);
	mine = xpmem_make(self->buf, self->len, XPMEM_PERMIT_MODE,
			  XT_MODE(0600));
	XT_CHECK(mine > 0);
	XT_CHECK(xt_get_attach(mine, XPMEM_RDWR, 0, self->len, &b) == 0);
	/* the write through the parent's segment went to the parent only */
	XT_CHECK_EQ(-1, xt_bad(b.addr, self->len, 1));
	XT_CHECK_EQ(-1, xt_bad(self->buf, self->len, 1));
	XT_CHECK_EQ(0, xpmem_remove(mine));
	XT_CHECK(xt_send(parent, (uint64_t)mine) == 0);
	return 0;
}

/*
 * A fork child uses the library without doing anything special (it
 * re-opens the device on errno 2004): it attaches the parent's segment
 * and makes segments of its own.
 */
TEST_F(fork, child_uses_library_without_setup)
{
	struct xt_proc c;
	uint64_t mine;

	ASSERT_EQ(0, xt_child(&c, library_child, self));
	ASSERT_EQ(0, xt_recv(&c, &mine));
	ASSERT_EQ(0, xt_wait(&c));
	ASSERT_NE(self->segid, (xpmem_segid_t)mine);
	ASSERT_EQ(-1, xt_bad(self->buf, self->pg, 2));
	ASSERT_EQ(0, xpmem_remove(self->segid));
}

/* Child: the parent's attachment address is not mapped here. */
static int no_attachment_child(struct xt_proc *parent, void *arg)
{
	char *p = arg;

	XT_CHECK_EQ(0, xt_vma_len(p));
	XT_CHECK_EQ(SIGSEGV, xt_read_sig(p));
	XT_CHECK_EQ(0, xpmem_detach(p));
	return 0;
}

/*
 * An attachment is not inherited by a fork child, and the child's exit
 * leaves the parent's attachment working.
 */
TEST_F(fork, attachment_not_inherited_by_fork_child)
{
	struct xt_att a;

	ASSERT_EQ(0, xt_get_attach(self->segid, XPMEM_RDWR, 0, self->len, &a));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
	ASSERT_EQ(0, xt_run(no_attachment_child, a.addr));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
	a.addr[0] = 0x44;
	ASSERT_EQ(0x44, self->buf[0]);
}

/* Child: close the inherited fd and exit. */
static int close_and_exit_child(struct xt_proc *parent, void *arg)
{
	int fd;

	while ((fd = xt_dev_fd()) >= 0)
		XT_CHECK(close(fd) == 0);
	return 0;
}

/* Child: exit holding the inherited fd. */
static int just_exit_child(struct xt_proc *parent, void *arg)
{
	return 0;
}

/*
 * A fork child closing the inherited fd, or exiting with it, destroys
 * nothing of the parent's: segment, permit and attachment all still work.
 */
TEST_F(fork, child_closing_inherited_fd_leaves_parent_state)
{
	struct xt_att a;

	ASSERT_EQ(0, xt_get_attach(self->segid, XPMEM_RDWR, 0, self->len, &a));
	ASSERT_EQ(0, xt_run(close_and_exit_child, NULL));
	ASSERT_EQ(0, xt_run(just_exit_child, NULL));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 1));
	ASSERT_LT(0, xpmem_get(self->segid, XPMEM_RDONLY, XPMEM_PERMIT_MODE,
			       NULL));
	ASSERT_EQ(0, xpmem_release(a.apid));
	ASSERT_EQ(0, xpmem_remove(self->segid));
}

/* Child: export something, hand over the segid, wait, check its memory. */
static int child_exporter(struct xt_proc *parent, void *arg)
{
	FIXTURE_DATA(fork) *self = arg;
	char *mine = xt_region(NPAGES, 7);
	xpmem_segid_t segid;

	XT_CHECK(mine != MAP_FAILED);
	segid = xpmem_make(mine, self->len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	XT_CHECK(segid > 0);
	XT_CHECK(xt_send(parent, (uint64_t)segid) == 0);
	XT_CHECK(xt_expect(parent, 1) == 0);
	XT_CHECK_EQ(-1, xt_bad(mine, self->pg, 8));
	XT_CHECK_EQ(0, xpmem_remove(segid));
	return 0;
}

/*
 * A fork child's segments are its own: the parent can attach them but not
 * remove them (EACCES).
 */
TEST_F(fork, child_segments_belong_to_child)
{
	struct xt_proc c;
	struct xt_att a;
	uint64_t segid;

	ASSERT_EQ(0, xt_child(&c, child_exporter, self));
	ASSERT_EQ(0, xt_recv(&c, &segid));
	ASSERT_NE(self->segid, (xpmem_segid_t)segid);
	ASSERT_EQ(EACCES, xt_err(xpmem_remove((xpmem_segid_t)segid)));
	ASSERT_EQ(0, xt_get_attach((xpmem_segid_t)segid, XPMEM_RDWR, 0,
				   self->len, &a));
	ASSERT_EQ(-1, xt_bad(a.addr, self->len, 7));
	xt_fill(a.addr, self->pg, 8);
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 1));
	ASSERT_EQ(0, xt_send(&c, 1));
	ASSERT_EQ(0, xt_wait(&c));
}

/* Fork child of the exporter: its copy keeps pattern 1. */
static int cow_child(struct xt_proc *parent, void *arg)
{
	FIXTURE_DATA(fork) *self = arg;

	XT_CHECK(xt_send(parent, 1) == 0);
	XT_CHECK(xt_expect(parent, 2) == 0);
	XT_CHECK_EQ(-1, xt_bad(self->buf, self->len, 1));
	return 0;
}

/*
 * After the exporter forks (its pages now shared copy-on-write with the
 * child), an importer write is seen by the parent and NOT by the child.
 */
TEST_F(fork, importer_write_after_exporter_fork_seen_by_parent_not_child)
{
	struct xt_remote r = { self->segid, XPMEM_RDWR, self->len };
	struct xt_proc f, c;

	ASSERT_EQ(0, xt_child(&f, cow_child, self));
	ASSERT_EQ(0, xt_expect(&f, 1));
	ASSERT_EQ(0, xt_remote_start(&c, &r));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_FILL, 0, 2));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
	ASSERT_EQ(0, xt_send(&f, 2));
	ASSERT_EQ(0, xt_wait(&f));
	/* and the importer keeps following the parent */
	xt_fill(self->buf, self->len, 3);
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 3));
	ASSERT_EQ(0, xt_remote_quit(&c));
}

/*
 * Same, with the importer already mapped before the fork: its next write
 * must still go to the parent only.
 */
TEST_F(fork, importer_mapped_before_exporter_fork_writes_to_parent_only)
{
	struct xt_remote r = { self->segid, XPMEM_RDWR, self->len };
	struct xt_proc f, c;

	ASSERT_EQ(0, xt_remote_start(&c, &r));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_child(&f, cow_child, self));
	ASSERT_EQ(0, xt_expect(&f, 1));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_FILL, 0, 2));
	ASSERT_EQ(-1, xt_bad(self->buf, self->len, 2));
	ASSERT_EQ(0, xt_send(&f, 2));
	ASSERT_EQ(0, xt_wait(&f));
	ASSERT_EQ(0, xt_remote_quit(&c));
}

XT_MAIN
