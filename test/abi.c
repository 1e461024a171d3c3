// SPDX-License-Identifier: GPL-2.0
/*
 * abi.c - the ioctl ABI of /dev/xpmem, driven with raw ioctls.
 *
 * Struct sizes and every field offset (also checked at compile time, so a
 * layout change breaks the build), the command numbers, VERSION, unknown
 * commands (ENOTTY), unreadable and unwritable arguments (EFAULT, with the
 * operation undone), which fields the kernel writes back, FORK_BEGIN and
 * FORK_END, and mmap() of the device (EINVAL). Errno rows of each command
 * as seen through the library are in seg.c, perm.c and attach.c.
 */
#include "xpmem_test.h"

#define XT_OFF(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), \
		       #type "." #field " is at offset " #off)

_Static_assert(sizeof(struct xpmem_cmd_make) == 40, "make is 40 bytes");
_Static_assert(sizeof(struct xpmem_cmd_remove) == 8, "remove is 8 bytes");
_Static_assert(sizeof(struct xpmem_cmd_get) == 32, "get is 32 bytes");
_Static_assert(sizeof(struct xpmem_cmd_release) == 8, "release is 8 bytes");
_Static_assert(sizeof(struct xpmem_cmd_attach) == 40, "attach is 40 bytes");
_Static_assert(sizeof(struct xpmem_cmd_detach) == 8, "detach is 8 bytes");
XT_OFF(xpmem_cmd_make, vaddr, 0);
XT_OFF(xpmem_cmd_make, size, 8);
XT_OFF(xpmem_cmd_make, permit_type, 16);
XT_OFF(xpmem_cmd_make, __pad, 20);
XT_OFF(xpmem_cmd_make, permit_value, 24);
XT_OFF(xpmem_cmd_make, segid, 32);
XT_OFF(xpmem_cmd_remove, segid, 0);
XT_OFF(xpmem_cmd_get, segid, 0);
XT_OFF(xpmem_cmd_get, flags, 8);
XT_OFF(xpmem_cmd_get, permit_type, 12);
XT_OFF(xpmem_cmd_get, permit_value, 16);
XT_OFF(xpmem_cmd_get, apid, 24);
XT_OFF(xpmem_cmd_release, apid, 0);
XT_OFF(xpmem_cmd_attach, apid, 0);
XT_OFF(xpmem_cmd_attach, offset, 8);
XT_OFF(xpmem_cmd_attach, size, 16);
XT_OFF(xpmem_cmd_attach, vaddr, 24);
XT_OFF(xpmem_cmd_attach, fd, 32);
XT_OFF(xpmem_cmd_attach, flags, 36);
XT_OFF(xpmem_cmd_detach, vaddr, 0);

/* The commands that take a struct argument, with its size. */
static const struct {
	const char *name;
	unsigned long cmd;
	size_t size;
} xt_arg_cmds[] = {
	{ "MAKE", XPMEM_CMD_MAKE, sizeof(struct xpmem_cmd_make) },
	{ "REMOVE", XPMEM_CMD_REMOVE, sizeof(struct xpmem_cmd_remove) },
	{ "GET", XPMEM_CMD_GET, sizeof(struct xpmem_cmd_get) },
	{ "RELEASE", XPMEM_CMD_RELEASE, sizeof(struct xpmem_cmd_release) },
	{ "ATTACH", XPMEM_CMD_ATTACH, sizeof(struct xpmem_cmd_attach) },
	{ "DETACH", XPMEM_CMD_DETACH, sizeof(struct xpmem_cmd_detach) },
};

/* Lines in /proc/self/maps, read without stdio (which could mmap). */
static int maps_lines(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), n = 0;
	char buf[4096];
	ssize_t len, i;

	if (fd < 0)
		return -1;
	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < len; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

/* A raw fd, a 4-page exported buffer and an RDWR permit on it. */
FIXTURE(dev) {
	int fd;
	size_t pg;
	char *buf;
	int64_t segid;
	int64_t apid;
};

FIXTURE_SETUP(dev)
{
	struct xpmem_cmd_make make = { 0 };
	struct xpmem_cmd_get get = { 0 };

	self->pg = xt_pg();
	self->fd = xt_open();
	ASSERT_LE(0, self->fd);
	self->buf = xt_region(4, 1);
	ASSERT_NE(MAP_FAILED, self->buf);
	make.vaddr = (uintptr_t)self->buf;
	make.size = 4 * self->pg;
	make.permit_type = XPMEM_PERMIT_MODE_TYPE;
	make.permit_value = 0600;
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_MAKE, &make));
	ASSERT_LT(0, make.segid);
	self->segid = make.segid;
	get.segid = self->segid;
	get.flags = XPMEM_GET_RDWR;
	get.permit_type = XPMEM_PERMIT_MODE_TYPE;
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_GET, &get));
	ASSERT_LT(0, get.apid);
	self->apid = get.apid;
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

/* A valid ATTACH of the fixture's whole segment. */
static struct xpmem_cmd_attach good_attach(FIXTURE_DATA(dev) *self)
{
	struct xpmem_cmd_attach att = {
		.apid = self->apid,
		.offset = 0,
		.size = 4 * self->pg,
		.vaddr = 0,
		.fd = self->fd,
		.flags = 0,
	};

	return att;
}

/* Struct sizes are those of hpc/xpmem on LP64: 40, 8, 32, 8, 40, 8. */
TEST(struct_sizes_match_hpc_abi)
{
	ASSERT_EQ(40, sizeof(struct xpmem_cmd_make));
	ASSERT_EQ(8, sizeof(struct xpmem_cmd_remove));
	ASSERT_EQ(32, sizeof(struct xpmem_cmd_get));
	ASSERT_EQ(8, sizeof(struct xpmem_cmd_release));
	ASSERT_EQ(40, sizeof(struct xpmem_cmd_attach));
	ASSERT_EQ(8, sizeof(struct xpmem_cmd_detach));
}

/* MAKE: vaddr 0, size 8, permit_type 16, pad 20, permit_value 24, segid 32. */
TEST(make_field_offsets_match_hpc_abi)
{
	ASSERT_EQ(0, offsetof(struct xpmem_cmd_make, vaddr));
	ASSERT_EQ(8, offsetof(struct xpmem_cmd_make, size));
	ASSERT_EQ(16, offsetof(struct xpmem_cmd_make, permit_type));
	ASSERT_EQ(20, offsetof(struct xpmem_cmd_make, __pad));
	ASSERT_EQ(24, offsetof(struct xpmem_cmd_make, permit_value));
	ASSERT_EQ(32, offsetof(struct xpmem_cmd_make, segid));
}

/* GET: segid 0, flags 8, permit_type 12, permit_value 16, apid 24. */
TEST(get_field_offsets_match_hpc_abi)
{
	ASSERT_EQ(0, offsetof(struct xpmem_cmd_get, segid));
	ASSERT_EQ(8, offsetof(struct xpmem_cmd_get, flags));
	ASSERT_EQ(12, offsetof(struct xpmem_cmd_get, permit_type));
	ASSERT_EQ(16, offsetof(struct xpmem_cmd_get, permit_value));
	ASSERT_EQ(24, offsetof(struct xpmem_cmd_get, apid));
}

/* ATTACH: apid 0, offset 8, size 16, vaddr 24, fd 32, flags 36. */
TEST(attach_field_offsets_match_hpc_abi)
{
	ASSERT_EQ(0, offsetof(struct xpmem_cmd_attach, apid));
	ASSERT_EQ(8, offsetof(struct xpmem_cmd_attach, offset));
	ASSERT_EQ(16, offsetof(struct xpmem_cmd_attach, size));
	ASSERT_EQ(24, offsetof(struct xpmem_cmd_attach, vaddr));
	ASSERT_EQ(32, offsetof(struct xpmem_cmd_attach, fd));
	ASSERT_EQ(36, offsetof(struct xpmem_cmd_attach, flags));
}

/* REMOVE, RELEASE and DETACH carry their one field at offset 0. */
TEST(single_field_structs_have_it_at_offset_0)
{
	ASSERT_EQ(0, offsetof(struct xpmem_cmd_remove, segid));
	ASSERT_EQ(0, offsetof(struct xpmem_cmd_release, apid));
	ASSERT_EQ(0, offsetof(struct xpmem_cmd_detach, vaddr));
}

/* struct xpmem_addr of xpmem.h is { apid @0, offset @8 }, 16 bytes. */
TEST(xpmem_addr_layout_matches_hpc_abi)
{
	ASSERT_EQ(16, sizeof(struct xpmem_addr));
	ASSERT_EQ(0, offsetof(struct xpmem_addr, apid));
	ASSERT_EQ(8, offsetof(struct xpmem_addr, offset));
	ASSERT_EQ(8, sizeof(xpmem_segid_t));
	ASSERT_EQ(8, sizeof(xpmem_apid_t));
}

/* The constants of xpmem.h and xpmem_ioctl.h have hpc/xpmem's values. */
TEST(constants_match_hpc_abi)
{
	ASSERT_EQ(0x1, XPMEM_RDONLY);
	ASSERT_EQ(0x2, XPMEM_RDWR);
	ASSERT_EQ(0x1, XPMEM_PERMIT_MODE);
	ASSERT_EQ(2004, XPMEM_ERRNO_NOPROC);
	ASSERT_EQ(UINT64_MAX, (uint64_t)XPMEM_MAXADDR_SIZE);
	ASSERT_EQ(XPMEM_RDONLY, XPMEM_GET_RDONLY);
	ASSERT_EQ(XPMEM_RDWR, XPMEM_GET_RDWR);
	ASSERT_EQ(XPMEM_PERMIT_MODE, XPMEM_PERMIT_MODE_TYPE);
	ASSERT_EQ(3, XPMEM_VERSION_MAJOR(XT_VERSION));
	ASSERT_EQ(0, XPMEM_VERSION_MINOR(XT_VERSION));
	ASSERT_EQ(0, XPMEM_VERSION_PATCH(XT_VERSION));
	ASSERT_EQ(2, XPMEM_VERSION_MAJOR(0x00026005));
	ASSERT_EQ(6, XPMEM_VERSION_MINOR(0x00026005));
	ASSERT_EQ(5, XPMEM_VERSION_PATCH(0x00026005));
}

/* Commands are _IO('x', 0..8): 0x7800..0x7808 where _IOC_NONE is 0. */
TEST(command_numbers_are_0x7800_to_0x7808)
{
#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__)
	ASSERT_EQ(0x7800, XPMEM_CMD_VERSION);
	ASSERT_EQ(0x7801, XPMEM_CMD_MAKE);
	ASSERT_EQ(0x7802, XPMEM_CMD_REMOVE);
	ASSERT_EQ(0x7803, XPMEM_CMD_GET);
	ASSERT_EQ(0x7804, XPMEM_CMD_RELEASE);
	ASSERT_EQ(0x7805, XPMEM_CMD_ATTACH);
	ASSERT_EQ(0x7806, XPMEM_CMD_DETACH);
	ASSERT_EQ(0x7807, XPMEM_CMD_FORK_BEGIN);
	ASSERT_EQ(0x7808, XPMEM_CMD_FORK_END);
#else
	SKIP(return, "command values differ on this architecture");
#endif
}

/* VERSION returns 0x00030000 as the ioctl's return value. */
TEST_F(dev, version_ioctl_returns_0x00030000)
{
	ASSERT_EQ(XT_VERSION, xt_ioctl(self->fd, XPMEM_CMD_VERSION, NULL));
}

/* Numbers outside _IO('x', 0..8) are unknown commands: ENOTTY. */
TEST_F(dev, unknown_commands_fail_enotty)
{
	struct xpmem_cmd_make make = { 0 };

	ASSERT_EQ(-ENOTTY, xt_ioctl(self->fd, _IO('x', 9), &make));
	ASSERT_EQ(-ENOTTY, xt_ioctl(self->fd, _IO('x', 0xff), &make));
	ASSERT_EQ(-ENOTTY, xt_ioctl(self->fd, _IO('y', 1), &make));
	ASSERT_EQ(-ENOTTY, xt_ioctl(self->fd, 0, &make));
	ASSERT_EQ(-ENOTTY, xt_ioctl(self->fd,
				    _IOWR('x', 1, struct xpmem_cmd_make),
				    &make));
	ASSERT_EQ(-ENOTTY, xt_ioctl(self->fd,
				    _IOR('x', 0, int), &make));
}

/* A NULL or unmapped argument of any struct command: EFAULT. */
TEST_F(dev, unreadable_argument_fails_efault)
{
	char *none = xt_map(self->pg, PROT_NONE, MAP_PRIVATE, -1, 0);
	size_t i;

	ASSERT_NE(MAP_FAILED, none);
	for (i = 0; i < ARRAY_SIZE(xt_arg_cmds); i++) {
		TH_LOG("command %s", xt_arg_cmds[i].name);
		ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, xt_arg_cmds[i].cmd,
					    NULL));
		ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, xt_arg_cmds[i].cmd,
					    none));
		ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, xt_arg_cmds[i].cmd,
					    (void *)1));
	}
}

/*
 * A struct whose tail runs into an unmapped page is unreadable as a whole:
 * EFAULT, even though the leading fields could be read.
 */
TEST_F(dev, struct_straddling_unmapped_page_fails_efault)
{
	char *two = xt_map(2 * self->pg, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			   -1, 0);
	struct xpmem_cmd_make make = {
		.vaddr = (uintptr_t)self->buf,
		.size = self->pg,
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
		.permit_value = 0600,
	};
	struct xpmem_cmd_attach att = good_attach(self);
	char *tail;

	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, munmap(two + self->pg, self->pg));
	/* everything but the out field (the last 8 bytes) is readable */
	tail = two + self->pg - (sizeof(make) - 8);
	memcpy(tail, &make, sizeof(make) - 8);
	ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, XPMEM_CMD_MAKE, tail));
	tail = two + self->pg - 24;
	memcpy(tail, &att, 24);
	ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, XPMEM_CMD_ATTACH, tail));
}

/* MAKE with a read-only argument cannot return the segid: EFAULT. */
TEST_F(dev, make_unwritable_argument_fails_efault)
{
	struct xpmem_cmd_make *make;

	make = (void *)xt_map(self->pg, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			      -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)make);
	make->vaddr = (uintptr_t)self->buf;
	make->size = self->pg;
	make->permit_type = XPMEM_PERMIT_MODE_TYPE;
	make->permit_value = 0600;
	ASSERT_EQ(0, mprotect(make, self->pg, PROT_READ));
	ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, XPMEM_CMD_MAKE, make));
}

/* GET with a read-only argument cannot return the apid: EFAULT. */
TEST_F(dev, get_unwritable_argument_fails_efault)
{
	struct xpmem_cmd_get *get;

	get = (void *)xt_map(self->pg, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			     -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)get);
	get->segid = self->segid;
	get->flags = XPMEM_GET_RDWR;
	get->permit_type = XPMEM_PERMIT_MODE_TYPE;
	ASSERT_EQ(0, mprotect(get, self->pg, PROT_READ));
	ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, XPMEM_CMD_GET, get));
}

/*
 * ATTACH with a read-only argument cannot return the address: EFAULT, and
 * the mapping it made is undone (no new VMA).
 */
TEST_F(dev, attach_unwritable_argument_fails_efault_and_maps_nothing)
{
	struct xpmem_cmd_attach *att;
	int before;

	att = (void *)xt_map(self->pg, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			     -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)att);
	*att = good_attach(self);
	ASSERT_EQ(0, mprotect(att, self->pg, PROT_READ));
	before = maps_lines();
	ASSERT_LT(0, before);
	ASSERT_EQ(-EFAULT, xt_ioctl(self->fd, XPMEM_CMD_ATTACH, att));
	ASSERT_EQ(before, maps_lines());
}

/*
 * A successful MAKE writes only segid: the in fields, the padding and the
 * bytes after the struct are left as they were. The padding is ignored.
 */
TEST_F(dev, make_writes_back_only_segid_and_ignores_pad)
{
	struct {
		struct xpmem_cmd_make make;
		uint64_t canary;
	} arg = {
		.make = {
			.vaddr = (uintptr_t)self->buf,
			.size = 2 * self->pg,
			.permit_type = XPMEM_PERMIT_MODE_TYPE,
			.__pad = 0xdeadbeef,
			.permit_value = 0640,
			.segid = -77,
		},
		.canary = 0x0123456789abcdefULL,
	};

	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_MAKE, &arg.make));
	ASSERT_LT(0, arg.make.segid);
	ASSERT_NE(self->segid, arg.make.segid);
	ASSERT_EQ((uintptr_t)self->buf, arg.make.vaddr);
	ASSERT_EQ(2 * self->pg, arg.make.size);
	ASSERT_EQ(XPMEM_PERMIT_MODE_TYPE, arg.make.permit_type);
	ASSERT_EQ(0xdeadbeef, arg.make.__pad);
	ASSERT_EQ(0640, arg.make.permit_value);
	ASSERT_EQ(0x0123456789abcdefULL, arg.canary);
}

/* A successful GET writes only apid. */
TEST_F(dev, get_writes_back_only_apid)
{
	struct {
		struct xpmem_cmd_get get;
		uint64_t canary;
	} arg = {
		.get = {
			.segid = self->segid,
			.flags = XPMEM_GET_RDONLY,
			.permit_type = XPMEM_PERMIT_MODE_TYPE,
			.permit_value = 0,
			.apid = -77,
		},
		.canary = 0x0123456789abcdefULL,
	};

	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_GET, &arg.get));
	ASSERT_LT(0, arg.get.apid);
	ASSERT_NE(self->apid, arg.get.apid);
	ASSERT_EQ(self->segid, arg.get.segid);
	ASSERT_EQ(XPMEM_GET_RDONLY, arg.get.flags);
	ASSERT_EQ(XPMEM_PERMIT_MODE_TYPE, arg.get.permit_type);
	ASSERT_EQ(0, arg.get.permit_value);
	ASSERT_EQ(0x0123456789abcdefULL, arg.canary);
}

/*
 * A successful ATTACH writes only vaddr (a page-aligned address where the
 * segment's data is); the fd field is ignored (-1 or any number works).
 */
TEST_F(dev, attach_writes_back_only_vaddr_and_ignores_fd)
{
	struct {
		struct xpmem_cmd_attach att;
		uint64_t canary;
	} arg = {
		.att = good_attach(self),
		.canary = 0x0123456789abcdefULL,
	};
	int fds[] = { -1, 12345, self->fd };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		arg.att = good_attach(self);
		arg.att.fd = fds[i];
		arg.att.offset = (int64_t)self->pg;
		arg.att.size = self->pg;
		ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_ATTACH, &arg.att));
		ASSERT_NE(0, arg.att.vaddr);
		ASSERT_EQ(0, arg.att.vaddr % self->pg);
		ASSERT_EQ(self->apid, arg.att.apid);
		ASSERT_EQ((int64_t)self->pg, arg.att.offset);
		ASSERT_EQ(self->pg, arg.att.size);
		ASSERT_EQ(fds[i], arg.att.fd);
		ASSERT_EQ(0, arg.att.flags);
		ASSERT_EQ(0x0123456789abcdefULL, arg.canary);
		/* offset one page: the attachment shows the second page */
		ASSERT_EQ(-1, xt_bad_at((char *)(uintptr_t)arg.att.vaddr,
					self->pg, 1, self->pg));
	}
}

/* GET's permit_value must be 0 at the ioctl level: otherwise EINVAL. */
TEST_F(dev, get_nonzero_permit_value_fails_einval)
{
	struct xpmem_cmd_get get = {
		.segid = self->segid,
		.flags = XPMEM_GET_RDWR,
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
	};

	get.permit_value = 0600;
	ASSERT_EQ(-EINVAL, xt_ioctl(self->fd, XPMEM_CMD_GET, &get));
	get.permit_value = 1;
	ASSERT_EQ(-EINVAL, xt_ioctl(self->fd, XPMEM_CMD_GET, &get));
	get.permit_value = 1ULL << 63;
	ASSERT_EQ(-EINVAL, xt_ioctl(self->fd, XPMEM_CMD_GET, &get));
	get.permit_value = 0;
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_GET, &get));
}

/* FORK_BEGIN and FORK_END are accepted no-ops: 0, also repeated. */
TEST_F(dev, fork_begin_and_fork_end_return_0)
{
	struct xpmem_cmd_attach att = good_attach(self);

	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_FORK_BEGIN, NULL));
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_FORK_END, NULL));
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_FORK_END, NULL));
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_FORK_BEGIN, NULL));
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_FORK_BEGIN, NULL));
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_FORK_END, NULL));
	/* and the segment is still usable afterwards */
	ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_ATTACH, &att));
	ASSERT_EQ(-1, xt_bad((void *)(uintptr_t)att.vaddr, 4 * self->pg, 1));
}

/* FORK_BEGIN/END also work on a fresh fd with no segment made yet. */
TEST(fork_begin_end_on_fresh_fd_return_0)
{
	int fd = xt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xt_ioctl(fd, XPMEM_CMD_FORK_BEGIN, NULL));
	ASSERT_EQ(0, xt_ioctl(fd, XPMEM_CMD_FORK_END, NULL));
	close(fd);
}

/* mmap() of /dev/xpmem itself fails with EINVAL, shared or private. */
TEST_F(dev, mmap_of_device_fails_einval)
{
	void *p;

	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, self->pg, PROT_READ, MAP_PRIVATE, self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd,
		 (off_t)self->pg);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

/* Ids from the raw ioctls are positive and distinct. */
TEST_F(dev, raw_ids_are_positive_and_distinct)
{
	struct xpmem_cmd_make make = {
		.vaddr = (uintptr_t)self->buf,
		.size = self->pg,
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
		.permit_value = 0600,
	};
	struct xpmem_cmd_get get = {
		.flags = XPMEM_GET_RDWR,
		.permit_type = XPMEM_PERMIT_MODE_TYPE,
	};
	int64_t prev_seg = self->segid, prev_ap = self->apid;
	int i;

	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_MAKE, &make));
		ASSERT_LT(0, make.segid);
		ASSERT_NE(prev_seg, make.segid);
		get.segid = make.segid;
		ASSERT_EQ(0, xt_ioctl(self->fd, XPMEM_CMD_GET, &get));
		ASSERT_LT(0, get.apid);
		ASSERT_NE(prev_ap, get.apid);
		prev_seg = make.segid;
		prev_ap = get.apid;
	}
}

XT_MAIN
