// SPDX-License-Identifier: GPL-2.0
/*
 * limits.c - what the driver allocates for a process is charged to that
 * process's memory cgroup, so a user confined by memory.max cannot make
 * the kernel allocate without bound through /dev/xpmem.
 *
 * Each test makes a cgroup v2 group of its own with the memory controller
 * (mounting cgroup2 at /sys/fs/cgroup if nothing is mounted there), runs a
 * child in it and reads the group's memory.current: segments, permits and
 * attachments must each raise it by at least OBJ_MIN bytes apiece (an
 * attachment on top of what a plain mapping of a page costs), and a
 * flood of segments by an unprivileged user in a group limited to 8 MiB
 * must stop with ENOMEM or a memory-cgroup OOM kill long before
 * FLOOD_MAX, after which nothing of it is left in the module.
 * Kernels without memory cgroups (the debug-kernel lane's) skip them.
 */
#include "xpmem_test.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define OBJ_MIN		64	/* bytes; every object is larger than this */
#define NSEGS		32768
#define NATTS		16384
#define FLOOD_MAX	400000	/* 400000 * OBJ_MIN is far over 8 MiB */
#define FLOOD_LIMIT	"8M"

/* Write @val to @dir/@file. Return: 0 or -1 with errno set. */
static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];
	ssize_t len = strlen(val), n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, len);
	close(fd);
	return n == len ? 0 : -1;
}

/* The number in @dir/@file, or -1. */
static long long cg_read(const char *dir, const char *file)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * A memory cgroup for one test, or a reason why there is none. Children
 * join it with cg_write(dir, "cgroup.procs", "0").
 */
FIXTURE(cg) {
	char dir[128];
	const char *why;	/* set when there is no group */
};

FIXTURE_SETUP(cg)
{
	char ctl[256] = "";
	FILE *f;

	self->why = NULL;
	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL)) {
		self->why = "cannot mount cgroup2 at " CG_ROOT
			    " (a kernel without cgroups?)";
		return;
	}
	f = fopen(CG_ROOT "/cgroup.controllers", "r");
	if (f) {
		if (!fgets(ctl, sizeof(ctl), f))
			ctl[0] = 0;
		fclose(f);
	}
	if (!strstr(ctl, "memory")) {
		self->why = "the kernel has no memory cgroup controller";
		return;
	}
	ASSERT_EQ(0, cg_write(CG_ROOT, "cgroup.subtree_control", "+memory"));
	snprintf(self->dir, sizeof(self->dir), CG_ROOT "/xpmem-limits-%d",
		 (int)getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0755));
	ASSERT_EQ(0, chmod(self->dir, 0755));
}

FIXTURE_TEARDOWN(cg)
{
	if (!self->why)
		rmdir(self->dir);
}

/* What a child in the group is to do. */
enum cg_job { JOB_SEGS, JOB_PERMITS, JOB_ATTS, JOB_FLOOD };

struct cg_arg {
	const char *dir;
	enum cg_job job;
};

/* memory.current of the group, checked. */
#define CUR(dir) ({							\
	long long __c = cg_read((dir), "memory.current");		\
	XT_CHECK(__c >= 0);						\
	__c;								\
})

/* Charged bytes of @n objects: report, and check at least OBJ_MIN each. */
static int check_charged(const char *what, long long bytes, long n)
{
	fprintf(stderr, "# %ld %s: memory.current +%lld bytes (%lld each)\n",
		n, what, bytes, bytes / n);
	XT_CHECK(bytes >= (long long)n * OBJ_MIN);
	return 0;
}

/* @n one-page attachments of @apid (or plain shared mappings if < 0). */
static int map_n(xpmem_apid_t apid, int memfd, void **at, long n)
{
	struct xpmem_addr addr = { .apid = apid, .offset = 0 };
	long i;

	for (i = 0; i < n; i++) {
		if (apid >= 0)
			at[i] = xpmem_attach(addr, xt_pg(), NULL);
		else
			at[i] = mmap(NULL, xt_pg(), PROT_READ | PROT_WRITE,
				     MAP_SHARED, memfd, 0);
		XT_CHECK(at[i] != MAP_FAILED);
	}
	return 0;
}

/* Child: join the group, do the job, measure what it cost the group. */
static int cg_child(struct xt_proc *parent, void *varg)
{
	struct cg_arg *a = varg;
	long long before, plain;
	xpmem_segid_t segid;
	xpmem_apid_t apid;
	char *buf;
	void **at;
	long i;
	int memfd;

	XT_CHECK_EQ(0, cg_write(a->dir, "cgroup.procs", "0"));
	buf = xt_region(1, 1);
	XT_CHECK(buf != MAP_FAILED);
	at = calloc(NATTS, sizeof(*at));
	XT_CHECK(at);
	/* The library's fd, and whatever a first call allocates, first. */
	segid = xpmem_make(buf, xt_pg(), XPMEM_PERMIT_MODE, XT_MODE(0600));
	XT_CHECK(segid > 0);
	apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	XT_CHECK(apid > 0);

	switch (a->job) {
	case JOB_SEGS:
		before = CUR(a->dir);
		for (i = 0; i < NSEGS; i++)
			XT_CHECK(xpmem_make(buf, xt_pg(), XPMEM_PERMIT_MODE,
					    XT_MODE(0600)) > 0);
		return check_charged("segments", CUR(a->dir) - before, NSEGS);
	case JOB_PERMITS:
		before = CUR(a->dir);
		for (i = 0; i < NSEGS; i++)
			XT_CHECK(xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE,
					   NULL) > 0);
		return check_charged("permits", CUR(a->dir) - before, NSEGS);
	case JOB_ATTS:
		/* What the mappings themselves cost, without xpmem. */
		memfd = memfd_create("limits", MFD_CLOEXEC);
		XT_CHECK(memfd >= 0);
		XT_CHECK_EQ(0, ftruncate(memfd, xt_pg()));
		before = CUR(a->dir);
		if (map_n(-1, memfd, at, NATTS))
			return 1;
		plain = CUR(a->dir) - before;
		for (i = 0; i < NATTS; i++)
			XT_CHECK_EQ(0, munmap(at[i], xt_pg()));
		before = CUR(a->dir);
		if (map_n(apid, -1, at, NATTS))
			return 1;
		fprintf(stderr, "# %d plain mappings: memory.current +%lld bytes\n",
			NATTS, plain);
		return check_charged("attachments (beyond a plain mapping)",
				     CUR(a->dir) - before - plain, NATTS);
	case JOB_FLOOD:
		XT_CHECK_EQ(0, xt_become(XT_NOBODY, XT_NOBODY, -1));
		/* Tell the parent how far it got; exit 0 on ENOMEM. */
		for (i = 0; i < FLOOD_MAX; i++) {
			if (xpmem_make(buf, xt_pg(), XPMEM_PERMIT_MODE,
				       XT_MODE(0600)) < 0) {
				fprintf(stderr, "# flood: make %ld failed: %s\n",
					i, strerror(errno));
				XT_CHECK_EQ(ENOMEM, errno);
				return 0;
			}
		}
		fprintf(stderr, "# flood: %d segments made, no limit hit\n",
			FLOOD_MAX);
		return 2;
	}
	return 1;
}

static int run_job(struct __test_metadata *_metadata, FIXTURE_DATA(cg) *self,
		   enum cg_job job)
{
	struct cg_arg a = { .dir = self->dir, .job = job };

	if (self->why)
		return -1;
	return xt_run(cg_child, &a);
}

TEST_F(cg, segments_are_charged_to_the_makers_memory_cgroup)
{
	int ret = run_job(_metadata, self, JOB_SEGS);

	if (self->why)
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, ret);
}

TEST_F(cg, permits_are_charged_to_the_getters_memory_cgroup)
{
	int ret = run_job(_metadata, self, JOB_PERMITS);

	if (self->why)
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, ret);
}

TEST_F(cg, attachments_are_charged_to_the_attachers_memory_cgroup)
{
	int ret = run_job(_metadata, self, JOB_ATTS);

	if (self->why)
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, ret);
}

/*
 * An unprivileged flood of segments in a group limited to 8 MiB ends in
 * ENOMEM or a memory-cgroup OOM kill, and leaves nothing behind.
 */
TEST_F(cg, segment_flood_stops_at_the_cgroup_memory_limit)
{
	char events[160];
	long long max_events;
	int ret;

	if (self->why)
		SKIP(return, "%s", self->why);
	ASSERT_EQ(0, cg_write(self->dir, "memory.max", FLOOD_LIMIT));
	ret = run_job(_metadata, self, JOB_FLOOD);
	snprintf(events, sizeof(events), "%s/memory.events", self->dir);
	max_events = xt_keyed(events, "max");
	TH_LOG("flood child ended with %d (0: ENOMEM, %d: OOM kill); "
	       "memory.events max %lld", ret, XT_SIG(SIGKILL), max_events);
	ASSERT_TRUE(ret == 0 || ret == XT_SIG(SIGKILL));
	ASSERT_LT(0, max_events);
	/* The child's segments went with it. */
	ASSERT_EQ(0, xt_stat("segments"));
}

TEST_HARNESS_MAIN
