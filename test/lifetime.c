// SPDX-License-Identifier: GPL-2.0
/*
 * lifetime.c - who outlives whom, with exporter and importer in separate
 * processes.
 *
 * xpmem state belongs to the process: a second fd shares it and closing it
 * destroys nothing; the last fd of an exporter (close, exec, exit, SIGKILL)
 * takes its segments with it and importers then get SIGBUS, never a hang;
 * an importer's exit or SIGKILL leaves the exporter untouched; munmap of
 * all or part of an attachment is a silent detach; mremap of an attachment
 * fails cleanly; holes raise SIGBUS; the whole address space can be
 * exported and attached at an offset equal to a remote address.
 */
#include "xpmem_test.h"

#define NPAGES 8

enum {
	EXP_CLOSE_FD = 100,	/* close the fd the segment was made through */
	EXP_EXEC,		/* exec cat, reading our request pipe */
	EXP_FORK_HOLDER,	/* fork a child that keeps our fds open */
};

/* How a remote exporter exports its NPAGES of pattern 1. */
struct exporter {
	int whole;	/* make(0, XPMEM_MAXADDR_SIZE) instead of the buffer */
	int raw;	/* make through a raw fd of its own, not the library */
};

/*
 * Remote exporter: exports NPAGES of pattern 1, sends the segid and the
 * buffer's address, then serves XT_OP_CHECK, XT_OP_FILL, XT_OP_QUIT and
 * the EXP_* requests on its own buffer.
 */
static int remote_exporter(struct xt_proc *parent, void *arg)
{
	struct exporter *e = arg;
	size_t len = NPAGES * xt_pg();
	xpmem_segid_t segid;
	uint64_t req, res;
	char *buf;
	int fd = -1;
	long bad;

	buf = xt_region(NPAGES, 1);
	XT_CHECK(buf != MAP_FAILED);
	if (e->raw) {
		struct xpmem_cmd_make make = {
			.vaddr = (uintptr_t)buf, .size = len,
			.permit_type = XPMEM_PERMIT_MODE_TYPE,
			.permit_value = 0600,
		};

		fd = xt_open();
		XT_CHECK(fd >= 0);
		XT_CHECK_EQ(0, xt_ioctl(fd, XPMEM_CMD_MAKE, &make));
		segid = make.segid;
	} else if (e->whole) {
		segid = xpmem_make(NULL, XPMEM_MAXADDR_SIZE, XPMEM_PERMIT_MODE,
				   XT_MODE(0600));
	} else {
		segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	}
	XT_CHECK(segid > 0);
	XT_CHECK(xt_send(parent, (uint64_t)segid) == 0);
	XT_CHECK(xt_send(parent, (uintptr_t)buf) == 0);
	for (;;) {
		XT_CHECK(xt_recv(parent, &req) == 0);
		switch ((int)(req >> 56)) {
		case XT_OP_CHECK:
			bad = xt_bad(buf, len, (unsigned int)req);
			res = bad < 0 ? 0 : 1 + (uint64_t)bad;
			break;
		case XT_OP_FILL:
			xt_fill(buf, len, (unsigned int)req);
			res = 0;
			break;
		case XT_OP_QUIT:
			return 0;
		case EXP_CLOSE_FD:
			res = (uint64_t)close(fd);
			break;
		case EXP_FORK_HOLDER:
			res = (uint64_t)fork();
			if (!res)
				for (;;)
					pause();
			break;
		case EXP_EXEC:
			/* cat blocks on our request pipe until the parent
			 * closes it; exec closes the O_CLOEXEC answer pipe,
			 * which is how the parent knows the exec happened */
			XT_CHECK(dup2(parent->rd, 0) == 0);
			execlp("cat", "cat", (char *)NULL);
			XT_CHECK(!"exec cat");
			break;
		default:
			XT_CHECK(!"unknown request");
		}
		XT_CHECK(xt_send(parent, res) == 0);
	}
}

/* Start a remote exporter; returns its segid and buffer address. */
static void start_exporter(struct __test_metadata *_metadata,
			   struct xt_proc *e, struct exporter *arg,
			   xpmem_segid_t *segid, char **rbuf)
{
	uint64_t v;

	ASSERT_EQ(0, xt_child(e, remote_exporter, arg));
	ASSERT_EQ(0, xt_recv(e, &v));
	*segid = (xpmem_segid_t)v;
	ASSERT_EQ(0, xt_recv(e, &v));
	*rbuf = (char *)(uintptr_t)v;
}

/* A remote importer of @segid, already started. */
static void start_importer(struct __test_metadata *_metadata,
			   struct xt_proc *c, struct xt_remote *r,
			   xpmem_segid_t segid)
{
	r->segid = segid;
	r->flags = XPMEM_RDWR;
	r->len = NPAGES * xt_pg();
	ASSERT_EQ(0, xt_remote_start(c, r));
}

/* A second open() shares the process's state: ids work across fds. */
TEST(second_fd_shares_process_state)
{
	char *buf = xt_region(NPAGES, 1);
	struct xpmem_cmd_make make = {
		.size = NPAGES * xt_pg(),
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
		.permit_value = 0600,
	};
	struct xpmem_cmd_get get = {
		.flags = XPMEM_GET_RDWR,
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
	};
	struct xpmem_cmd_attach att = { .size = NPAGES * xt_pg() };
	struct xpmem_cmd_remove rm;
	int fd1 = xt_open(), fd2 = xt_open();

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	make.vaddr = (uintptr_t)buf;
	ASSERT_EQ(0, xt_ioctl(fd1, XPMEM_CMD_MAKE, &make));
	get.segid = make.segid;
	ASSERT_EQ(0, xt_ioctl(fd2, XPMEM_CMD_GET, &get));
	att.apid = get.apid;
	ASSERT_EQ(0, xt_ioctl(fd1, XPMEM_CMD_ATTACH, &att));
	ASSERT_EQ(-1, xt_bad((char *)(uintptr_t)att.vaddr, att.size, 1));
	rm.segid = make.segid;
	ASSERT_EQ(0, xt_ioctl(fd2, XPMEM_CMD_REMOVE, &rm));
	ASSERT_EQ(-ENOENT, xt_ioctl(fd1, XPMEM_CMD_REMOVE, &rm));
}

/*
 * Closing a second fd destroys nothing: the segment stays exported (a peer
 * attaches it) and this process's own attachment keeps working.
 */
TEST(closing_second_fd_keeps_state)
{
	size_t len = NPAGES * xt_pg();
	char *buf = xt_region(NPAGES, 1);
	struct xt_remote r;
	struct xt_att own;
	struct xt_proc c;
	int fd;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, xt_make_get_attach(buf, len, XPMEM_RDWR, &own));
	fd = xt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(1, xt_dev_fds());
	ASSERT_EQ(-1, xt_bad(own.addr, len, 1));
	start_importer(_metadata, &c, &r, own.segid);
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_FILL, 0, 2));
	ASSERT_EQ(-1, xt_bad(own.addr, len, 2));
	ASSERT_EQ(0, xt_remote_quit(&c));
	ASSERT_LT(0, xpmem_get(own.segid, XPMEM_RDWR, XPMEM_PERMIT_MODE,
			       NULL));
}

/* Importer whose fds are all closed after it attached. */
static int closed_fd_importer(struct xt_proc *parent, void *arg)
{
	xpmem_segid_t segid = *(xpmem_segid_t *)arg;
	size_t len = NPAGES * xt_pg();
	struct xt_att a;
	int fd;

	XT_CHECK(xt_get_attach(segid, XPMEM_RDWR, 0, len, &a) == 0);
	while ((fd = xt_dev_fd()) >= 0)
		XT_CHECK(close(fd) == 0);
	XT_CHECK_EQ(-1, xt_bad(a.addr, len, 1));
	xt_fill(a.addr, len, 2);
	XT_CHECK(xt_send(parent, 1) == 0);
	XT_CHECK(xt_expect(parent, 2) == 0);
	XT_CHECK_EQ(-1, xt_bad(a.addr, len, 3));
	XT_CHECK(munmap(a.addr, len) == 0);
	return 0;
}

/* An importer's attachment outlives every fd it had open on the device. */
TEST(importer_attachment_outlives_its_fds)
{
	size_t len = NPAGES * xt_pg();
	char *buf = xt_region(NPAGES, 1);
	xpmem_segid_t segid;
	struct xt_proc c;

	ASSERT_NE(MAP_FAILED, buf);
	segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, xt_child(&c, closed_fd_importer, &segid));
	ASSERT_EQ(0, xt_expect(&c, 1));
	ASSERT_EQ(-1, xt_bad(buf, len, 2));
	xt_fill(buf, len, 3);
	ASSERT_EQ(0, xt_send(&c, 2));
	ASSERT_EQ(0, xt_wait(&c));
	ASSERT_EQ(-1, xt_bad(buf, len, 3));
}

/*
 * After the exporter is gone (@how: 0 exit, SIGKILL, or EXP_EXEC), the
 * importer gets SIGBUS on every page, dies of SIGBUS on an unprotected
 * access, and the segment and a permit got on it earlier give ENOENT.
 */
static void exporter_gone(struct __test_metadata *_metadata, int how)
{
	struct exporter e = { 0 };
	struct xpmem_addr addr = { .offset = 0 };
	struct xt_proc ep, c;
	struct xt_remote r;
	xpmem_segid_t segid;
	char *rbuf;
	size_t i;

	start_exporter(_metadata, &ep, &e, &segid, &rbuf);
	start_importer(_metadata, &c, &r, segid);
	addr.apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, addr.apid);
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));
	if (how == SIGKILL) {
		xt_kill(&ep);
	} else if (how == EXP_EXEC) {
		uint64_t v;
		char path[64], comm[32] = "";
		FILE *f;

		ASSERT_EQ(0, xt_ask_async(&ep, EXP_EXEC, 0, 0));
		ASSERT_EQ(-1, xt_recv(&ep, &v));	/* EOF: exec'd */
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)ep.pid);
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(comm, sizeof(comm), f));
		fclose(f);
		ASSERT_EQ(0, strcmp(comm, "cat\n"));
	} else {
		ASSERT_EQ(0, xt_remote_quit(&ep));
	}
	for (i = 0; i < NPAGES; i++) {
		ASSERT_EQ(SIGBUS, xt_ask(&c, XT_OP_READ_SIG, i, 0));
		ASSERT_EQ(SIGBUS, xt_ask(&c, XT_OP_WRITE_SIG, i, 0));
	}
	ASSERT_EQ(0, xt_ask_async(&c, XT_OP_TOUCH, 0, 0));
	ASSERT_EQ(XT_SIG(SIGBUS), xt_wait(&c));
	ASSERT_EQ(ENOENT, xt_err((long)xpmem_attach(addr, xt_pg(), NULL)));
	ASSERT_EQ(ENOENT, xt_err(xpmem_get(segid, XPMEM_RDWR,
					   XPMEM_PERMIT_MODE, NULL)));
	ASSERT_EQ(0, xpmem_release(addr.apid));
	if (ep.pid > 0)
		xt_kill(&ep);
}

/* Exporter exits: importers get SIGBUS on access, never a hang; ENOENT. */
TEST(exporter_exit_importer_gets_sigbus)
{
	exporter_gone(_metadata, 0);
}

/*
 * Exporter exits while a fork child keeps its /dev/xpmem file (and so its
 * segment) open: the exit itself (the mm's teardown) zaps the importer's
 * mappings, before the pages are freed; nothing waits for the file.
 */
TEST(exporter_exit_with_fd_kept_open_importer_gets_sigbus)
{
	struct exporter e = { 0 };
	struct xt_proc ep, c;
	struct xt_remote r;
	xpmem_segid_t segid;
	char *rbuf;
	uint64_t holder;
	size_t i;

	start_exporter(_metadata, &ep, &e, &segid, &rbuf);
	start_importer(_metadata, &c, &r, segid);
	holder = xt_ask(&ep, EXP_FORK_HOLDER, 0, 0);
	ASSERT_LT(0, (pid_t)holder);
	/* (after the fork, which write-protected and so zapped them) */
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));	/* all mapped */
	ASSERT_EQ(0, xt_remote_quit(&ep));
	for (i = 0; i < NPAGES; i++)
		EXPECT_EQ(SIGBUS, xt_ask(&c, XT_OP_READ_SIG, i, 0));
	kill((pid_t)holder, SIGKILL);
	ASSERT_EQ(0, xt_remote_quit(&c));
}

/* Exporter is SIGKILLed: the same as a normal exit. */
TEST(exporter_sigkill_importer_gets_sigbus)
{
	exporter_gone(_metadata, SIGKILL);
}

/* Exporter closes its only fd (no attachments): its segments are gone. */
TEST(exporter_closing_last_fd_importer_gets_sigbus)
{
	struct exporter e = { .raw = 1 };
	struct xpmem_addr addr = { .offset = 0 };
	struct xt_proc ep, c;
	struct xt_remote r;
	xpmem_segid_t segid;
	char *rbuf;

	start_exporter(_metadata, &ep, &e, &segid, &rbuf);
	start_importer(_metadata, &c, &r, segid);
	addr.apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	ASSERT_LT(0, addr.apid);
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_ask(&ep, EXP_CLOSE_FD, 0, 0));
	ASSERT_EQ(SIGBUS, xt_ask(&c, XT_OP_READ_SIG, 0, 0));
	ASSERT_EQ(SIGBUS, xt_ask(&c, XT_OP_READ_SIG, NPAGES - 1, 0));
	ASSERT_EQ(ENOENT, xt_err(xpmem_get(segid, XPMEM_RDWR,
					   XPMEM_PERMIT_MODE, NULL)));
	ASSERT_EQ(ENOENT, xt_err((long)xpmem_attach(addr, xt_pg(), NULL)));
	/* the exporter itself is unharmed */
	ASSERT_EQ(0, xt_ask(&ep, XT_OP_CHECK, 0, 1));
	ASSERT_EQ(0, xt_remote_quit(&ep));
	ASSERT_EQ(0, xt_remote_quit(&c));
}

/* Exporter execs (the library's fd is O_CLOEXEC): its segments are gone. */
TEST(exporter_exec_importer_gets_sigbus)
{
	exporter_gone(_metadata, EXP_EXEC);
}

/*
 * An importer that exits, or is SIGKILLed, holding attachments and
 * permits leaves the exporter untouched: its memory keeps the importer's
 * writes, and the segment serves the next importer and is removed normally.
 */
TEST(importer_exit_or_sigkill_leaves_exporter_untouched)
{
	size_t len = NPAGES * xt_pg();
	char *buf = xt_region(NPAGES, 1);
	struct xt_proc c1, c2, c3;
	struct xt_remote r;
	xpmem_segid_t segid;

	ASSERT_NE(MAP_FAILED, buf);
	segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	start_importer(_metadata, &c1, &r, segid);
	ASSERT_EQ(0, xt_ask(&c1, XT_OP_FILL, 0, 2));
	xt_kill(&c1);
	ASSERT_EQ(-1, xt_bad(buf, len, 2));
	xt_fill(buf, len, 3);
	start_importer(_metadata, &c2, &r, segid);
	ASSERT_EQ(0, xt_ask(&c2, XT_OP_CHECK, 0, 3));
	ASSERT_EQ(0, xt_ask(&c2, XT_OP_FILL, 0, 4));
	ASSERT_EQ(0, xt_remote_quit(&c2));
	ASSERT_EQ(-1, xt_bad(buf, len, 4));
	start_importer(_metadata, &c3, &r, segid);
	ASSERT_EQ(0, xt_ask(&c3, XT_OP_CHECK, 0, 4));
	ASSERT_EQ(0, xt_remote_quit(&c3));
	ASSERT_EQ(0, xpmem_remove(segid));
	ASSERT_EQ(-1, xt_bad(buf, len, 4));
}

/* The test process as importer of a remote exporter's NPAGES. */
FIXTURE(imp) {
	size_t pg, len;
	struct exporter e;
	struct xt_proc ep;
	xpmem_segid_t segid;
	char *rbuf;
	struct xt_att a;
};

FIXTURE_SETUP(imp)
{
	self->pg = xt_pg();
	self->len = NPAGES * self->pg;
	start_exporter(_metadata, &self->ep, &self->e, &self->segid,
		       &self->rbuf);
	ASSERT_EQ(0, xt_get_attach(self->segid, XPMEM_RDWR, 0, self->len,
				   &self->a));
	ASSERT_EQ(-1, xt_bad(self->a.addr, self->len, 1));
}

FIXTURE_TEARDOWN(imp)
{
	if (self->ep.pid > 0)
		EXPECT_EQ(0, xt_remote_quit(&self->ep));
}

/*
 * munmap of a whole attachment is an implicit detach: no signal, nothing
 * left mapped, detach then finds nothing, the permit is still good.
 */
TEST_F(imp, importer_munmap_whole_attachment_is_silent_detach)
{
	struct xpmem_addr addr = { self->a.apid, 0 };
	char *p;

	ASSERT_EQ(0, munmap(self->a.addr, self->len));
	ASSERT_EQ(0, xt_vma_len(self->a.addr));
	ASSERT_EQ(0, xpmem_detach(self->a.addr));
	p = xpmem_attach(addr, self->len, NULL);
	ASSERT_NE((void *)-1, p);
	ASSERT_EQ(-1, xt_bad(p, self->len, 1));
	ASSERT_EQ(0, xpmem_release(self->a.apid));
	ASSERT_EQ(0, xt_ask(&self->ep, XT_OP_CHECK, 0, 1));
}

/*
 * munmap of the head, a middle page and the tail of an attachment detaches
 * just those pages: no signal, the rest keeps reading and writing the
 * exporter, and detach of any remaining page unmaps all the pieces.
 */
TEST_F(imp, importer_partial_munmap_rest_keeps_working)
{
	char *p = self->a.addr;
	size_t pg = self->pg, i;

	ASSERT_EQ(0, munmap(p + 3 * pg, pg));
	ASSERT_EQ(0, munmap(p, pg));
	ASSERT_EQ(0, munmap(p + 7 * pg, pg));
	for (i = 0; i < NPAGES; i++) {
		int gone = i == 0 || i == 3 || i == 7;

		ASSERT_EQ(gone ? SIGSEGV : 0, xt_read_sig(p + i * pg));
		if (!gone)
			ASSERT_EQ(-1, xt_bad_at(p + i * pg, pg, 1, i * pg));
	}
	xt_fill_at(p + pg, 2 * pg, 2, pg);
	xt_fill_at(p + 4 * pg, 3 * pg, 2, 4 * pg);
	ASSERT_EQ(0, xt_ask(&self->ep, XT_OP_FILL, 0, 3));
	ASSERT_EQ(-1, xt_bad_at(p + pg, 2 * pg, 3, pg));
	ASSERT_EQ(-1, xt_bad_at(p + 4 * pg, 3 * pg, 3, 4 * pg));
	ASSERT_EQ(0, xpmem_detach(p + 5 * pg));
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(0, xt_vma_len(p + i * pg));
	ASSERT_EQ(0, xt_ask(&self->ep, XT_OP_CHECK, 0, 3));
}

/*
 * mremap of an attachment fails cleanly (EINVAL for a move, EFAULT for
 * growing it) and leaves it mapped and working where it was.
 */
TEST_F(imp, mremap_of_attachment_fails_and_attachment_works)
{
	char *p = self->a.addr, *dst = xt_region(2 * NPAGES, 0);
	void *ret;

	ASSERT_NE(MAP_FAILED, dst);
	ret = mremap(p, self->len, self->len, MREMAP_MAYMOVE | MREMAP_FIXED,
		     dst);
	ASSERT_EQ(MAP_FAILED, ret);
	ASSERT_EQ(EINVAL, errno);
	ret = mremap(p, self->len, 2 * self->len, 0);
	ASSERT_EQ(MAP_FAILED, ret);
	ASSERT_EQ(EFAULT, errno);
	ret = mremap(p, self->len, 2 * self->len, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, ret);
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(self->len, xt_vma_len(p));
	ASSERT_EQ(-1, xt_bad(p, self->len, 1));
	xt_fill(p, self->len, 2);
	ASSERT_EQ(0, xt_ask(&self->ep, XT_OP_CHECK, 0, 2));
	ASSERT_EQ(0, xt_ask(&self->ep, XT_OP_FILL, 0, 3));
	ASSERT_EQ(-1, xt_bad(p, self->len, 3));
	ASSERT_EQ(0, xpmem_detach(p));
	ASSERT_EQ(0, xt_vma_len(p));
}

/*
 * A hole in the exported range raises SIGBUS in the importer, which dies of
 * it on an unprotected access; the pages around it work.
 */
TEST(touching_a_hole_raises_sigbus)
{
	size_t pg = xt_pg(), len = 3 * pg;
	char *buf = xt_region(3, 1);
	struct xt_remote r;
	struct xt_proc c;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, munmap(buf + pg, pg));
	r.segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, r.segid);
	r.flags = XPMEM_RDWR;
	r.len = len;
	ASSERT_EQ(0, xt_remote_start(&c, &r));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK_PAGE, 0, 1));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_CHECK_PAGE, 2, 1));
	ASSERT_EQ(SIGBUS, xt_ask(&c, XT_OP_READ_SIG, 1, 0));
	ASSERT_EQ(SIGBUS, xt_ask(&c, XT_OP_WRITE_SIG, 1, 0));
	ASSERT_EQ(0, xt_ask(&c, XT_OP_FILL_PAGE, 2, 2));
	ASSERT_EQ(-1, xt_bad_at(buf + 2 * pg, pg, 2, 2 * pg));
	ASSERT_EQ(0, xt_ask_async(&c, XT_OP_TOUCH, 1, 0));
	ASSERT_EQ(XT_SIG(SIGBUS), xt_wait(&c));
	ASSERT_EQ(-1, xt_bad(buf, pg, 1));
}

/*
 * A whole-address-space export (make(0, XPMEM_MAXADDR_SIZE)) of another
 * process, attached at offset == its buffer's address, shows that buffer
 * both ways; an offset where it has nothing mapped is a hole (SIGBUS).
 */
TEST(whole_address_space_export_attached_at_remote_va)
{
	struct exporter e = { .whole = 1 };
	size_t pg = xt_pg(), len = NPAGES * pg;
	xpmem_segid_t segid;
	struct xt_proc ep;
	struct xt_att a, hole;
	char *rbuf;

	start_exporter(_metadata, &ep, &e, &segid, &rbuf);
	ASSERT_EQ(0, xt_get_attach(segid, XPMEM_RDWR, (off_t)(uintptr_t)rbuf,
				   len, &a));
	ASSERT_EQ(-1, xt_bad(a.addr, len, 1));
	xt_fill(a.addr, len, 2);
	ASSERT_EQ(0, xt_ask(&ep, XT_OP_CHECK, 0, 2));
	ASSERT_EQ(0, xt_ask(&ep, XT_OP_FILL, 0, 3));
	ASSERT_EQ(-1, xt_bad(a.addr, len, 3));
	/* page 0 of the address space is never mapped */
	ASSERT_EQ(0, xt_get_attach(segid, XPMEM_RDWR, 0, pg, &hole));
	ASSERT_EQ(SIGBUS, xt_read_sig(hole.addr));
	ASSERT_EQ(0, xt_remote_quit(&ep));
}

XT_MAIN
