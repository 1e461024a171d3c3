// SPDX-License-Identifier: GPL-2.0
/*
 * roundtrip.c - smoke test of an installed xpmem: built against the
 * installed xpmem.h and libxpmem (pkg-config cray-xpmem), it checks
 * xpmem_version() and does one make/get/attach/detach round trip: a child
 * attaches the parent's exported page, checks what the parent wrote and
 * writes back; the parent sees the child's bytes in its own buffer.
 *
 *   roundtrip [MAJOR.MINOR.PATCH]   expected release (from VERSION)
 *
 * Exit status: 0 passed, 1 failed, 77 skipped (no /dev/xpmem: the module is
 * not loaded, as on most package build machines).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xpmem.h>

#define RT_SIZE 8192

static int fail(const char *what)
{
	printf("roundtrip: FAILED: %s (errno %d: %s)\n", what, errno,
	       strerror(errno));
	return 1;
}

/* The child: attach the parent's segment, check it, write to it. */
static int child(xpmem_segid_t segid)
{
	struct xpmem_addr addr;
	xpmem_apid_t apid;
	unsigned char *p;
	size_t i;

	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (apid == -1)
		return fail("xpmem_get");
	addr.apid = apid;
	addr.offset = 0;
	p = xpmem_attach(addr, RT_SIZE, NULL);
	if (p == (void *)-1)
		return fail("xpmem_attach");
	for (i = 0; i < RT_SIZE; i++) {
		if (p[i] != (unsigned char)i) {
			printf("roundtrip: FAILED: attached byte %zu is %u, the exporter wrote %u\n",
			       i, p[i], (unsigned char)i);
			return 1;
		}
	}
	for (i = 0; i < RT_SIZE; i++)
		p[i] = (unsigned char)(255 - i);
	if (xpmem_detach(p) != 0)
		return fail("xpmem_detach");
	if (xpmem_release(apid) != 0)
		return fail("xpmem_release");
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int major, minor, patch;
	xpmem_segid_t segid;
	unsigned char *buf;
	int version, status;
	size_t i;
	pid_t pid;

	if (access("/dev/xpmem", F_OK) != 0) {
		printf("roundtrip: SKIP: /dev/xpmem does not exist (the xpmem module is not loaded); built and linked fine\n");
		return 77;
	}
	version = xpmem_version();
	if (version == -1)
		return fail("xpmem_version");
	if (argc > 1) {
		if (sscanf(argv[1], "%u.%u.%u", &major, &minor, &patch) != 3) {
			printf("roundtrip: usage: roundtrip [MAJOR.MINOR.PATCH]\n");
			return 1;
		}
		if (version != (int)((major << 16) | (minor << 12) | patch)) {
			printf("roundtrip: FAILED: xpmem_version() is 0x%x, but VERSION %s means 0x%x\n",
			       version, argv[1], (major << 16) | (minor << 12) | patch);
			return 1;
		}
	}

	buf = mmap(NULL, RT_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail("mmap");
	for (i = 0; i < RT_SIZE; i++)
		buf[i] = (unsigned char)i;
	segid = xpmem_make(buf, RT_SIZE, XPMEM_PERMIT_MODE, (void *)0600);
	if (segid == -1)
		return fail("xpmem_make");

	fflush(stdout);
	pid = fork();
	if (pid == -1)
		return fail("fork");
	if (pid == 0)
		_exit(child(segid));
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("roundtrip: FAILED: the importer (child) did not finish cleanly (wait status 0x%x)\n",
		       status);
		return 1;
	}
	for (i = 0; i < RT_SIZE; i++) {
		if (buf[i] != (unsigned char)(255 - i)) {
			printf("roundtrip: FAILED: byte %zu is %u after the importer wrote %u\n",
			       i, buf[i], (unsigned char)(255 - i));
			return 1;
		}
	}
	if (xpmem_remove(segid) != 0)
		return fail("xpmem_remove");
	printf("roundtrip: ok: xpmem_version() 0x%x, segment %lld exported, attached, written and detached as uid %u\n",
	       version, (long long)segid, (unsigned int)getuid());
	return 0;
}
