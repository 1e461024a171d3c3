/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xpmem_ioctl.h - the kernel <-> library ABI of /dev/xpmem.
 *
 * This is the only interface between xpmem.ko and libxpmem. It is a
 * bit-for-bit copy of the hpc/xpmem ABI (command numbers, struct sizes and
 * field offsets), re-expressed with fixed-width types so that a 32-bit and a
 * 64-bit process see the same layout and compat_ioctl needs no translation.
 *
 * The legacy commands are _IO('x', 0..8). _IO encodes neither size nor
 * direction; that is a mistake of the original ABI that we keep on purpose,
 * because Open MPI, UCX and MPICH binaries built against hpc/xpmem issue
 * exactly these numbers. New commands, if any, will be _IOWR with a flags
 * word; they will never reuse numbers 0..8.
 */
#ifndef _UAPI_XPMEM_IOCTL_H
#define _UAPI_XPMEM_IOCTL_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define XPMEM_IOC_MAGIC		'x'

#define XPMEM_CMD_VERSION	_IO(XPMEM_IOC_MAGIC, 0)	/* returns the version */
#define XPMEM_CMD_MAKE		_IO(XPMEM_IOC_MAGIC, 1)	/* struct xpmem_cmd_make */
#define XPMEM_CMD_REMOVE	_IO(XPMEM_IOC_MAGIC, 2)	/* struct xpmem_cmd_remove */
#define XPMEM_CMD_GET		_IO(XPMEM_IOC_MAGIC, 3)	/* struct xpmem_cmd_get */
#define XPMEM_CMD_RELEASE	_IO(XPMEM_IOC_MAGIC, 4)	/* struct xpmem_cmd_release */
#define XPMEM_CMD_ATTACH	_IO(XPMEM_IOC_MAGIC, 5)	/* struct xpmem_cmd_attach */
#define XPMEM_CMD_DETACH	_IO(XPMEM_IOC_MAGIC, 6)	/* struct xpmem_cmd_detach */
#define XPMEM_CMD_FORK_BEGIN	_IO(XPMEM_IOC_MAGIC, 7)	/* no argument, a no-op */
#define XPMEM_CMD_FORK_END	_IO(XPMEM_IOC_MAGIC, 8)	/* no argument, a no-op */

/*
 * Version returned (as the positive ioctl return value) by XPMEM_CMD_VERSION:
 * bits 27..16 major, 15..12 minor, 11..0 patch, as in hpc/xpmem ("2.6.5" is
 * 0x00026005). This generation reports 3.0.
 */
#define XPMEM_VERSION_MAJOR(v)	(((v) >> 16) & 0xfff)
#define XPMEM_VERSION_MINOR(v)	(((v) >> 12) & 0xf)
#define XPMEM_VERSION_PATCH(v)	((v) & 0xfff)

/* Errno of MAKE/GET/... from a process that has no xpmem state of its own. */
#define XPMEM_ERRNO_NOPROC	2004

/* permit_type of MAKE and GET; the only one defined. */
#define XPMEM_PERMIT_MODE_TYPE	1

/* flags of GET */
#define XPMEM_GET_RDONLY	0x1
#define XPMEM_GET_RDWR		0x2

/*
 * All structs: in fields are read with one copy_from_user of the whole
 * struct; on success only the out field is written back, at its offset.
 * Sizes and offsets are pinned by BUILD_BUG_ON in the module and by
 * test/abi.c.
 */

/* 40 bytes */
struct xpmem_cmd_make {
	__u64 vaddr;		/* in: start of the range, page aligned */
	__u64 size;		/* in: bytes, page aligned, or ~0 with vaddr 0 */
	__s32 permit_type;	/* in: XPMEM_PERMIT_MODE_TYPE */
	__u32 __pad;		/* ignored: the original ABI had implicit padding here */
	__u64 permit_value;	/* in: mode bits, subset of 0777 */
	__s64 segid;		/* out */
};

/* 8 bytes */
struct xpmem_cmd_remove {
	__s64 segid;		/* in */
};

/* 32 bytes */
struct xpmem_cmd_get {
	__s64 segid;		/* in */
	__s32 flags;		/* in: XPMEM_GET_RDONLY or XPMEM_GET_RDWR */
	__s32 permit_type;	/* in: XPMEM_PERMIT_MODE_TYPE */
	__u64 permit_value;	/* in: must be 0 (the library forces it) */
	__s64 apid;		/* out */
};

/* 8 bytes */
struct xpmem_cmd_release {
	__s64 apid;		/* in */
};

/* flags of ATTACH (hpc/xpmem ignored the field; its library passes 0) */
#define XPMEM_ATTACH_POPULATE	0x1	/* map what the source has, now */
#define XPMEM_ATTACH_FLAGS	XPMEM_ATTACH_POPULATE

/* 40 bytes */
struct xpmem_cmd_attach {
	__s64 apid;		/* in */
	__s64 offset;		/* in: byte offset into the segment, page aligned */
	__u64 size;		/* in: bytes, rounded up to whole pages */
	__u64 vaddr;		/* in: wanted address or 0; out: attached address */
	__s32 fd;		/* in: ignored (kept for Cray XPMEM compatibility) */
	__s32 flags;		/* in: XPMEM_ATTACH_*; other bits: EINVAL */
};

/* 8 bytes */
struct xpmem_cmd_detach {
	__u64 vaddr;		/* in: any address inside the attachment */
};

#endif /* _UAPI_XPMEM_IOCTL_H */
