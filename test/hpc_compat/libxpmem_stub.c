// SPDX-License-Identifier: GPL-2.0
/*
 * libxpmem_stub.c - a link-time stand-in for hpc/xpmem's libxpmem.so.0.
 *
 * hpc/xpmem builds its library with libtool and no symbol versions. The
 * hpc_abi test is linked against this stub, which has the same soname and
 * the same nine unversioned symbols, exactly as a program built on an
 * hpc/xpmem system would be; at run time it then loads our libxpmem.so.0
 * instead, proving such binaries run unchanged. Nothing here ever runs.
 */
#include <stddef.h>
#include <sys/types.h>

#include "xpmem.h"

int xpmem_init(void);
int xpmem_ioctl(int cmd, void *arg);

int xpmem_init(void) { return -1; }
int xpmem_ioctl(int cmd, void *arg) { (void)cmd; (void)arg; return -1; }
int xpmem_version(void) { return -1; }
xpmem_segid_t xpmem_make(void *v, size_t s, int t, void *p)
{ (void)v; (void)s; (void)t; (void)p; return -1; }
int xpmem_remove(xpmem_segid_t s) { (void)s; return -1; }
xpmem_apid_t xpmem_get(xpmem_segid_t s, int f, int t, void *p)
{ (void)s; (void)f; (void)t; (void)p; return -1; }
int xpmem_release(xpmem_apid_t a) { (void)a; return -1; }
void *xpmem_attach(struct xpmem_addr a, size_t s, void *v)
{ (void)a; (void)s; (void)v; return (void *)-1; }
int xpmem_detach(void *v) { (void)v; return -1; }
