// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - helper processes of xpmem_bench: exporters, importers, the
 * "no xpmem" baseline process, the producer side of the bounce buffer.
 *
 * A worker is a fork of the benchmark that reads fixed-size commands from
 * one pipe and answers each on another, so every step the benchmark times
 * happens in a known process with nothing else running, and processes are
 * synchronised only by pipes and futexes (never by sleeping). A worker
 * dies with the benchmark (PR_SET_PDEATHSIG).
 *
 * The bounce-buffer ring (struct ring, a MAP_SHARED anonymous mapping made
 * before the fork) is a single-producer single-consumer queue of
 * RING_SLOTS chunks of RING_CHUNK bytes; a side that finds nothing to do
 * polls briefly, then sleeps on a futex, and is woken only if it said it
 * sleeps.
 */
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

struct wmsg {
	int32_t op;
	int32_t pad;
	uint64_t a[4];
};

struct wrep {
	int64_t r[2];
	int32_t err;
	int32_t pad;
};

/* Parent-side pipe ends of the live workers: a new worker closes them. */
#define MAX_FDS	1024
static int live_fds[MAX_FDS];
static int nr_live_fds;

static void fds_add(int fd)
{
	if (nr_live_fds < MAX_FDS)
		live_fds[nr_live_fds++] = fd;
}

static void fds_del(int fd)
{
	int i;

	for (i = 0; i < nr_live_fds; i++) {
		if (live_fds[i] == fd) {
			live_fds[i] = live_fds[--nr_live_fds];
			return;
		}
	}
}

/* Close every inherited fd of /dev/xpmem: this process never used xpmem. */
static void close_xpmem_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[64], target[64];
	ssize_t n;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, "/dev/xpmem"))
			close(fd);
	}
	closedir(d);
}

/*
 * The CPU on which two processes that are compared with each other both
 * run (W_PIN), so that neither gets the CPU the emulator or the host
 * treats worse: the last one.
 */
int bench_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 1 ? (int)n - 1 : 0;
}

/* ------------------------------------------------------------ the ring */

static long futex(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Polls before a side sleeps. Shared-memory transports poll for long, but
 * in a QEMU TCG guest on a busy host polling takes the host CPU the other
 * side needs: measured, sleeping almost at once is 2-40x faster there.
 */
#define RING_SPINS	64

/* Wait until *@word != @old; *@waiting tells the other side to wake us. */
void ring_wait(uint32_t *word, uint32_t *waiting, uint32_t old)
{
	int i;

	for (i = 0; i < RING_SPINS; i++) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != old)
			return;
		cpu_relax();
	}
	for (;;) {
		__atomic_store_n(waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != old)
			break;
		futex(word, FUTEX_WAIT, old);
	}
	__atomic_store_n(waiting, 0, __ATOMIC_RELAXED);
}

/* Set *@word to @val and wake the other side if it sleeps on it. */
void ring_post(uint32_t *word, uint32_t *waiting, uint32_t val)
{
	__atomic_store_n(word, val, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(waiting, __ATOMIC_SEQ_CST))
		futex(word, FUTEX_WAKE, 1);
}

/*
 * The producer (the exporter process): for each request after number
 * @last (the reader may post one before we get here), copy the asked bytes
 * of @src into the ring chunk by chunk, waiting for free slots. Returns
 * when ->stop is set (and ->req bumped to wake it).
 */
void ring_produce(struct ring *r, const char *src, uint32_t last)
{
	uint32_t prod = __atomic_load_n(&r->prod, __ATOMIC_ACQUIRE);

	for (;;) {
		size_t len, off;

		ring_wait(&r->req, &r->req_wait, last);
		last = __atomic_load_n(&r->req, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			return;
		len = r->len;
		for (off = 0; off < len; off += RING_CHUNK) {
			size_t n = len - off < RING_CHUNK ? len - off : RING_CHUNK;
			uint32_t cons;

			for (;;) {
				cons = __atomic_load_n(&r->cons,
						       __ATOMIC_ACQUIRE);
				if (prod - cons < RING_SLOTS)
					break;
				ring_wait(&r->cons, &r->cons_wait, cons);
			}
			memcpy(r->slot[prod % RING_SLOTS], src + off, n);
			prod++;
			ring_post(&r->prod, &r->prod_wait, prod);
		}
	}
}

/* ---------------------------------------------------------- the worker */

/* The permit for @segid (one get per segment, kept for the worker's life). */
static xpmem_apid_t worker_apid(xpmem_segid_t segid)
{
	static xpmem_segid_t segs[16];
	static xpmem_apid_t apids[16];
	static int n;
	xpmem_apid_t apid;
	int i;

	for (i = 0; i < n; i++)
		if (segs[i] == segid)
			return apids[i];
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (apid != -1 && n < 16) {
		segs[n] = segid;
		apids[n++] = apid;
	}
	return apid;
}

/* munmap/mmap churn: @iters times map @len bytes, touch, unmap. */
static int64_t churn(long iters, size_t len, bool touch_all)
{
	uint64_t t0 = now_ns();
	long i;

	for (i = 0; i < iters; i++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		if (touch_all)
			touch_write(p, len);
		else
			*(volatile char *)p = 1;
		munmap(p, len);
	}
	return (int64_t)(now_ns() - t0);
}

/*
 * @n one-page mappings, one free page apart (so that no two are adjacent
 * and the anonymous ones cannot merge), each touched once: attachments of
 * page (i % @src_pages) of @segid, or plain anonymous pages.
 */
static int mass_map(struct wrep *rep, int kind, long n, xpmem_segid_t segid,
		    long src_pages)
{
	xpmem_apid_t apid = 0;
	uint64_t t0;
	char *base;
	long i;

	base = reserve_aligned(2 * n * pagesz, HPAGE_SIZE);
	if (!base)
		return -1;
	if (kind == MASS_XPMEM) {
		apid = worker_apid(segid);
		if (apid == -1)
			return -1;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		char *want = base + 2 * i * pagesz, *p;

		if (kind == MASS_XPMEM) {
			struct xpmem_addr a = {
				.apid = apid,
				.offset = (off_t)((i % src_pages) * pagesz),
			};

			p = xpmem_attach(a, pagesz, want);
			if (p == (void *)-1)
				break;
		} else {
			p = mmap(want, pagesz, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS |
				 MAP_FIXED_NOREPLACE, -1, 0);
			if (p == MAP_FAILED)
				break;
		}
		*(volatile char *)p = 1;
	}
	rep->r[0] = (int64_t)(now_ns() - t0);
	rep->r[1] = i;
	return i == n ? 0 : -1;
}

static void do_op(const struct wmsg *m, struct wrep *rep)
{
	void *addr = (void *)(uintptr_t)m->a[0];
	int ret = 0;

	switch (m->op) {
	case W_MAP:
		addr = map_region(m->a[0], (enum backing)m->a[1], m->a[2], NULL);
		rep->r[0] = (int64_t)(uintptr_t)addr;
		ret = addr ? 0 : -1;
		break;
	case W_UNMAP:
		ret = munmap(addr, m->a[1]);
		break;
	case W_POPULATE:
		fill_pages(addr, m->a[1]);
		break;
	case W_RENEW:
		/* munmap frees the page tables too: no leftover split PMD */
		ret = munmap(addr, m->a[1]);
		if (!ret && map_region(m->a[1], (enum backing)m->a[2], false,
				       addr) != addr)
			ret = -1;
		break;
	case W_SMAPS: {
		long huge, rss;

		ret = smaps_range(addr, m->a[1], &huge, &rss);
		rep->r[0] = huge;
		rep->r[1] = rss;
		break;
	}
	case W_MAKE:
		rep->r[0] = xpmem_make(addr, m->a[1], XPMEM_PERMIT_MODE,
				       (void *)0600);
		ret = rep->r[0] == -1 ? -1 : 0;
		break;
	case W_ATTACH: {
		struct xpmem_addr a = { .offset = (off_t)m->a[1] };
		void *p = (void *)-1;

		a.apid = worker_apid((xpmem_segid_t)m->a[0]);
		if (a.apid != -1)
			p = xpmem_attach(a, m->a[2], NULL);
		if (p != (void *)-1 && m->a[3])
			touch_write(p, m->a[2]);
		rep->r[0] = (int64_t)(uintptr_t)p;
		ret = p == (void *)-1 ? -1 : 0;
		break;
	}
	case W_DETACH:
		ret = xpmem_detach(addr);
		break;
	case W_CHURN:
		rep->r[0] = churn((long)m->a[0], m->a[1], m->a[2]);
		ret = rep->r[0] < 0 ? -1 : 0;
		break;
	case W_BOUNCE:
		ring_produce((struct ring *)(uintptr_t)m->a[1], addr,
			     (uint32_t)m->a[2]);
		break;
	case W_MASS:
		ret = mass_map(rep, (int)m->a[0], (long)m->a[1],
			       (xpmem_segid_t)m->a[2], (long)m->a[3]);
		break;
	case W_PIN: {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)m->a[0], &set);
		ret = sched_setaffinity(0, sizeof(set), &set);
		break;
	}
	case W_EXIT:
		_exit(0);
	default:
		errno = EINVAL;
		ret = -1;
	}
	rep->err = ret ? errno : 0;
}

static void __attribute__((noreturn)) worker_loop(int cmd, int rep)
{
	struct wmsg m;
	struct wrep r;

	for (;;) {
		ssize_t n = read(cmd, &m, sizeof(m));

		if (n != sizeof(m))
			_exit(n == 0 ? 0 : 1);
		memset(&r, 0, sizeof(r));
		do_op(&m, &r);
		if (write(rep, &r, sizeof(r)) != sizeof(r))
			_exit(1);
	}
}

/*
 * Fork a worker. With W_NO_XPMEM it closes the /dev/xpmem fd inherited
 * from the benchmark, so that it has nothing to do with xpmem at all.
 * Return: 0, or -1 with errno set.
 */
int worker_start(struct worker *w, int flags)
{
	pid_t parent = getpid();
	int c[2], r[2], i;

	if (pipe2(c, O_CLOEXEC))
		return -1;
	if (pipe2(r, O_CLOEXEC)) {
		close(c[0]);
		close(c[1]);
		return -1;
	}
	fflush(NULL);
	w->pid = fork();
	if (w->pid < 0) {
		close(c[0]);
		close(c[1]);
		close(r[0]);
		close(r[1]);
		return -1;
	}
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		signal(SIGPIPE, SIG_DFL);
		close(c[1]);
		close(r[0]);
		for (i = 0; i < nr_live_fds; i++)
			close(live_fds[i]);
		if (flags & W_NO_XPMEM)
			close_xpmem_fds();
		worker_loop(c[0], r[1]);
	}
	close(c[0]);
	close(r[1]);
	w->cmd = c[1];
	w->rep = r[0];
	fds_add(w->cmd);
	fds_add(w->rep);
	return 0;
}

int worker_send(struct worker *w, int op, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3)
{
	struct wmsg m = { .op = op, .a = { a0, a1, a2, a3 } };

	if (write(w->cmd, &m, sizeof(m)) != sizeof(m)) {
		if (!errno)
			errno = EPIPE;
		return -1;
	}
	return 0;
}

/* The answer to the last command: 0, or -1 with the worker's errno. */
int worker_recv(struct worker *w, int64_t *r0, int64_t *r1)
{
	struct wrep r;
	ssize_t n = read(w->rep, &r, sizeof(r));

	if (n != sizeof(r)) {
		errno = n < 0 ? errno : EPIPE;
		return -1;
	}
	if (r0)
		*r0 = r.r[0];
	if (r1)
		*r1 = r.r[1];
	if (r.err) {
		errno = r.err;
		return -1;
	}
	return 0;
}

int worker_call(struct worker *w, int op, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3, int64_t *r0, int64_t *r1)
{
	if (worker_send(w, op, a0, a1, a2, a3))
		return -1;
	return worker_recv(w, r0, r1);
}

static void worker_close(struct worker *w)
{
	fds_del(w->cmd);
	fds_del(w->rep);
	close(w->cmd);
	close(w->rep);
	w->pid = 0;
}

/*
 * Tell the worker to exit and wait until the kernel has torn it down
 * (its exit_mmap(), its files released) and reported it to us.
 * Return: nanoseconds from the command to waitpid()'s return, or -1.
 */
int64_t worker_exit_ns(struct worker *w)
{
	uint64_t t0;
	int status;

	if (!w->pid)
		return -1;
	t0 = now_ns();
	if (worker_send(w, W_EXIT, 0, 0, 0, 0) ||
	    waitpid(w->pid, &status, 0) != w->pid) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		worker_close(w);
		return -1;
	}
	t0 = now_ns() - t0;
	worker_close(w);
	return (int64_t)t0;
}

void worker_stop(struct worker *w)
{
	if (w->pid > 0)
		worker_exit_ns(w);
}
