// SPDX-License-Identifier: GPL-2.0
/*
 * lib.c - libxpmem's own behaviour, beyond passing ioctls through.
 *
 * xpmem_version() is 0x00030000; xpmem_init and xpmem_ioctl are exported
 * (hpc/xpmem exports them and UCX's configure links against xpmem_init);
 * failures are -1 (attach: (void *)-1, never NULL) with errno; xpmem_get
 * ignores permit_value as Open MPI and MPICH pass a mode there; the device
 * is opened once, lazily, O_CLOEXEC, even by many threads at once; without
 * /dev/xpmem the calls fail with ENOENT.
 */
#include "xpmem_test.h"

#include <sched.h>
#include <sys/mount.h>

/* Exported by libxpmem.so but, as in hpc/xpmem, not declared in xpmem.h. */
int xpmem_init(void);
int xpmem_ioctl(int cmd, void *arg);

/* xpmem_version() returns 0x00030000 (3.0.0). */
TEST(version_is_0x00030000)
{
	int v = xpmem_version();

	ASSERT_EQ(XT_VERSION, v);
	ASSERT_EQ(3, XPMEM_VERSION_MAJOR(v));
	ASSERT_EQ(0, XPMEM_VERSION_MINOR(v));
	ASSERT_EQ(0, XPMEM_VERSION_PATCH(v));
}

/* xpmem_init() is exported, returns 0 and opens the device once. */
TEST(init_exported_opens_device_once)
{
	ASSERT_EQ(0, xt_dev_fds());
	ASSERT_EQ(0, xpmem_init());
	ASSERT_EQ(1, xt_dev_fds());
	ASSERT_EQ(0, xpmem_init());
	ASSERT_EQ(XT_VERSION, xpmem_version());
	ASSERT_EQ(1, xt_dev_fds());
}

/* xpmem_ioctl() is exported and issues the command it is given. */
TEST(ioctl_exported_issues_command)
{
	struct xpmem_cmd_make make = {
		.size = xt_pg(),
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
		.permit_value = 0600,
	};
	char *buf = xt_region(1, 1);

	ASSERT_NE(MAP_FAILED, buf);
	make.vaddr = (uintptr_t)buf;
	ASSERT_EQ(XT_VERSION, xpmem_ioctl(XPMEM_CMD_VERSION, NULL));
	ASSERT_EQ(0, xpmem_ioctl(XPMEM_CMD_MAKE, &make));
	ASSERT_LT(0, make.segid);
	ASSERT_EQ(0, xpmem_remove(make.segid));
	ASSERT_EQ(-1, xpmem_ioctl(_IO('x', 9), NULL));
	ASSERT_EQ(ENOTTY, errno);
}

/* The device fd the library opens is close-on-exec. */
TEST(device_fd_is_cloexec)
{
	int fd;

	ASSERT_EQ(XT_VERSION, xpmem_version());
	fd = xt_dev_fd();
	ASSERT_LE(0, fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* A failed xpmem_attach returns (void *)-1, not NULL, and sets errno. */
TEST(attach_failure_returns_minus_one_pointer)
{
	struct xpmem_addr addr = { INT64_MAX, 0 };
	void *p;

	errno = 0;
	p = xpmem_attach(addr, xt_pg(), NULL);
	ASSERT_EQ((void *)-1, p);
	ASSERT_EQ(ENOENT, errno);
	addr.apid = 0;
	p = xpmem_attach(addr, xt_pg(), NULL);
	ASSERT_EQ((void *)-1, p);
	ASSERT_EQ(EINVAL, errno);
}

/* Failures of the other calls return exactly -1 and set errno. */
TEST(failures_return_minus_one_with_errno)
{
	char *buf = xt_region(1, 1);

	ASSERT_NE(MAP_FAILED, buf);
	errno = 0;
	ASSERT_EQ(-1, xpmem_make(buf + 1, xt_pg(), XPMEM_PERMIT_MODE,
				 XT_MODE(0600)));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_EQ(-1, xpmem_remove(INT64_MAX));
	ASSERT_EQ(ENOENT, errno);
	errno = 0;
	ASSERT_EQ(-1, xpmem_get(INT64_MAX, XPMEM_RDWR, XPMEM_PERMIT_MODE,
				NULL));
	ASSERT_EQ(ENOENT, errno);
	errno = 0;
	ASSERT_EQ(-1, xpmem_release(0));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_EQ(-1, xpmem_detach(buf));
	ASSERT_EQ(EINVAL, errno);
}

/*
 * xpmem_get ignores permit_value: Open MPI passes (void *)0666, MPICH
 * (void *)0600; both work (the kernel would refuse a non-zero value).
 */
TEST(get_ignores_permit_value)
{
	void *values[] = { NULL, XT_MODE(0666), XT_MODE(0600), XT_MODE(1),
			   (void *)-1L };
	char *buf = xt_region(1, 1);
	xpmem_segid_t segid;
	struct xpmem_addr addr = { .offset = 0 };
	size_t i;
	char *p;

	ASSERT_NE(MAP_FAILED, buf);
	segid = xpmem_make(buf, xt_pg(), XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	for (i = 0; i < ARRAY_SIZE(values); i++) {
		addr.apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE,
				      values[i]);
		ASSERT_LT(0, addr.apid);
		p = xpmem_attach(addr, xt_pg(), NULL);
		ASSERT_NE((void *)-1, p);
		ASSERT_EQ(-1, xt_bad(p, xt_pg(), 1));
	}
}

struct first_use {
	pthread_barrier_t *go;
	int version;
};

static void *first_use_thread(void *arg)
{
	struct first_use *u = arg;

	pthread_barrier_wait(u->go);
	u->version = xpmem_version();
	return NULL;
}

/* Many threads making their first library call at once open one fd. */
TEST(concurrent_first_use_opens_one_fd)
{
	enum { NTHREADS = 16 };
	struct first_use u[NTHREADS];
	pthread_t tid[NTHREADS];
	pthread_barrier_t go;
	int i;

	ASSERT_EQ(0, xt_dev_fds());
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, NTHREADS));
	for (i = 0; i < NTHREADS; i++) {
		u[i] = (struct first_use){ &go, 0 };
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, first_use_thread,
					    &u[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(XT_VERSION, u[i].version);
	ASSERT_EQ(1, xt_dev_fds());
}

struct child_first_use {
	pthread_barrier_t *go;
	xpmem_segid_t segid;
	int ok;
};

static void *child_first_use_thread(void *arg)
{
	struct child_first_use *u = arg;
	xpmem_apid_t apid;

	pthread_barrier_wait(u->go);
	apid = xpmem_get(u->segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	u->ok = apid > 0 && xpmem_release(apid) == 0;
	return NULL;
}

/* Fork child: many threads hit the 2004 re-open path at once. */
static int threaded_child(struct xt_proc *parent, void *arg)
{
	enum { NTHREADS = 8 };
	struct child_first_use u[NTHREADS];
	pthread_t tid[NTHREADS];
	pthread_barrier_t go;
	int i;

	XT_CHECK_EQ(1, xt_dev_fds());
	XT_CHECK(pthread_barrier_init(&go, NULL, NTHREADS) == 0);
	for (i = 0; i < NTHREADS; i++) {
		u[i] = (struct child_first_use){ &go, *(xpmem_segid_t *)arg,
						 0 };
		XT_CHECK(pthread_create(&tid[i], NULL, child_first_use_thread,
					&u[i]) == 0);
	}
	for (i = 0; i < NTHREADS; i++)
		XT_CHECK(pthread_join(tid[i], NULL) == 0);
	for (i = 0; i < NTHREADS; i++)
		XT_CHECK_EQ(1, u[i].ok);
	XT_CHECK_EQ(1, xt_dev_fds());
	return 0;
}

/*
 * In a fork child, threads racing through the 2004 re-open path all
 * succeed and leave exactly one fd (the stale one closed).
 */
TEST(fork_child_threads_reopen_once)
{
	char *buf = xt_region(1, 1);
	xpmem_segid_t segid;

	ASSERT_NE(MAP_FAILED, buf);
	segid = xpmem_make(buf, xt_pg(), XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	ASSERT_EQ(0, xt_run(threaded_child, &segid));
}

/* Child: hide /dev/xpmem in a private mount namespace, then use the lib. */
static int no_device_child(struct xt_proc *parent, void *arg)
{
	XT_CHECK(unshare(CLONE_NEWNS) == 0);
	XT_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	XT_CHECK(mount("none", "/dev", "tmpfs", 0, NULL) == 0);
	errno = 0;
	XT_CHECK_EQ(-1, xpmem_init());
	XT_CHECK_EQ(ENOENT, errno);
	errno = 0;
	XT_CHECK_EQ(-1, xpmem_version());
	XT_CHECK_EQ(ENOENT, errno);
	XT_CHECK_EQ(-1, xpmem_make(NULL, XPMEM_MAXADDR_SIZE,
				   XPMEM_PERMIT_MODE, XT_MODE(0600)));
	XT_CHECK_EQ(ENOENT, errno);
	return 0;
}

/* Without /dev/xpmem (module not loaded) every call fails with ENOENT. */
TEST(no_device_calls_fail_enoent)
{
	if (geteuid() != 0)
		SKIP(return, "needs root for a private mount namespace");
	ASSERT_EQ(0, xt_run(no_device_child, NULL));
}

XT_MAIN
