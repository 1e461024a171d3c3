// SPDX-License-Identifier: GPL-2.0
/*
 * demo.c - the smallest complete xpmem program: one process exports a
 * buffer, another attaches it and changes it, and the first one sees the
 * change in its own memory. No copy is made: both processes load and store
 * the same physical pages.
 *
 * Build: cc demo.c -lxpmem   Run: ./demo (needs xpmem.ko loaded)
 * Prints a short report and exits 0 on PASS, 1 on FAIL.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xpmem.h>

#define LEN	(4 * 4096)	/* bytes exported: 4 pages */

static const char hello[] = "hello from the exporter";
static const char reply[] = "HELLO BACK FROM THE IMPORTER";

/* The importer: a separate process that only knows the segment id. */
static int importer(xpmem_segid_t segid)
{
	struct xpmem_addr addr;
	char *p;

	/* 1. Ask for a permit to attach the segment, read-write. */
	addr.apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (addr.apid == -1) {
		perror("importer: xpmem_get");
		return 1;
	}
	/* 2. Map the whole segment (from offset 0) into our address space. */
	addr.offset = 0;
	p = xpmem_attach(addr, LEN, NULL);
	if (p == (void *)-1) {
		perror("importer: xpmem_attach");
		return 1;
	}
	printf("importer pid %d: permit apid %lld, segment attached at %p\n",
	       (int)getpid(), (long long)addr.apid, (void *)p);
	/* 3. Plain loads and stores: this is the exporter's memory. */
	printf("importer: reads  \"%s\"\n", p);
	memcpy(p, reply, sizeof(reply));
	printf("importer: wrote  \"%s\" (%zu bytes)\n", reply, sizeof(reply));
	/* 4. Unmap and give the permit back (exit would do both too). */
	xpmem_detach(p);
	xpmem_release(addr.apid);
	return 0;
}

int main(void)
{
	static char before[LEN];	/* the buffer before the importer ran */
	xpmem_segid_t segid;
	int status, version;
	size_t i, changed = 0;
	char *buf;
	pid_t pid;

	version = xpmem_version();
	if (version == -1) {
		perror("xpmem_version (is xpmem.ko loaded?)");
		return 1;
	}
	printf("xpmem version %d.%d.%d\n", (version >> 16) & 0xfff,
	       (version >> 12) & 0xf, version & 0xfff);

	/* The exporter: some ordinary memory with a message in it... */
	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	strcpy(buf, hello);
	/* ...exported to processes of our uid (mode 0600, like a file). */
	segid = xpmem_make(buf, LEN, XPMEM_PERMIT_MODE, (void *)0600);
	if (segid == -1) {
		perror("xpmem_make");
		return 1;
	}
	printf("exporter pid %d: exported %d bytes at %p as segid %lld\n",
	       (int)getpid(), LEN, (void *)buf, (long long)segid);
	printf("exporter: buffer holds \"%s\"\n", buf);

	memcpy(before, buf, LEN);

	/* The importer runs in a child process; it gets only the segid. */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(importer(segid));
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		perror("fork/waitpid");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("FAIL: the importer failed (status %#x)\n", status);
		return 1;
	}

	/* The importer is gone; its stores are in our own buffer. */
	for (i = 0; i < LEN; i++)
		changed += buf[i] != before[i];
	printf("exporter: buffer now holds \"%s\" (%zu of %d bytes changed)\n",
	       buf, changed, LEN);
	xpmem_remove(segid);
	if (changed == 0 || memcmp(buf, reply, sizeof(reply)) != 0) {
		printf("FAIL: the exporter does not see the importer's write\n");
		return 1;
	}
	printf("PASS: the exporter sees the importer's write in its own memory\n");
	return 0;
}
