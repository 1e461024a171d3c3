// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - helpers of xpmem_bench: the clock (CLOCK_MONOTONIC), medians,
 * sizes, 2 MiB-aligned buffers with a chosen backing (MADV_NOHUGEPAGE or
 * MADV_HUGEPAGE), first-touch loops, /proc/self/smaps (AnonHugePages),
 * sysctl files and the module's counters in debugfs
 * (/sys/kernel/debug/xpmem/stats, "name value" per line; absent counters
 * are reported as n/a, never as an error).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int bench_errors;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n values (the mean of the middle two if @n is even). */
double median(const double *v, int n)
{
	double s[n > 0 ? n : 1];

	if (n <= 0)
		return __builtin_nan("");
	memcpy(s, v, sizeof(*v) * n);
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double minimum(const double *v, int n)
{
	double m = __builtin_nan("");
	int i;

	for (i = 0; i < n; i++)
		if (i == 0 || v[i] < m)
			m = v[i];
	return m;
}

/*
 * How many repetitions of an operation that took @op_ns once make one
 * sample of about --sample-ms (at least 1).
 */
long sample_iters(double op_ns)
{
	double n = op_ns > 0 ? opt.sample_ns / op_ns : 1;

	if (n < 1 || n != n)
		return 1;
	return n > 1e7 ? 10000000L : (long)n;
}

/*
 * Samples of an operation that took @op_ns once. Noise on a shared host
 * comes in bursts and only ever adds time, so the best of many short
 * samples is the figure: operations shorter than a quarter of --sample-ms
 * get 4 x --reps samples of about a quarter of --sample-ms each, longer
 * ones 2 x --reps samples of as many operations as fit in --sample-ms
 * (at least one). Return: the number of samples; the repetitions per
 * sample go to *@iters.
 */
int plan_samples(double op_ns, long *iters)
{
	if (op_ns > 0 && op_ns * 4 <= opt.sample_ns) {
		*iters = sample_iters(op_ns * 4);
		return 4 * opt.reps;
	}
	*iters = sample_iters(op_ns);
	return 2 * opt.reps;
}

/*
 * A figure is the ratio of two best-of times; were it computed from the
 * medians instead and came out more than 10% different, the host was too
 * noisy for it.
 */
bool noisy(double best, double med)
{
	double q = best / med;

	return !isnan(q) && (q > 1.1 || q < 1 / 1.1);
}

const char noise_note[] =
	"*: the ratio of the medians differs from the best-of ratio by more than 10%:\n"
	"the host was noisy; re-run before trusting that row.\n";

/* @status with a '*' appended if @is_noisy (static buffer). */
const char *mark(const char *status, bool is_noisy)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%s%s", status, is_noisy ? "*" : "");
	return buf;
}

/* A sample started at @t0 has run 4x longer than planned: cut it short. */
bool sample_overrun(uint64_t t0)
{
	return now_ns() - t0 > 4 * opt.sample_ns;
}

void bench_error(int err, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "xpmem_bench: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	bench_errors++;
}

/* "4 KiB", "64 MiB": @n must be a whole number of KiB, MiB or GiB. */
const char *fmt_size(size_t n, char *buf, size_t len)
{
	if (n >= 1024 * MIB && n % (1024 * MIB) == 0)
		snprintf(buf, len, "%zu GiB", n / (1024 * MIB));
	else if (n >= MIB && n % MIB == 0)
		snprintf(buf, len, "%zu MiB", n / MIB);
	else if (n >= KIB && n % KIB == 0)
		snprintf(buf, len, "%zu KiB", n / KIB);
	else
		snprintf(buf, len, "%zu B", n);
	return buf;
}

/* "4096", "4K", "64M", "1G" (binary units). */
int parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		v *= KIB;
		end++;
		break;
	case 'm': case 'M':
		v *= MIB;
		end++;
		break;
	case 'g': case 'G':
		v *= 1024 * MIB;
		end++;
		break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v == 0)
		return -1;
	*out = v;
	return 0;
}

const char *backing_name(enum backing b)
{
	return b == BACK_THP ? "thp" : "4k";
}

/*
 * Find @len bytes of free address space aligned to @align: map a larger
 * range, note an aligned address inside, unmap it again. The caller maps
 * there right after (nothing else runs in between in this process).
 */
void *reserve_aligned(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	munmap(p, len + align);
	return (void *)a;
}

/* MADV_NOHUGEPAGE or MADV_HUGEPAGE, whatever the system default is. */
int set_backing(void *p, size_t len, enum backing b)
{
	return madvise(p, len, b == BACK_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
}

/*
 * A private anonymous buffer of @len bytes at a 2 MiB boundary (at @hint if
 * given, which must be free), backed as @b, and written page by page if
 * @populate. Return: the buffer, or NULL with errno set.
 */
void *map_region(size_t len, enum backing b, bool populate, void *hint)
{
	void *p;

	if (!hint)
		hint = reserve_aligned(len, HPAGE_SIZE);
	if (!hint)
		return NULL;
	p = mmap(hint, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (set_backing(p, len, b)) {
		int err = errno;

		munmap(p, len);
		errno = err;
		return NULL;
	}
	if (populate)
		fill_pages(p, len);
	return p;
}

void unmap_region(void *p, size_t len)
{
	if (p && p != MAP_FAILED)
		munmap(p, len);
}

/* Write every byte (a recognisable pattern, not zeroes). */
void fill_pages(void *p, size_t len)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = i * 0x9e3779b97f4a7c15ULL + 1;
}

/* One store per page: the first touch that faults each page in. */
void touch_write(void *p, size_t len)
{
	volatile char *c = p;
	size_t i;

	for (i = 0; i < len; i += pagesz)
		c[i] = 1;
}

void touch_read(const void *p, size_t len)
{
	const volatile char *c = p;
	size_t i;

	for (i = 0; i < len; i += pagesz)
		(void)c[i];
}

/*
 * Sum AnonHugePages and Rss over the VMAs of this process that overlap
 * [addr, addr + len), from /proc/self/smaps. Return: 0 or -1.
 */
int smaps_range(const void *addr, size_t len, long *anon_huge_kb,
		long *rss_kb)
{
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	bool in = false;
	char line[512];
	FILE *f;

	*anon_huge_kb = 0;
	*rss_kb = 0;
	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		long kb;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start < hi && end > lo;
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			*anon_huge_kb += kb;
		else if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			*rss_kb += kb;
	}
	fclose(f);
	return 0;
}

/* The selected word of /sys/kernel/mm/transparent_hugepage/enabled. */
const char *thp_mode(char *buf, size_t len)
{
	char line[128], *a, *b;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	snprintf(buf, len, "unknown");
	if (!f)
		return buf;
	if (fgets(line, sizeof(line), f)) {
		a = strchr(line, '[');
		b = a ? strchr(a, ']') : NULL;
		if (a && b) {
			*b = 0;
			snprintf(buf, len, "%s", a + 1);
		}
	}
	fclose(f);
	return buf;
}

int sysctl_read(const char *path, long *val)
{
	FILE *f = fopen(path, "re");
	int ret = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", val) == 1)
		ret = 0;
	fclose(f);
	return ret;
}

int sysctl_write(const char *path, long val)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", val) < 0 ? -1 : 0;
	if (fclose(f))
		ret = -1;
	return ret;
}

/* --------------------------------------------------------- counters */

#define DEBUGFS		"/sys/kernel/debug"
#define STATS_FILE	DEBUGFS "/xpmem/stats"

const char *const counter_names[C_NR] = {
	[C_SEGMENTS] = "segments",
	[C_PERMITS] = "permits",
	[C_ATTACHMENTS] = "attachments",
	[C_FAULTS] = "faults",
	[C_FAULT_PAGES] = "fault_pages",
	[C_FAULT_HUGE] = "fault_huge",
	[C_INVALIDATIONS] = "invalidations",
	[C_ZAPS] = "zaps",
	[C_ZAP_PAGES] = "zap_pages",
};

static int stats_fd = -1;

/*
 * Open the stats file, mounting debugfs first if needed. Return: whether
 * the counters are available. Called once; later reads reuse the fd.
 */
bool counters_init(void)
{
	struct stat st;

	if (stats_fd >= 0)
		return true;
	if (stat(DEBUGFS "/xpmem", &st) && errno == ENOENT &&
	    stat(DEBUGFS "/tracing", &st) && stat(DEBUGFS "/bdi", &st))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	stats_fd = open(STATS_FILE, O_RDONLY | O_CLOEXEC);
	return stats_fd >= 0;
}

void counters_zero(struct counters *c)
{
	memset(c, 0, sizeof(*c));
}

/* Read every counter the module has; the others stay !have. */
void counters_read(struct counters *c)
{
	char buf[4096], *line, *save = NULL;
	ssize_t n;

	counters_zero(c);
	if (stats_fd < 0)
		return;
	n = pread(stats_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		long long v;
		int i;

		if (sscanf(line, "%63s %lld", name, &v) != 2)
			continue;
		for (i = 0; i < C_NR; i++) {
			if (!strcmp(name, counter_names[i])) {
				c->have[i] = true;
				c->v[i] = v;
			}
		}
	}
}

/* @d = @after - @before (live-object counts too: the change). */
void counters_delta(struct counters *d, const struct counters *before,
		    const struct counters *after)
{
	int i;

	for (i = 0; i < C_NR; i++) {
		d->have[i] = before->have[i] && after->have[i];
		d->v[i] = d->have[i] ? after->v[i] - before->v[i] : 0;
	}
}

/* Add a delta to a sum; a sum starts from counters_zero() and @have. */
void counters_add(struct counters *sum, const struct counters *d)
{
	int i;

	for (i = 0; i < C_NR; i++) {
		sum->have[i] = d->have[i];
		sum->v[i] += d->v[i];
	}
}
