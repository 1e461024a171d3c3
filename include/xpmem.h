/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xpmem.h - the libxpmem API: export part of your address space, attach
 * another process's export and load/store into it directly.
 *
 * A drop-in for the hpc/xpmem header: the same types, macros, enum and
 * prototypes, so programs built against hpc/xpmem (Open MPI, UCX, MPICH)
 * build and run unchanged. Every call is described in its man page and in
 * README.md ("API"). In short:
 *
 *	exporter:  segid = xpmem_make(buf, len, XPMEM_PERMIT_MODE, (void *)0600);
 *	importer:  apid  = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
 *		   addr.apid = apid; addr.offset = 0;
 *		   p = xpmem_attach(addr, len, NULL);	   (void *)-1 on failure
 *		   ... load/store through p ...
 *		   xpmem_detach(p); xpmem_release(apid);
 *	exporter:  xpmem_remove(segid);
 *
 * Every function returns -1 (xpmem_attach: (void *)-1) and sets errno on
 * failure.
 */
#ifndef XPMEM_H
#define XPMEM_H

#include <linux/types.h>
#ifndef __KERNEL__
#include <sys/types.h>
#endif

typedef __s64 xpmem_segid_t;	/* segment id returned by xpmem_make() */
typedef __s64 xpmem_apid_t;	/* access permit id returned by xpmem_get() */

/* An address in another process's segment: permit plus byte offset. */
struct xpmem_addr {
	xpmem_apid_t apid;	/* apid that refers to the segment */
	off_t offset;		/* byte offset into the segment */
};

/* Size that exports everything from vaddr up to the end of user space. */
#define XPMEM_MAXADDR_SIZE	(size_t)(-1L)

/* errno for "this process has no xpmem state yet" (e.g. after fork()). */
#define XPMEM_ERRNO_NOPROC	2004

/* Access wanted by xpmem_get(). */
#define XPMEM_RDONLY		0x1
#define XPMEM_RDWR		0x2

/* Kind of permit_value; an enum, as in hpc/xpmem (so #ifdef is false). */
enum {
	XPMEM_PERMIT_MODE = 0x1,	/* permit_value is a mode, e.g. 0600 */
};

/*
 * Additions to the hpc/xpmem API. Each is announced by an XPMEM_HAVE_*
 * macro, so that portable code can test for it with #ifdef.
 */
#define XPMEM_HAVE_ATTACH_FLAGS	1
#define XPMEM_ATTACH_POPULATE	0x1	/* map the whole range at attach */

#ifndef __KERNEL__
#ifdef __cplusplus
extern "C" {
#endif

int xpmem_version(void);
xpmem_segid_t xpmem_make(void *vaddr, size_t size, int permit_type,
			 void *permit_value);
int xpmem_remove(xpmem_segid_t segid);
xpmem_apid_t xpmem_get(xpmem_segid_t segid, int flags, int permit_type,
		       void *permit_value);
int xpmem_release(xpmem_apid_t apid);
void *xpmem_attach(struct xpmem_addr addr, size_t size, void *vaddr);
int xpmem_detach(void *vaddr);

/*
 * xpmem_attach() with @flags: XPMEM_ATTACH_POPULATE maps every page of the
 * range that the exporter has (faulting in those it has not touched yet)
 * before returning, so first accesses take no page fault. Fails with
 * EINVAL on a kernel module that does not know a flag.
 */
void *xpmem_attach_flags(struct xpmem_addr addr, size_t size, void *vaddr,
			 int flags);

#ifdef __cplusplus
}
#endif
#endif /* !__KERNEL__ */

#endif /* XPMEM_H */
