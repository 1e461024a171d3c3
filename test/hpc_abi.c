// SPDX-License-Identifier: GPL-2.0
/*
 * hpc_abi.c - a program built the way it would be on an hpc/xpmem system
 * runs unchanged against our library and module.
 *
 * This binary is linked against hpc_compat/libxpmem_stub.c: soname
 * libxpmem.so.0 with hpc/xpmem's nine unversioned symbols. At run time its
 * rpath loads our libxpmem.so.0 instead. Its raw ioctls use hpc/xpmem's own
 * struct shapes (size_t, off_t and int fields with implicit padding, from
 * hpc's xpmem_internal.h as described in the reference), not our uapi header.
 * The calls follow what Open MPI and UCX do.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "xpmem_test.h"

/* Exported by hpc/xpmem's library, not declared in its header. */
int xpmem_init(void);
int xpmem_ioctl(int cmd, void *arg);

/* hpc/xpmem's ioctl structs, in its C types (LP64). */
struct hpc_cmd_make {
	__u64 vaddr;
	size_t size;
	int permit_type;
	__u64 permit_value;
	xpmem_segid_t segid;
};

struct hpc_cmd_get {
	xpmem_segid_t segid;
	int flags;
	int permit_type;
	__u64 permit_value;
	xpmem_apid_t apid;
};

struct hpc_cmd_attach {
	xpmem_apid_t apid;
	off_t offset;
	size_t size;
	__u64 vaddr;
	int fd;
	int flags;
};

struct hpc_cmd_id {		/* remove, release, detach */
	__s64 id;
};

#define HPC_CMD_VERSION	_IO('x', 0)
#define HPC_CMD_MAKE	_IO('x', 1)
#define HPC_CMD_REMOVE	_IO('x', 2)
#define HPC_CMD_GET	_IO('x', 3)
#define HPC_CMD_RELEASE	_IO('x', 4)
#define HPC_CMD_ATTACH	_IO('x', 5)
#define HPC_CMD_DETACH	_IO('x', 6)

/* Open MPI attaches 8 MiB aligned windows of a whole-address-space export. */
#define OMPI_ALIGN	(8UL << 20)

/* The unversioned references of this binary resolve into our library. */
TEST(hpc_built_binary_binds_to_our_libxpmem)
{
	Dl_info info;

	ASSERT_NE(0, dladdr((void *)xpmem_make, &info));
	ASSERT_EQ(NULL, strstr(info.dli_fname, "hpc_stub"));
	ASSERT_NE(NULL, strstr(info.dli_fname, "libxpmem.so.0"));
	ASSERT_NE(NULL, dlsym(RTLD_DEFAULT, "xpmem_init"));
	ASSERT_EQ(0, xpmem_init());
	ASSERT_EQ(XT_VERSION, xpmem_version());
}

/* Importer: get with a mode as Open MPI does, attach the window, write. */
static int ompi_importer(struct xt_proc *parent, void *arg)
{
	uint64_t segid, src;
	struct xpmem_addr addr;
	xpmem_apid_t apid;
	uintptr_t base;
	char *win;

	(void)arg;
	XT_CHECK(xt_recv(parent, &segid) == 0);
	XT_CHECK(xt_recv(parent, &src) == 0);
	apid = xpmem_get((xpmem_segid_t)segid, XPMEM_RDWR, XPMEM_PERMIT_MODE,
			 (void *)0666);
	XT_CHECK(apid > 0);
	base = src & ~(OMPI_ALIGN - 1);
	addr.apid = apid;
	addr.offset = (off_t)base;
	win = xpmem_attach(addr, OMPI_ALIGN, NULL);
	XT_CHECK(win != (void *)-1);
	XT_CHECK_EQ('E', win[src - base]);
	win[src - base] = 'I';
	XT_CHECK_EQ(0, xpmem_detach(win));
	XT_CHECK_EQ(0, xpmem_release(apid));
	XT_CHECK(xt_send(parent, 1) == 0);
	return 0;
}

/* Open MPI's pattern: export everything with 0666, peers attach windows. */
TEST(ompi_whole_address_space_export_and_window_attach)
{
	struct xt_proc child;
	xpmem_segid_t segid;
	char *buf;

	buf = xt_region(4, 0);
	ASSERT_NE(MAP_FAILED, buf);
	buf[100] = 'E';
	segid = xpmem_make(0, XPMEM_MAXADDR_SIZE, XPMEM_PERMIT_MODE,
			   (void *)0666);
	ASSERT_GT(segid, 0);
	ASSERT_EQ(0, xt_child(&child, ompi_importer, NULL));
	ASSERT_EQ(0, xt_send(&child, (uint64_t)segid));
	ASSERT_EQ(0, xt_send(&child, (uint64_t)(uintptr_t)&buf[100]));
	ASSERT_EQ(0, xt_expect(&child, 1));
	ASSERT_EQ(0, xt_wait(&child));
	ASSERT_EQ('I', buf[100]);
	ASSERT_EQ(0, xpmem_remove(segid));
}

/* Raw ioctls through xpmem_ioctl() with hpc/xpmem's struct shapes. */
TEST(raw_ioctls_with_hpc_struct_layouts)
{
	struct hpc_cmd_make make = {
		.permit_type = XPMEM_PERMIT_MODE, .permit_value = 0600,
	};
	struct hpc_cmd_get get = {
		.flags = XPMEM_RDWR, .permit_type = XPMEM_PERMIT_MODE,
	};
	struct hpc_cmd_attach attach = { 0 };
	struct hpc_cmd_id id;
	size_t len = 2 * xt_pg();
	char *buf, *p;

	ASSERT_EQ(40, sizeof(make));
	ASSERT_EQ(32, sizeof(get));
	ASSERT_EQ(40, sizeof(attach));
	ASSERT_EQ(XT_VERSION, xpmem_ioctl(HPC_CMD_VERSION, NULL));

	buf = xt_region(2, 7);
	ASSERT_NE(MAP_FAILED, buf);
	make.vaddr = (uintptr_t)buf;
	make.size = len;
	ASSERT_EQ(0, xpmem_ioctl(HPC_CMD_MAKE, &make));
	ASSERT_GT(make.segid, 0);

	get.segid = make.segid;
	ASSERT_EQ(0, xpmem_ioctl(HPC_CMD_GET, &get));
	ASSERT_GT(get.apid, 0);

	attach.apid = get.apid;
	attach.size = len;
	ASSERT_EQ(0, xpmem_ioctl(HPC_CMD_ATTACH, &attach));
	p = (char *)(uintptr_t)attach.vaddr;
	ASSERT_EQ(-1, xt_bad(p, len, 7));
	p[1] = 'x';
	ASSERT_EQ('x', buf[1]);

	id.id = (__s64)(uintptr_t)p;
	ASSERT_EQ(0, xpmem_ioctl(HPC_CMD_DETACH, &id));
	id.id = get.apid;
	ASSERT_EQ(0, xpmem_ioctl(HPC_CMD_RELEASE, &id));
	id.id = make.segid;
	ASSERT_EQ(0, xpmem_ioctl(HPC_CMD_REMOVE, &id));
}

XT_MAIN
