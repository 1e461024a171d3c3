/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xpmem_test.h - helpers shared by every test program in test/.
 *
 * Regions filled with a checkable pattern (xt_region, xt_fill, xt_bad),
 * make+get+attach in one call (xt_make_get_attach, xt_get_attach), child
 * processes with a pipe handshake and a timeout (xt_child, xt_send, xt_recv,
 * xt_wait, xt_run), probing an address for SIGBUS/SIGSEGV without dying
 * (xt_read_sig, xt_write_sig), and readers of /proc/self/{maps,smaps,fd}.
 * Include it instead of kselftest_harness.h, and end the file with XT_MAIN.
 */
#ifndef XPMEM_TEST_H
#define XPMEM_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pipe2, strtok_r, MAP_HUGETLB: before any header */
#endif
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"

#include <xpmem.h>
#include <uapi/xpmem_ioctl.h>

#define XT_DEV		"/dev/xpmem"
#define XT_VERSION	0x00030000	/* what VERSION returns: 3.0 */
#define XT_TIMEOUT_MS	20000		/* how long a peer may take to answer */
#define XT_NOBODY	65534		/* uid and gid of the unprivileged peer */
#define XT_MODE(m)	((void *)(uintptr_t)(m))	/* permit_value of make */

/* xt_wait() result for a child killed by signal @s (exit codes are 0..255). */
#define XT_SIG(s)	(256 + (s))
#define XT_TIMEDOUT	(-1)

static inline size_t xt_pg(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* 0 if @ret is not -1, else errno: one line asserts the exact errno. */
static inline int xt_err(long ret)
{
	return ret == -1 ? errno : 0;
}

/* ---------------------------------------------------------- patterns */

/*
 * Byte @i of pattern @seed. Every page holds all 256 values (never all
 * zero), and pages, offsets and seeds all give different bytes, so a page
 * mapped at the wrong place or a stale page is caught.
 */
static inline uint8_t xt_pat(unsigned int seed, size_t i)
{
	return (uint8_t)(seed * 131u + i * 7u + i / 4096u * 13u + 1u);
}

/* Fill @len bytes at @p with bytes @at.. of pattern @seed. */
static inline void xt_fill_at(void *p, size_t len, unsigned int seed,
			      size_t at)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = xt_pat(seed, at + i);
}

static inline void xt_fill(void *p, size_t len, unsigned int seed)
{
	xt_fill_at(p, len, seed, 0);
}

/*
 * Check @len bytes at @p against bytes @at.. of pattern @seed (seed 0
 * means all zero). Return: -1 if they match, else the offset (from @p) of
 * the first wrong byte.
 */
static inline long xt_bad_at(const void *p, size_t len, unsigned int seed,
			     size_t at)
{
	const volatile uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != (seed ? xt_pat(seed, at + i) : 0))
			return (long)i;
	return -1;
}

static inline long xt_bad(const void *p, size_t len, unsigned int seed)
{
	return xt_bad_at(p, len, seed, 0);
}

/*
 * mmap() @len bytes (@prot, @flags | MAP_ANONYMOUS unless @fd >= 0) and fill
 * them with pattern @seed (nothing is written if @seed is 0).
 * Return: the address, or MAP_FAILED.
 */
static inline char *xt_map(size_t len, int prot, int flags, int fd,
			   unsigned int seed)
{
	char *p;

	if (fd < 0)
		flags |= MAP_ANONYMOUS;
	p = mmap(NULL, len, prot, flags, fd, 0);
	if (p != MAP_FAILED && seed)
		xt_fill(p, len, seed);
	return p;
}

/* The usual source: @npages private anonymous pages holding pattern @seed. */
static inline char *xt_region(size_t npages, unsigned int seed)
{
	return xt_map(npages * xt_pg(), PROT_READ | PROT_WRITE, MAP_PRIVATE,
		      -1, seed);
}

/* ------------------------------------------------ make / get / attach */

/*
 * Fill @npages fresh private pages with pattern @seed and export them with
 * mode 0600. Return: the segid, or -1 with errno set; *@buf: the pages.
 */
static inline xpmem_segid_t xt_export(size_t npages, unsigned int seed,
				      char **buf)
{
	*buf = xt_region(npages, seed);
	if (*buf == MAP_FAILED)
		return -1;
	return xpmem_make(*buf, npages * xt_pg(), XPMEM_PERMIT_MODE,
			  XT_MODE(0600));
}

/* One attachment and the ids behind it. */
struct xt_att {
	xpmem_segid_t segid;	/* 0 if this process did not make it */
	xpmem_apid_t apid;
	char *addr;		/* start of the attachment */
	size_t len;
};

/*
 * Get @segid with @flags and attach @len bytes from segment offset @offset
 * at @vaddr (NULL: the kernel chooses). Return: 0, or -1 with errno set.
 */
static inline int xt_get_attach_at(xpmem_segid_t segid, int flags,
				   off_t offset, size_t len, void *vaddr,
				   struct xt_att *a)
{
	struct xpmem_addr addr;
	void *p;
	int err;

	a->apid = xpmem_get(segid, flags, XPMEM_PERMIT_MODE, NULL);
	if (a->apid == -1)
		return -1;
	addr.apid = a->apid;
	addr.offset = offset;
	p = xpmem_attach(addr, len, vaddr);
	if (p == (void *)-1) {
		err = errno;
		xpmem_release(a->apid);
		errno = err;
		return -1;
	}
	a->addr = p;
	a->len = len;
	return 0;
}

static inline int xt_get_attach(xpmem_segid_t segid, int flags, off_t offset,
				size_t len, struct xt_att *a)
{
	return xt_get_attach_at(segid, flags, offset, len, NULL, a);
}

/*
 * Export [@src, @src + @len) with mode 0600, get it with @flags and attach
 * all of it in this process. Return: 0, or -1 with errno set.
 */
static inline int xt_make_get_attach(void *src, size_t len, int flags,
				     struct xt_att *a)
{
	int err;

	a->segid = xpmem_make(src, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	if (a->segid == -1)
		return -1;
	if (xt_get_attach(a->segid, flags, 0, len, a) == 0)
		return 0;
	err = errno;
	xpmem_remove(a->segid);
	errno = err;
	return -1;
}

/* ---------------------------------------------- probing for signals */

struct xt_probe {
	sigjmp_buf env;
	volatile sig_atomic_t armed;
};

static inline struct xt_probe *xt_probe_state(void)
{
	static struct xt_probe state;

	return &state;
}

static inline void xt_probe_handler(int sig)
{
	struct xt_probe *st = xt_probe_state();

	if (st->armed) {
		st->armed = 0;
		siglongjmp(st->env, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Load (or store @val if @write) one byte at @p, surviving a fault.
 * Return: 0 if the access worked, else the signal it raised (SIGBUS or
 * SIGSEGV). A load stores the byte in *@out if @out is not NULL.
 */
static inline int xt_access_sig(volatile uint8_t *p, int write, uint8_t val,
				uint8_t *out)
{
	struct xt_probe *st = xt_probe_state();
	struct sigaction sa = { .sa_handler = xt_probe_handler };
	struct sigaction old_bus, old_segv;
	volatile int sig;
	volatile uint8_t v = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	sig = sigsetjmp(st->env, 1);
	if (sig == 0) {
		st->armed = 1;
		if (write)
			*p = val;
		else
			v = *p;
		st->armed = 0;
		if (out)
			*out = v;
	}
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return sig;
}

static inline int xt_read_sig(const void *p)
{
	return xt_access_sig((volatile uint8_t *)p, 0, 0, NULL);
}

static inline int xt_write_sig(void *p, uint8_t val)
{
	return xt_access_sig((volatile uint8_t *)p, 1, val, NULL);
}

/* ------------------------------------------------------- processes */

/*
 * One end of a parent/child pair: the parent's view of the child, or the
 * child's view of its parent. @rd and @wr carry xt_send()/xt_recv() values.
 */
struct xt_proc {
	pid_t pid;
	int pidfd;	/* parent side only: pidfd of the child, or -1 */
	int rd;
	int wr;
};

/* Body of a child: returns its exit code (0 = every check passed). */
typedef int (*xt_fn)(struct xt_proc *parent, void *arg);

/* Child-side check: no harness asserts in a child, report and fail. */
#define XT_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# %s:%d: pid %d: check failed: %s "	\
			"(errno %d: %s)\n", __FILE__, __LINE__,		\
			(int)getpid(), #cond, errno, strerror(errno));	\
		return 1;						\
	}								\
} while (0)

#define XT_CHECK_EQ(expected, seen) do {				\
	long long __e = (long long)(expected);				\
	long long __s = (long long)(seen);				\
	if (__e != __s) {						\
		fprintf(stderr, "# %s:%d: pid %d: expected %s (%lld) "	\
			"== %s (%lld)\n", __FILE__, __LINE__,		\
			(int)getpid(), #expected, __e, #seen, __s);	\
		return 1;						\
	}								\
} while (0)

/*
 * Fork a child that runs @fn(@arg) and exits with its return value. The
 * child dies with its parent (PR_SET_PDEATHSIG) and never dumps core.
 * Return: 0, or -1 with errno set.
 */
static inline int xt_child(struct xt_proc *c, xt_fn fn, void *arg)
{
	struct rlimit nocore = { 0, 0 };
	pid_t parent = getpid();
	int down[2], up[2];
	pid_t pid;

	if (pipe2(down, O_CLOEXEC))
		return -1;
	if (pipe2(up, O_CLOEXEC)) {
		close(down[0]);
		close(down[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct xt_proc p = {
			.pid = parent, .pidfd = -1, .rd = down[0], .wr = up[1],
		};

		close(down[1]);
		close(up[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		setrlimit(RLIMIT_CORE, &nocore);
		_exit(fn(&p, arg) & 0xff);
	}
	close(down[0]);
	close(up[1]);
	c->pid = pid;
	c->rd = up[0];
	c->wr = down[1];
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

/* Send one value to the other side. Return: 0 or -1. */
static inline int xt_send(struct xt_proc *p, uint64_t v)
{
	return write(p->wr, &v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : -1;
}

/*
 * Receive one value, waiting at most XT_TIMEOUT_MS.
 * Return: 0, or -1 on timeout, EOF (the other side died) or error.
 */
static inline int xt_recv(struct xt_proc *p, uint64_t *v)
{
	struct pollfd pfd = { .fd = p->rd, .events = POLLIN };
	uint64_t tmp;
	ssize_t n;

	if (poll(&pfd, 1, XT_TIMEOUT_MS) != 1)
		return -1;
	n = read(p->rd, &tmp, sizeof(tmp));
	if (n != (ssize_t)sizeof(tmp))
		return -1;
	if (v)
		*v = tmp;
	return 0;
}

/* Receive one value and check it is @want. Return: 0 or -1. */
static inline int xt_expect(struct xt_proc *p, uint64_t want)
{
	uint64_t v;

	return xt_recv(p, &v) == 0 && v == want ? 0 : -1;
}

/*
 * Wait (at most XT_TIMEOUT_MS) for child @c to end, and reap it; a child
 * still running then is SIGKILLed. Return: its exit code (0..255),
 * XT_SIG(signal) if a signal killed it, or XT_TIMEDOUT.
 */
static inline int xt_wait(struct xt_proc *c)
{
	struct pollfd pfd = { .fd = c->pidfd, .events = POLLIN };
	int status, ret = XT_TIMEDOUT;

	if (c->pid <= 0)
		return XT_TIMEDOUT;
	if (c->pidfd >= 0 && poll(&pfd, 1, XT_TIMEOUT_MS) != 1) {
		fprintf(stderr, "# child %d did not end in %d ms, killing it\n",
			(int)c->pid, XT_TIMEOUT_MS);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
	} else {
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status))
			ret = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			ret = XT_SIG(WTERMSIG(status));
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	close(c->rd);
	close(c->wr);
	c->pid = 0;
	return ret;
}

/* SIGKILL child @c and reap it. */
static inline void xt_kill(struct xt_proc *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		xt_wait(c);
	}
}

/*
 * Run @fn(@arg) in a child and wait for it: the way to check that an access
 * kills a process (ASSERT_EQ(XT_SIG(SIGBUS), xt_run(fn, arg))).
 * Return: as xt_wait(), or -1 if fork failed.
 */
static inline int xt_run(xt_fn fn, void *arg)
{
	struct xt_proc c;

	if (xt_child(&c, fn, arg))
		return -1;
	return xt_wait(&c);
}

/*
 * Become uid @uid, gid @gid with no supplementary groups except @extra
 * (if >= 0), dropping every capability. Return: 0 or -1.
 */
static inline int xt_become(uid_t uid, gid_t gid, int extra)
{
	gid_t g = (gid_t)extra;

	if (setgroups(extra >= 0 ? 1 : 0, &g))
		return -1;
	if (setgid(gid) || setuid(uid))
		return -1;
	return 0;
}

/* --------------------------------------------------- remote importer */

/*
 * A remote importer is a child that attaches a segment and then does, one
 * request at a time, what the parent asks with xt_ask(): two processes
 * without a page of setup code in every test.
 */
enum xt_op {
	XT_OP_CHECK = 1,  /* the range holds pattern seed: 0, else 1 + offset */
	XT_OP_FILL,	  /* fill the range with pattern seed: 0 */
	XT_OP_CHECK_PAGE, /* as XT_OP_CHECK, for one page */
	XT_OP_FILL_PAGE,  /* as XT_OP_FILL, for one page */
	XT_OP_READ_SIG,	  /* read a byte of the page: 0, SIGBUS or SIGSEGV */
	XT_OP_WRITE_SIG,  /* write byte seed to the page: 0 or the signal */
	XT_OP_ADD,	  /* atomic +1 on the page's first u64, seed times */
	XT_OP_TOUCH,	  /* unprotected read of the page: a fault kills us */
	XT_OP_QUIT,	  /* exit 0 */
};

struct xt_remote {
	xpmem_segid_t segid;
	int flags;		/* XPMEM_RDWR or XPMEM_RDONLY */
	size_t len;		/* bytes attached, from segment offset 0 */
};

static inline int xt_remote_importer(struct xt_proc *parent, void *arg)
{
	struct xt_remote *r = arg;
	size_t pg = xt_pg(), page;
	unsigned int seed, n;
	struct xt_att a;
	uint64_t req, res, *word;
	long bad;

	if (xt_get_attach(r->segid, r->flags, 0, r->len, &a)) {
		xt_send(parent, (uint64_t)errno);
		return 1;
	}
	XT_CHECK(xt_send(parent, 0) == 0);
	for (;;) {
		XT_CHECK(xt_recv(parent, &req) == 0);
		page = (size_t)(req >> 32) & 0xffffff;
		seed = (unsigned int)req;
		XT_CHECK(page * pg < r->len);
		switch ((int)(req >> 56)) {
		case XT_OP_CHECK:
			bad = xt_bad(a.addr, r->len, seed);
			res = bad < 0 ? 0 : 1 + (uint64_t)bad;
			break;
		case XT_OP_FILL:
			xt_fill(a.addr, r->len, seed);
			res = 0;
			break;
		case XT_OP_CHECK_PAGE:
			bad = xt_bad_at(a.addr + page * pg, pg, seed, page * pg);
			res = bad < 0 ? 0 : 1 + (uint64_t)bad;
			break;
		case XT_OP_FILL_PAGE:
			xt_fill_at(a.addr + page * pg, pg, seed, page * pg);
			res = 0;
			break;
		case XT_OP_READ_SIG:
			res = (uint64_t)xt_read_sig(a.addr + page * pg);
			break;
		case XT_OP_WRITE_SIG:
			res = (uint64_t)xt_write_sig(a.addr + page * pg,
						     (uint8_t)seed);
			break;
		case XT_OP_ADD:
			word = (uint64_t *)(void *)(a.addr + page * pg);
			for (n = 0; n < seed; n++)
				__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
			res = 0;
			break;
		case XT_OP_TOUCH:
			(void)*(volatile uint8_t *)(a.addr + page * pg);
			res = 0;
			break;
		case XT_OP_QUIT:
			return 0;
		default:
			XT_CHECK(!"unknown request");
		}
		XT_CHECK(xt_send(parent, res) == 0);
	}
}

/*
 * Start a remote importer of @r in child @c and wait until it attached.
 * Return: 0, the errno of its get or attach, or -1 if it did not answer.
 */
static inline long xt_remote_start(struct xt_proc *c, struct xt_remote *r)
{
	uint64_t res;

	if (xt_child(c, xt_remote_importer, r))
		return -1;
	if (xt_recv(c, &res)) {
		xt_kill(c);
		return -1;
	}
	if (res)
		xt_wait(c);
	return (long)res;
}

/* Send request @op (on page @page, with @seed) without waiting. */
static inline int xt_ask_async(struct xt_proc *c, int op, size_t page,
			       unsigned int seed)
{
	return xt_send(c, ((uint64_t)op << 56) | ((uint64_t)page << 32) |
		       seed);
}

/*
 * Ask remote importer @c to do @op and wait for the answer.
 * Return: its answer, or UINT64_MAX if it died or did not answer.
 */
static inline uint64_t xt_ask(struct xt_proc *c, int op, size_t page,
			      unsigned int seed)
{
	uint64_t res;

	if (xt_ask_async(c, op, page, seed) || xt_recv(c, &res))
		return UINT64_MAX;
	return res;
}

/* Tell remote importer @c to exit, and reap it. Return: as xt_wait(). */
static inline int xt_remote_quit(struct xt_proc *c)
{
	xt_ask_async(c, XT_OP_QUIT, 0, 0);
	return xt_wait(c);
}

/* ------------------------------------------------------ /proc readers */

/*
 * Find the VMA containing @addr in /proc/self/maps.
 * Return: 1 and its bounds in *@start and *@end (if not NULL), or 0.
 */
static inline int xt_vma(const void *addr, uintptr_t *start, uintptr_t *end)
{
	uintptr_t a = (uintptr_t)addr, s, e;
	char line[512];
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		if (a >= s && a < e) {
			if (start)
				*start = s;
			if (end)
				*end = e;
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Length of the VMA containing @addr, or 0 if nothing is mapped there. */
static inline size_t xt_vma_len(const void *addr)
{
	uintptr_t s, e;

	return xt_vma(addr, &s, &e) ? e - s : 0;
}

/*
 * Copy the value of smaps field @field ("VmFlags", "AnonHugePages", ...)
 * of the VMA containing @addr into @buf. Return: 0, or -1 if not found.
 */
static inline int xt_smaps_field(const void *addr, const char *field,
				 char *buf, size_t len)
{
	uintptr_t a = (uintptr_t)addr, s, e;
	size_t flen = strlen(field);
	char line[1024];
	int in = 0, ret = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (in)
				break;
			in = a >= s && a < e;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':') {
			size_t n = strlen(line + flen + 1);

			if (n >= len)
				n = len - 1;
			memcpy(buf, line + flen + 1, n);
			buf[n] = '\0';
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Has the VMA containing @addr VmFlags flag @flag (e.g. "dd")? */
static inline int xt_vma_has_flag(const void *addr, const char *flag)
{
	char buf[512], *tok, *save;

	if (xt_smaps_field(addr, "VmFlags", buf, sizeof(buf)))
		return 0;
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, flag))
			return 1;
	return 0;
}

/*
 * This process's fds open on /dev/xpmem: the first one (or -1), and how
 * many there are in *@count.
 */
static inline int xt_dev_fd_scan(int *count)
{
	char path[64], target[64];
	int fd, first = -1;
	ssize_t len;

	*count = 0;
	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, XT_DEV))
			continue;
		if (first < 0)
			first = fd;
		(*count)++;
	}
	return first;
}

/* Number of this process's fds open on /dev/xpmem. */
static inline int xt_dev_fds(void)
{
	int n;

	xt_dev_fd_scan(&n);
	return n;
}

/* The first fd of this process open on /dev/xpmem, or -1. */
static inline int xt_dev_fd(void)
{
	int n;

	return xt_dev_fd_scan(&n);
}

/* --------------------------------------------------------- raw device */

/* open("/dev/xpmem", O_RDWR | O_CLOEXEC): an fd of our own, for raw ioctls. */
static inline int xt_open(void)
{
	return open(XT_DEV, O_RDWR | O_CLOEXEC);
}

/* Raw ioctl on @fd. Return: 0 (or the positive result), else -errno. */
static inline long xt_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret == -1 ? -errno : ret;
}

/* ------------------------------------------------------- extra sources */

/* A filesystem mounted for the duration of one test. */
struct xt_mnt {
	char dir[64];	/* mount point; "" if not mounted */
	char img[64];	/* backing image file */
};

/*
 * Make an ext4 filesystem in a file in /tmp and mount it through a loop
 * device. Return: 0, or -1 with the reason in @why (the caller skips).
 */
static inline int xt_ext4_mount(struct xt_mnt *m, char *why, size_t len)
{
	char cmd[512];

	if (geteuid() != 0) {
		snprintf(why, len, "ext4 on a loop device needs root");
		return -1;
	}
	snprintf(m->img, sizeof(m->img), "/tmp/xt-ext4-%d.img", (int)getpid());
	snprintf(m->dir, sizeof(m->dir), "/tmp/xt-ext4-%d", (int)getpid());
	if (mkdir(m->dir, 0755) && errno != EEXIST) {
		snprintf(why, len, "mkdir %s: %s", m->dir, strerror(errno));
		m->dir[0] = '\0';
		return -1;
	}
	/* modprobe may fail when loop and ext4 are built in: mount decides. */
	snprintf(cmd, sizeof(cmd),
		 "export PATH=\"$PATH:/usr/sbin:/sbin\"; "
		 "modprobe -q loop >/dev/null 2>&1; "
		 "modprobe -q ext4 >/dev/null 2>&1; "
		 "truncate -s 32M %s && mkfs.ext4 -q -F %s >&2 </dev/null",
		 m->img, m->img);
	if (system(cmd) != 0) {
		snprintf(why, len, "cannot create an ext4 image (mkfs.ext4)");
		goto err;
	}
	snprintf(cmd, sizeof(cmd),
		 "export PATH=\"$PATH:/usr/sbin:/sbin\"; "
		 "mount -t ext4 -o loop %s %s >&2", m->img, m->dir);
	if (system(cmd) != 0) {
		snprintf(why, len, "cannot mount ext4 on a loop device");
		goto err;
	}
	return 0;
err:
	unlink(m->img);
	rmdir(m->dir);
	m->dir[0] = '\0';
	return -1;
}

static inline void xt_ext4_umount(struct xt_mnt *m)
{
	char cmd[256];

	if (!m->dir[0])
		return;
	snprintf(cmd, sizeof(cmd),
		 "export PATH=\"$PATH:/usr/sbin:/sbin\"; umount %s >&2", m->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# umount %s failed\n", m->dir);
	unlink(m->img);
	rmdir(m->dir);
	m->dir[0] = '\0';
}

/*
 * Create file @path holding @len bytes of pattern @seed and return an fd
 * open O_RDWR on it (or -1).
 */
static inline int xt_pattern_file(const char *path, size_t len,
				  unsigned int seed)
{
	char *tmp = malloc(len);
	int fd;

	if (!tmp)
		return -1;
	xt_fill(tmp, len, seed);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && (pwrite(fd, tmp, len, 0) != (ssize_t)len || fsync(fd))) {
		close(fd);
		fd = -1;
	}
	free(tmp);
	return fd;
}

/* Does file @fd still hold pattern @seed? Return: as xt_bad(). */
static inline long xt_file_bad(int fd, size_t len, unsigned int seed)
{
	char *tmp = malloc(len);
	long ret = 0;

	if (!tmp)
		return 0;
	if (pread(fd, tmp, len, 0) == (ssize_t)len)
		ret = xt_bad(tmp, len, seed);
	free(tmp);
	return ret;
}

/* ------------------------------------------------------- counters */

/*
 * The value of @key in a file of "key value" lines (debugfs stats, a
 * cgroup's memory.events), or -1 if the file or key is missing.
 */
static inline long long xt_keyed(const char *path, const char *key)
{
	char k[64];
	long long val, ret = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", k, &val) == 2) {
		if (!strcmp(k, key)) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * The page frame number mapped at @p in this process (from
 * /proc/self/pagemap; needs CAP_SYS_ADMIN), or 0 if none or unknown.
 */
static inline uint64_t xt_pfn_of(const volatile void *p)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent), (off_t)((uintptr_t)p / xt_pg()) *
		  (off_t)sizeof(ent)) != (ssize_t)sizeof(ent))
		ent = 0;
	close(fd);
	return (ent >> 63) ? ent & ((1ULL << 55) - 1) : 0;
}

#define XT_STATS	"/sys/kernel/debug/xpmem/stats"

/* A counter of the module (mounting debugfs if needed), or -1. */
static inline long long xt_stat(const char *name)
{
	if (access(XT_STATS, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	return xt_keyed(XT_STATS, name);
}

#define XT_HPAGE	(2UL << 20)	/* PMD size on x86_64 and arm64 (4K) */

/*
 * @len bytes of private anonymous memory, 2 MiB aligned, backed by
 * transparent huge pages and filled with pattern @seed.
 * Return: the address, or NULL with the reason in @why.
 */
static inline char *xt_thp_region(size_t len, unsigned int seed, char *why,
				  size_t wlen)
{
	char buf[128];
	long kb = 0;
	char *raw, *p;

	raw = mmap(NULL, len + XT_HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		snprintf(why, wlen, "mmap: %s", strerror(errno));
		return NULL;
	}
	p = (char *)(((uintptr_t)raw + XT_HPAGE - 1) & ~(XT_HPAGE - 1));
	if (madvise(p, len, MADV_HUGEPAGE)) {
		snprintf(why, wlen, "madvise(MADV_HUGEPAGE): %s (no THP?)",
			 strerror(errno));
		munmap(raw, len + XT_HPAGE);
		return NULL;
	}
	xt_fill(p, len, seed);
	if (xt_smaps_field(p, "AnonHugePages", buf, sizeof(buf)) == 0)
		kb = strtol(buf, NULL, 10);
	if (kb < (long)(XT_HPAGE >> 10)) {
		snprintf(why, wlen, "THP did not back the region "
			 "(AnonHugePages %ld kB)", kb);
		munmap(raw, len + XT_HPAGE);
		return NULL;
	}
	return p;
}

/*
 * @len bytes (a multiple of 2 MiB) of private hugetlb memory filled with
 * pattern @seed; reserves huge pages if none are free (needs root).
 * Return: the address, or NULL with the reason in @why.
 */
static inline char *xt_hugetlb_region(size_t len, unsigned int seed,
				      char *why, size_t wlen)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
	char *p;
	FILE *f;
	long n;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		f = fopen("/proc/sys/vm/nr_hugepages", "r+");
		if (f && fscanf(f, "%ld", &n) == 1) {
			rewind(f);
			fprintf(f, "%ld\n", n + (long)(len / XT_HPAGE) + 1);
		}
		if (f)
			fclose(f);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	}
	if (p == MAP_FAILED) {
		snprintf(why, wlen, "no free 2 MiB hugetlb pages: %s",
			 strerror(errno));
		return NULL;
	}
	xt_fill(p, len, seed);
	return p;
}

/* ------------------------------------------------------------- main */

/*
 * The end of every test program: TEST_HARNESS_MAIN, preceded by a check
 * that skips the whole program, as kselftest does (exit 4), when there is
 * no /dev/xpmem (e.g. on the build host). Nothing here opens the device, so
 * every test starts in a process with no xpmem state.
 */
#define XT_MAIN								\
	static void __attribute__((constructor)) xt_need_device(void)	\
	{								\
		struct stat st;						\
									\
		if (stat(XT_DEV, &st) || !S_ISCHR(st.st_mode)) {	\
			ksft_print_header();				\
			ksft_exit_skip("%s is missing: load xpmem.ko "	\
				       "(the suite runs in a guest, "	\
				       "see test/run_tests.sh)\n",	\
				       XT_DEV);				\
		}							\
	}								\
	TEST_HARNESS_MAIN

#endif /* XPMEM_TEST_H */
