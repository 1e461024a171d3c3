// SPDX-License-Identifier: LGPL-2.1-only
/*
 * libxpmem.c - user-space side of xpmem: one ioctl on /dev/xpmem per call.
 *
 * The device is opened lazily, once per process, with O_CLOEXEC; concurrent
 * first calls from several threads open it once. A fork child inherits the
 * parent's fd but not its xpmem state: the driver answers it with errno
 * XPMEM_ERRNO_NOPROC (2004), and we then open the device again (closing the
 * inherited fd) and retry once, which gives the child state of its own.
 *
 * Contract of every function: -1 (xpmem_attach: (void *)-1) with errno set
 * on failure, as in hpc/xpmem.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xpmem.h"
#include "uapi/xpmem_ioctl.h"

#define XPMEM_DEV_PATH "/dev/xpmem"

/* Exported like hpc/xpmem's, but not declared in xpmem.h (as there). */
int xpmem_init(void);
int xpmem_ioctl(int cmd, void *arg);

/*
 * The fd of /dev/xpmem, or -1. Written only under xpmem_fd_lock; read
 * without it by the fast path (an int load is atomic, and a stale value is
 * handled by the 2004 retry).
 */
static int xpmem_fd = -1;
static pthread_mutex_t xpmem_fd_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Open the device if @stale is the current fd (-1 at first use). Returns the
 * fd to use, or -1 with errno set. Closing the stale fd here is safe: it was
 * inherited from the parent and no attachment of ours refers to it.
 */
static int xpmem_reopen(int stale)
{
	struct stat st;
	int fd;

	pthread_mutex_lock(&xpmem_fd_lock);
	if (xpmem_fd != stale) {
		/* another thread opened it meanwhile */
		fd = xpmem_fd;
		goto out;
	}
	if (stat(XPMEM_DEV_PATH, &st) < 0) {
		fd = -1;
		goto out;
	}
	if (!S_ISCHR(st.st_mode)) {
		errno = ENODEV;
		fd = -1;
		goto out;
	}
	fd = open(XPMEM_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (stale >= 0)
		close(stale);
	xpmem_fd = fd;
out:
	pthread_mutex_unlock(&xpmem_fd_lock);
	return fd;
}

/**
 * xpmem_init() - open /dev/xpmem if this process has not yet.
 *
 * Exported (but not declared in xpmem.h) because hpc/xpmem exports it and
 * UCX's configure link-tests for it.
 *
 * Return: 0, or -1 with errno set (ENOENT: the module is not loaded).
 */
int xpmem_init(void)
{
	int fd = xpmem_fd;

	if (fd < 0)
		fd = xpmem_reopen(-1);
	return fd < 0 ? -1 : 0;
}

/**
 * xpmem_ioctl() - issue one xpmem ioctl, re-opening the device once if the
 * kernel says this process has no xpmem state (a fork child).
 * @cmd: XPMEM_CMD_*
 * @arg: the command's struct, or NULL
 *
 * Return: the ioctl's return value, or -1 with errno set.
 */
int xpmem_ioctl(int cmd, void *arg)
{
	int fd = xpmem_fd;
	int ret;

	if (fd < 0) {
		fd = xpmem_reopen(-1);
		if (fd < 0)
			return -1;
	}
	ret = ioctl(fd, (unsigned int)cmd, arg);
	if (ret == -1 && errno == XPMEM_ERRNO_NOPROC) {
		fd = xpmem_reopen(fd);
		if (fd < 0)
			return -1;
		ret = ioctl(fd, (unsigned int)cmd, arg);
	}
	return ret;
}

int xpmem_version(void)
{
	return xpmem_ioctl(XPMEM_CMD_VERSION, NULL);
}

xpmem_segid_t xpmem_make(void *vaddr, size_t size, int permit_type,
			 void *permit_value)
{
	struct xpmem_cmd_make make = {
		.vaddr = (uintptr_t)vaddr,
		.size = size,
		.permit_type = permit_type,
		.permit_value = (uintptr_t)permit_value,
	};

	if (xpmem_ioctl(XPMEM_CMD_MAKE, &make) == -1)
		return -1;
	return make.segid;
}

int xpmem_remove(xpmem_segid_t segid)
{
	struct xpmem_cmd_remove remove = { .segid = segid };

	return xpmem_ioctl(XPMEM_CMD_REMOVE, &remove) == -1 ? -1 : 0;
}

/*
 * permit_value is ignored and passed to the kernel as 0: Open MPI passes
 * (void *)0666 and MPICH (void *)0600 here, and hpc/xpmem's library has
 * always overwritten it.
 */
xpmem_apid_t xpmem_get(xpmem_segid_t segid, int flags, int permit_type,
		       void *permit_value)
{
	struct xpmem_cmd_get get = {
		.segid = segid,
		.flags = flags,
		.permit_type = permit_type,
		.permit_value = 0,
	};

	(void)permit_value;
	if (xpmem_ioctl(XPMEM_CMD_GET, &get) == -1)
		return -1;
	return get.apid;
}

int xpmem_release(xpmem_apid_t apid)
{
	struct xpmem_cmd_release release = { .apid = apid };

	return xpmem_ioctl(XPMEM_CMD_RELEASE, &release) == -1 ? -1 : 0;
}

void *xpmem_attach_flags(struct xpmem_addr addr, size_t size, void *vaddr,
			 int flags)
{
	struct xpmem_cmd_attach attach = {
		.apid = addr.apid,
		.offset = addr.offset,
		.size = size,
		.vaddr = (uintptr_t)vaddr,
		.fd = xpmem_fd,
		.flags = flags,
	};

	if (xpmem_ioctl(XPMEM_CMD_ATTACH, &attach) == -1)
		return (void *)-1;
	return (void *)(uintptr_t)attach.vaddr;
}

void *xpmem_attach(struct xpmem_addr addr, size_t size, void *vaddr)
{
	return xpmem_attach_flags(addr, size, vaddr, 0);
}

int xpmem_detach(void *vaddr)
{
	struct xpmem_cmd_detach detach = { .vaddr = (uintptr_t)vaddr };

	return xpmem_ioctl(XPMEM_CMD_DETACH, &detach) == -1 ? -1 : 0;
}
