/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stress.h - what the two long-running robustness programs share (stress.c,
 * fuzz.c): a seeded PRNG, knobs from the environment, line-at-a-time output
 * safe from many processes, TAP result lines in the kselftest format that
 * run_tests.sh parses, probing an access for SIGBUS/SIGSEGV (per thread),
 * the module's counters, and a hang report (/proc/PID/task/TID/stack).
 */
#ifndef XPMEM_STRESS_H
#define XPMEM_STRESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define XS_STATS	"/sys/kernel/debug/xpmem/stats"

/* ------------------------------------------------------------ PRNG */

/* splitmix64: turns any 64-bit value into a well-mixed one. */
static inline uint64_t xs_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct xs_rng {
	uint64_t s;
};

/* A generator for stream @stream of run seed @seed. */
static inline void xs_rng_init(struct xs_rng *r, uint64_t seed,
			       uint64_t stream)
{
	r->s = xs_mix(seed ^ xs_mix(stream + 1)) | 1;
}

/* xorshift64* */
static inline uint64_t xs_next(struct xs_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, @n); 0 if @n is 0. */
static inline uint64_t xs_below(struct xs_rng *r, uint64_t n)
{
	return n ? xs_next(r) % n : 0;
}

/* True with probability @pct percent. */
static inline int xs_chance(struct xs_rng *r, unsigned int pct)
{
	return xs_below(r, 100) < pct;
}

/* ------------------------------------------------------------ knobs */

/*
 * Unsigned number from environment variable @name, or @def if unset.
 * Exits with a message if it is set but not a number in [@min, @max].
 */
static inline uint64_t xs_env(const char *name, uint64_t def, uint64_t min,
			      uint64_t max)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max) {
		printf("Bail out! %s='%s' is not a number in [%" PRIu64
		       ", %" PRIu64 "]\n", name, s, min, max);
		exit(2);
	}
	return v;
}

/* The run's seed: $@name if set, else random. Printed by the caller. */
static inline uint64_t xs_seed(const char *name)
{
	uint64_t seed;

	if (getenv(name) && *getenv(name))
		return xs_env(name, 0, 0, UINT64_MAX);
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	/* Keep it short enough to type. */
	return seed % 1000000000000ULL;
}

static inline double xs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ output */

/*
 * printf() to stdout as one write(), so that lines of concurrent processes
 * never mix (and nothing sits in a stdio buffer across fork()).
 */
static inline void __attribute__((format(printf, 1, 2)))
xs_say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
		return;
}

/* TAP in the shape of the kselftest harness (run_tests.sh parses it). */
struct xs_tap {
	const char *prog;
	int n;
	int passed;
	int failed;
};

static inline void xs_tap_plan(struct xs_tap *t, const char *prog, int cases)
{
	t->prog = prog;
	t->n = 0;
	t->passed = 0;
	t->failed = 0;
	xs_say("TAP version 13\n1..%d\n", cases);
}

static inline void xs_tap_begin(struct xs_tap *t, const char *name)
{
	xs_say("#  RUN           %s.%s ...\n", t->prog, name);
}

static inline void xs_tap_end(struct xs_tap *t, const char *name, int ok)
{
	t->n++;
	if (ok) {
		t->passed++;
		xs_say("#            OK  %s.%s\nok %d %s.%s\n", t->prog, name,
		       t->n, t->prog, name);
	} else {
		t->failed++;
		xs_say("#     FAIL  %s.%s\nnot ok %d %s.%s\n", t->prog, name,
		       t->n, t->prog, name);
	}
}

/* The final line; the exit status of the program. */
static inline int xs_tap_done(struct xs_tap *t)
{
	xs_say("# %s: %d passed, %d failed\n%d passed, %d failed\n", t->prog,
	       t->passed, t->failed, t->passed, t->failed);
	return t->failed ? 1 : 0;
}

/* ------------------------------------------------------------ probing */

/*
 * An access that may raise SIGBUS or SIGSEGV runs between xs_probe_begin()
 * (a sigsetjmp) and xs_probe_end(). State is per thread.
 */
struct xs_probe {
	sigjmp_buf env;
	volatile sig_atomic_t armed;
};

static __thread struct xs_probe xs_probe_state;

static inline void xs_probe_handler(int sig, siginfo_t *si, void *uc)
{
	char msg[128];
	int n;

	(void)uc;
	if (xs_probe_state.armed) {
		xs_probe_state.armed = 0;
		siglongjmp(xs_probe_state.env, sig);
	}
	/* Not a probe: say where, then die of it. */
	n = snprintf(msg, sizeof(msg), "# pid %d: unexpected %s at address "
		     "%p\n", (int)getpid(), sig == SIGBUS ? "SIGBUS" :
		     "SIGSEGV", si->si_addr);
	if (n > 0 && write(STDOUT_FILENO, msg, (size_t)n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Once per process: catch SIGBUS/SIGSEGV for probes, no core dumps. */
static inline void xs_probe_setup(void)
{
	struct sigaction sa = { .sa_sigaction = xs_probe_handler };
	struct rlimit nocore = { 0, 0 };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	setrlimit(RLIMIT_CORE, &nocore);
}

/*
 * Copy @len bytes from @src (which may fault). Return: 0, or the signal
 * that the access raised (the copy is then partial).
 */
static inline int xs_copy(void *dst, const void *src, size_t len)
{
	volatile int sig;

	sig = sigsetjmp(xs_probe_state.env, 1);
	if (sig == 0) {
		xs_probe_state.armed = 1;
		memcpy(dst, src, len);
		xs_probe_state.armed = 0;
	}
	return sig;
}

/* Store @val at @p, then load it back into *@back. Return: 0 or a signal. */
static inline int xs_store(volatile uint64_t *p, uint64_t val, uint64_t *back)
{
	volatile int sig;

	sig = sigsetjmp(xs_probe_state.env, 1);
	if (sig == 0) {
		xs_probe_state.armed = 1;
		*p = val;
		*back = *p;
		xs_probe_state.armed = 0;
	}
	return sig;
}

/* Load the 8 bytes at @p into *@out. Return: 0 or a signal. */
static inline int xs_load(const volatile uint64_t *p, uint64_t *out)
{
	volatile int sig;

	sig = sigsetjmp(xs_probe_state.env, 1);
	if (sig == 0) {
		xs_probe_state.armed = 1;
		*out = *p;
		xs_probe_state.armed = 0;
	}
	return sig;
}

/* ------------------------------------------------------------ kernel side */

/*
 * The module's gauges of live objects. Return: 0, or -1 if the counters
 * cannot be read (then *@why says why).
 */
static inline int xs_stats(long long *segs, long long *perms, long long *atts,
			   const char **why)
{
	char key[64];
	long long v;
	int found = 0;
	FILE *f;

	f = fopen(XS_STATS, "r");
	if (!f) {
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		f = fopen(XS_STATS, "r");
	}
	if (!f) {
		*why = "cannot open " XS_STATS " (debugfs not mounted, or not root?)";
		return -1;
	}
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, "segments"))
			*segs = v, found |= 1;
		else if (!strcmp(key, "permits"))
			*perms = v, found |= 2;
		else if (!strcmp(key, "attachments"))
			*atts = v, found |= 4;
	}
	fclose(f);
	if (found != 7) {
		*why = XS_STATS " lacks segments/permits/attachments lines";
		return -1;
	}
	return 0;
}

/*
 * TAP case "no_objects_left": once every process is gone, the module's
 * gauges must fall to zero within 30 s (deferred teardown may lag).
 */
static inline void xs_tap_no_objects_left(struct xs_tap *tap)
{
	long long segs = -1, perms = -1, atts = -1;
	const char *why = "";
	double deadline = xs_now() + 30;
	int ok;

	xs_tap_begin(tap, "no_objects_left");
	do {
		ok = xs_stats(&segs, &perms, &atts, &why) == 0;
		if (ok && !segs && !perms && !atts)
			break;
		poll(NULL, 0, 100);
	} while (xs_now() < deadline);
	if (!ok)
		xs_say("# FAIL: %s\n", why);
	else
		xs_say("# %s: segments %lld, permits %lld, attachments %lld\n",
		       XS_STATS, segs, perms, atts);
	xs_tap_end(tap, "no_objects_left", ok && !segs && !perms && !atts);
}

/* Print one small /proc file, each line prefixed. */
static inline void xs_dump_file(const char *path, const char *prefix)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		xs_say("%s(cannot read %s: %s)\n", prefix, path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		xs_say("%s%s%s", prefix, line,
		       strchr(line, '\n') ? "" : "\n");
	fclose(f);
}

/* Where every thread of @pid is stuck: state, wchan and kernel stack. */
static inline void xs_dump_stacks(pid_t pid)
{
	char path[600], dir[64];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d) {
		xs_say("#   pid %d: gone (%s)\n", (int)pid, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		xs_say("#   pid %d thread %s:\n", (int)pid, de->d_name);
		snprintf(path, sizeof(path), "%s/%s/wchan", dir, de->d_name);
		xs_dump_file(path, "#     wchan: ");
		snprintf(path, sizeof(path), "%s/%s/syscall", dir, de->d_name);
		xs_dump_file(path, "#     syscall: ");
		snprintf(path, sizeof(path), "%s/%s/stack", dir, de->d_name);
		xs_dump_file(path, "#     ");
	}
	closedir(d);
}

/* Children of @ppid (from /proc/PID/stat); up to @max into @out. */
static inline int xs_children(pid_t ppid, pid_t *out, int max)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	int n = 0, fd, par;
	ssize_t len;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		/* "pid (comm) state ppid ...": comm may hold anything. */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %d", &par) == 1 && par == ppid)
			out[n++] = atoi(de->d_name);
	}
	closedir(d);
	return n;
}

#endif /* XPMEM_STRESS_H */
