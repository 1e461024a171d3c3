// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - random and malformed ioctls on /dev/xpmem from several processes
 * at once. Every call must return (nothing hangs) with a documented result:
 * the value or errno that docs/semantics.md allows for that command, and,
 * where the arguments alone decide it, exactly the documented one (EFAULT
 * for an unreadable argument, EINVAL for an id <= 0 or a bad permit type or
 * mode, ENOTTY for an unknown command, 2004 in a fork child that uses its
 * parent's fd, the version from VERSION).
 *
 * Knobs (environment): FUZZ_SECONDS (default 20), FUZZ_SEED (default
 * random, printed), FUZZ_PROCS (default 3).
 *
 * Each process runs two threads on one /dev/xpmem fd, issuing: command
 * numbers at, near and far from the nine xpmem commands; argument pointers
 * that are NULL, kernel, non-canonical, unmapped, PROT_NONE, read-only (so
 * the out field cannot be written), straddling into an unmapped page, or
 * inside an xpmem attachment of the process's own segment; ids of its own
 * and other processes' segments and permits, live, removed and released,
 * zero, negative and made up; random sizes, offsets (huge, negative,
 * overflowing), addresses, flags, permit types and modes. Processes fork
 * children that use the inherited fd (every command but VERSION must fail
 * with 2004) or their own, and are SIGKILLed at a random point of their
 * calls. The kernel log scan of run_tests.sh catches what the kernel says
 * about it; the module's counters must show nothing left at the end.
 */
#include "stress.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <uapi/xpmem_ioctl.h>

#define MAXF		8	/* processes */
#define POOL		64	/* ids shared between processes */
#define NATT		16	/* attachments a thread keeps */
#define SCRATCH_SLOTS	16
#define SLOT_PAGES	16
#define MAX_MSGS	10
#define NOPROC		XPMEM_ERRNO_NOPROC
#define VERSION_3_0	0x00030000
#define TASK_TOP	0x7ffffffff000ULL	/* x86_64 TASK_SIZE, 4 levels */

#define LD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ST(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x)		__atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)

enum { K_VERSION, K_MAKE, K_REMOVE, K_GET, K_RELEASE, K_ATTACH, K_DETACH,
	K_FORK_BEGIN, K_FORK_END, K_OTHER, K_N };
static const char *const k_name[] = {
	"VERSION", "MAKE", "REMOVE", "GET", "RELEASE", "ATTACH", "DETACH",
	"FORK_BEGIN", "FORK_END", "other",
};
static const unsigned long k_cmd[] = {
	XPMEM_CMD_VERSION, XPMEM_CMD_MAKE, XPMEM_CMD_REMOVE, XPMEM_CMD_GET,
	XPMEM_CMD_RELEASE, XPMEM_CMD_ATTACH, XPMEM_CMD_DETACH,
	XPMEM_CMD_FORK_BEGIN, XPMEM_CMD_FORK_END,
};

struct shared {
	uint64_t stop;
	uint64_t seed;
	int64_t segids[POOL];
	int64_t apids[POOL];
	uint64_t hb[MAXF][3];	/* thread 0, thread 1, fork children */
	int32_t pid[MAXF];
	uint64_t fails, calls, child_calls, kills, noproc_checked;
	uint64_t ok[K_N], err[K_N];
};

static struct shared *sh;
static long pg;
static int fd;
static int proc_idx;
static int msgs;
static char *argpage;	/* 2 pages RW, then 1 PROT_NONE */
static char *ropage;	/* 1 page read-only */
static char *nonepage;	/* 1 page PROT_NONE */
static char *holepage;	/* an address never mapped */
static char *scratch;	/* SCRATCH_SLOTS * SLOT_PAGES, PROT_NONE */
static char *selfatt;	/* attachment of our own argseg, or NULL */
static char *selfsrc;
static int64_t selfseg;

#define FFAIL(fmt, ...) do {						\
	INC(sh->fails);							\
	if (msgs++ < MAX_MSGS)						\
		xs_say("# FAIL [process %d pid %d] " fmt "\n", proc_idx, \
		       (int)getpid(), ##__VA_ARGS__);			\
} while (0)

/* ------------------------------------------------------------ choices */

struct thr {
	struct xs_rng r;
	int idx;
	int64_t segs[8];	/* made by this thread */
	int64_t aps[8];
	uint64_t atts[NATT];	/* addresses this thread attached */
	int natt;
};

static int64_t pick_id(struct thr *t, int seg)
{
	int64_t *pool = seg ? sh->segids : sh->apids;
	int64_t *own = seg ? t->segs : t->aps;
	int64_t id;

	switch (xs_below(&t->r, 10)) {
	case 0:
		return 0;
	case 1:
		return -(int64_t)xs_below(&t->r, 1000) - 1;
	case 2:
		return INT64_MAX;
	case 3:
		return (int64_t)(xs_next(&t->r) >> 1);
	case 4:
	case 5:
		return own[xs_below(&t->r, 8)];
	case 6:		/* a real index with made-up high bits */
		id = LD(pool[xs_below(&t->r, POOL)]);
		return id ^ (int64_t)(1ULL << (32 + xs_below(&t->r, 30)));
	default:
		return LD(pool[xs_below(&t->r, POOL)]);
	}
}

static void publish(struct thr *t, int seg, int64_t id)
{
	if (seg) {
		t->segs[xs_below(&t->r, 8)] = id;
		ST(sh->segids[xs_below(&t->r, POOL)], id);
	} else {
		t->aps[xs_below(&t->r, 8)] = id;
		ST(sh->apids[xs_below(&t->r, POOL)], id);
	}
}

static uint64_t pick_size(struct thr *t)
{
	switch (xs_below(&t->r, 8)) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX;
	case 2:
		return xs_next(&t->r);
	case 3:
		return (uint64_t)pg * (1 + xs_below(&t->r, 4)) + 1;
	case 4:
		return (uint64_t)1 << (20 + xs_below(&t->r, 30));
	default:
		return (uint64_t)pg * (1 + xs_below(&t->r, SLOT_PAGES));
	}
}

/*
 * The argument pointer: *@bad is set if it cannot be read at all (then
 * every struct command must fail with EFAULT), *@ro if it is read-only
 * (the out field cannot be written).
 */
static char *pick_arg(struct thr *t, int k, int *bad, int *ro)
{
	*bad = 0;
	*ro = 0;
	switch (xs_below(&t->r, 20)) {
	case 0:
		*bad = 1;
		return NULL;
	case 1:
		*bad = 1;
		return (char *)0xffffffff81000000UL;
	case 2:
		*bad = 1;
		return (char *)0x8000000000000000UL;
	case 3:		/* below mmap_min_addr: never mapped */
		*bad = 1;
		return (char *)4096;
	case 4:
		*bad = 1;
		return nonepage;
	case 5:		/* runs into the PROT_NONE page after argpage */
		*bad = 1;
		return argpage + 2 * pg - 4;
	case 6:		/* a MAKE, a GET, an ATTACH that would work */
		*ro = 1;
		if (k == K_MAKE || k == K_GET || k == K_ATTACH)
			return ropage + 64 * xs_below(&t->r, 3);
		/* Zeros: a REMOVE or RELEASE here must not hit selfseg. */
		return ropage + 192;
	case 7:
		/* our own segment, attached: the copy faults through xpmem */
		if (selfatt && t->idx == 0)
			return selfatt + 64 * xs_below(&t->r, 8);
		/* our own page: thread 0's calls use page 0 */
		return argpage + t->idx * pg;
	default:
		return argpage + t->idx * pg + 8 * xs_below(&t->r, 16);
	}
}

/* ------------------------------------------------------------ one call */

static int allowed(int k, int e)
{
	switch (k) {
	case K_MAKE:
		return e == EINVAL || e == EFAULT || e == ENOMEM || e == NOPROC;
	case K_REMOVE:
	case K_RELEASE:
		return e == EINVAL || e == ENOENT || e == EACCES ||
		       e == EFAULT || e == NOPROC;
	case K_GET:
		return e == EINVAL || e == ENOENT || e == EACCES ||
		       e == EFAULT || e == ENOMEM || e == NOPROC;
	case K_ATTACH:
		return e == EINVAL || e == ENOENT || e == EACCES ||
		       e == EFAULT || e == ENOMEM || e == ENOSPC ||
		       e == NOPROC;
	case K_DETACH:
		return e == EINVAL || e == EFAULT || e == NOPROC;
	case K_FORK_BEGIN:
	case K_FORK_END:
		return e == NOPROC;
	case K_OTHER:
		return e == ENOTTY;
	default:
		return 0;
	}
}

/* Command numbers near and far from ours; never a generic VFS ioctl. */
static unsigned long other_cmd(struct thr *t)
{
	unsigned long c;
	unsigned int type;

	for (;;) {
		switch (xs_below(&t->r, 4)) {
		case 0:	/* _IO('x', 9..255) */
			c = _IO(XPMEM_IOC_MAGIC, 9 + xs_below(&t->r, 247));
			break;
		case 1:	/* ours with a direction and size */
			c = _IOC(1 + xs_below(&t->r, 3), XPMEM_IOC_MAGIC,
				 xs_below(&t->r, 9), xs_below(&t->r, 64));
			break;
		case 2:	/* ours in another type byte */
			c = _IO('x' + 1 + xs_below(&t->r, 4), xs_below(&t->r, 9));
			break;
		default:
			c = (uint32_t)xs_next(&t->r);
		}
		/* The VFS answers these types itself (FIOCLEX, FIFREEZE...). */
		type = _IOC_TYPE(c);
		if (type != 'T' && type != 'X' && type != 'f' && type != 0x94 &&
		    type != 0x15 && type != 0)
			return c;
	}
}

/* What the arguments alone decide: the errno, or 0 if they do not. */
struct call {
	int k;
	unsigned long cmd;
	char *arg;
	int bad, ro;
	int expect;		/* errno it must be, 0 if not known */
	int never_ok;		/* must fail */
	union {
		struct xpmem_cmd_make make;
		struct xpmem_cmd_remove remove;
		struct xpmem_cmd_get get;
		struct xpmem_cmd_release release;
		struct xpmem_cmd_attach attach;
		struct xpmem_cmd_detach detach;
	} u;
	size_t len;
};

static void build(struct thr *t, struct call *c)
{
	uint64_t slot;
	long off;

	memset(&c->u, 0, sizeof(c->u));
	c->expect = 0;
	c->never_ok = 0;
	switch (c->k) {
	case K_MAKE:
		c->len = sizeof(c->u.make);
		switch (xs_below(&t->r, 6)) {
		case 0:
			c->u.make.vaddr = xs_next(&t->r);
			break;
		case 1:
			c->u.make.vaddr = 0;
			break;
		case 2:
			c->u.make.vaddr = (uint64_t)(uintptr_t)argpage + 1;
			break;
		default:
			c->u.make.vaddr = (uint64_t)(uintptr_t)argpage;
		}
		c->u.make.size = pick_size(t);
		c->u.make.permit_type = xs_chance(&t->r, 85) ?
			XPMEM_PERMIT_MODE_TYPE : (int32_t)xs_next(&t->r);
		c->u.make.permit_value = xs_chance(&t->r, 80) ? 0600 :
					 xs_chance(&t->r, 50) ? 01000 :
					 xs_next(&t->r);
		c->u.make.segid = (int64_t)xs_next(&t->r);
		if (c->u.make.permit_type != XPMEM_PERMIT_MODE_TYPE ||
		    (c->u.make.permit_value & ~0777ULL) || !c->u.make.size)
			c->expect = EINVAL;
		break;
	case K_REMOVE:
		c->len = sizeof(c->u.remove);
		c->u.remove.segid = pick_id(t, 1);
		if (c->u.remove.segid <= 0)
			c->expect = EINVAL;
		break;
	case K_GET:
		c->len = sizeof(c->u.get);
		c->u.get.segid = pick_id(t, 1);
		c->u.get.flags = xs_chance(&t->r, 80) ?
				 (int32_t)xs_below(&t->r, 3) :
				 (int32_t)xs_next(&t->r);
		c->u.get.permit_type = xs_chance(&t->r, 90) ?
			XPMEM_PERMIT_MODE_TYPE : (int32_t)xs_next(&t->r);
		c->u.get.permit_value = xs_chance(&t->r, 85) ? 0 : 0600;
		if (c->u.get.segid <= 0 ||
		    (c->u.get.flags & ~3) || c->u.get.flags == 3 ||
		    c->u.get.permit_type != XPMEM_PERMIT_MODE_TYPE ||
		    c->u.get.permit_value)
			c->expect = EINVAL;
		break;
	case K_RELEASE:
		c->len = sizeof(c->u.release);
		c->u.release.apid = pick_id(t, 0);
		if (c->u.release.apid <= 0)
			c->expect = EINVAL;
		break;
	case K_ATTACH:
		c->len = sizeof(c->u.attach);
		c->u.attach.apid = pick_id(t, 0);
		switch (xs_below(&t->r, 6)) {
		case 0:
			c->u.attach.offset = (int64_t)xs_next(&t->r);
			break;
		case 1:
			c->u.attach.offset = INT64_MAX - (int64_t)pg + 1;
			break;
		case 2:
			c->u.attach.offset = -(int64_t)pg;
			break;
		default:
			c->u.attach.offset = (int64_t)(pg * xs_below(&t->r, 4));
		}
		c->u.attach.size = pick_size(t);
		slot = (uint64_t)(uintptr_t)(scratch + (size_t)xs_below(
			&t->r, SCRATCH_SLOTS) * SLOT_PAGES * pg);
		switch (xs_below(&t->r, 8)) {
		case 0:
			c->u.attach.vaddr = slot + 1;
			break;
		case 1:
			c->u.attach.vaddr = 0xffffffff81000000ULL;
			break;
		case 2:
			c->u.attach.vaddr = TASK_TOP - pg;
			break;
		case 3:
		case 4:
			/* MAP_FIXED only where it cannot hit anything else */
			if (c->u.attach.size &&
			    c->u.attach.size <= (uint64_t)SLOT_PAGES * pg)
				c->u.attach.vaddr = slot;
			break;
		default:
			c->u.attach.vaddr = 0;
		}
		c->u.attach.fd = (int32_t)xs_next(&t->r);
		c->u.attach.flags = xs_chance(&t->r, 85) ?
				    (int32_t)xs_below(&t->r, 2) :
				    (int32_t)xs_next(&t->r);
		/*
		 * POPULATE walks the range page by page, holes included: on
		 * a segment of the whole address space that takes hours
		 * (killable, but no use here).
		 */
		if (c->u.attach.size > (64ULL << 20))
			c->u.attach.flags &= ~XPMEM_ATTACH_POPULATE;
		if (c->u.attach.apid <= 0 || (c->u.attach.flags & ~1))
			c->expect = EINVAL;
		break;
	case K_DETACH:
		c->len = sizeof(c->u.detach);
		switch (xs_below(&t->r, 6)) {
		case 0:
			c->u.detach.vaddr = (uint64_t)(uintptr_t)argpage;
			c->expect = EINVAL;	/* not an attachment */
			break;
		case 1:
			c->u.detach.vaddr = 0xffffffff81000000ULL;
			break;
		case 2:
			c->u.detach.vaddr = (uint64_t)(uintptr_t)holepage;
			break;
		default:
			c->u.detach.vaddr = t->natt ?
				t->atts[xs_below(&t->r, t->natt)] +
				xs_below(&t->r, (uint64_t)pg) :
				(uint64_t)(uintptr_t)scratch;
		}
		break;
	default:
		c->len = 8;
	}
	/* An unreadable argument fails before anything is looked at. */
	if (c->bad && c->k >= K_MAKE && c->k <= K_DETACH)
		c->expect = EFAULT;
	/* The out field cannot be written: the call is undone. */
	if (c->ro) {
		/* The kernel reads what proc_main() put there, not c->u. */
		off = c->arg - ropage;
		c->expect = (c->k == K_MAKE && off == 0) ||
			    (c->k == K_GET && off == 64) ? EFAULT : 0;
		c->never_ok = c->k == K_MAKE || c->k == K_GET ||
			      c->k == K_ATTACH;
	}
}

/* Issue one random call on @cfd and check its result. */
static void one_call(struct thr *t, int cfd, int inherited)
{
	struct call c;
	long ret;
	int e;

	c.k = xs_below(&t->r, 100);
	c.k = c.k < 4 ? K_VERSION : c.k < 20 ? K_MAKE : c.k < 30 ? K_REMOVE :
	      c.k < 45 ? K_GET : c.k < 55 ? K_RELEASE : c.k < 75 ? K_ATTACH :
	      c.k < 85 ? K_DETACH : c.k < 88 ? K_FORK_BEGIN :
	      c.k < 91 ? K_FORK_END : K_OTHER;
	c.cmd = c.k == K_OTHER ? other_cmd(t) : k_cmd[c.k];
	c.arg = pick_arg(t, c.k, &c.bad, &c.ro);
	build(t, &c);
	if (!c.bad && !c.ro)
		memcpy(c.arg, &c.u, c.len);
	if (inherited) {
		/* Only VERSION (and unknown commands) work with a parent's fd. */
		if (c.k != K_VERSION && c.k != K_OTHER)
			c.expect = NOPROC;
		c.never_ok = c.k != K_VERSION;
	}
	if (c.k == K_OTHER)
		c.expect = ENOTTY;

	ret = ioctl(cfd, c.cmd, c.arg);
	e = ret < 0 ? errno : 0;
	INC(sh->calls);
	if (c.k == K_VERSION) {
		INC(sh->ok[K_VERSION]);
		if (ret != VERSION_3_0)
			FFAIL("VERSION returned %ld (errno %d), not %#x", ret,
			      e, VERSION_3_0);
		return;
	}
	if (ret > 0 || ret < -1) {
		FFAIL("%s (cmd %#lx) returned %ld", k_name[c.k], c.cmd, ret);
		return;
	}
	if (ret == 0) {
		INC(sh->ok[c.k]);
		if (c.expect || c.never_ok)
			FFAIL("%s (cmd %#lx, arg %p) worked; expected %s",
			      k_name[c.k], c.cmd, (void *)c.arg,
			      c.expect ? strerror(c.expect) : "a failure");
		if (c.bad || c.ro)
			return;
		memcpy(&c.u, c.arg, c.len);
		if (c.k == K_MAKE)
			publish(t, 1, c.u.make.segid);
		else if (c.k == K_GET)
			publish(t, 0, c.u.get.apid);
		else if (c.k == K_ATTACH && c.u.attach.vaddr) {
			if (t->natt == NATT) {
				/* keep the address space small */
				ioctl(cfd, XPMEM_CMD_DETACH, &t->atts[0]);
				t->atts[0] = t->atts[--t->natt];
			}
			t->atts[t->natt++] = c.u.attach.vaddr;
		}
		return;
	}
	INC(sh->err[c.k]);
	if (e == NOPROC && inherited)
		INC(sh->noproc_checked);
	if (!allowed(c.k, e))
		FFAIL("%s (cmd %#lx, arg %p) failed with errno %d (%s), not "
		      "one documented for it", k_name[c.k], c.cmd,
		      (void *)c.arg, e, strerror(e));
	else if (c.expect && e != c.expect)
		FFAIL("%s (cmd %#lx, arg %p) failed with %s; expected %s",
		      k_name[c.k], c.cmd, (void *)c.arg, strerror(e),
		      strerror(c.expect));
}

/* ------------------------------------------------------------ processes */

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	while (!LD(sh->stop)) {
		INC(sh->hb[proc_idx][t->idx]);
		one_call(t, fd, 0);
	}
	return NULL;
}

/* A fork child: calls on the inherited fd, or on its own, until killed. */
static void child_main(struct thr *t, int own)
{
	int cfd = fd, n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (own) {
		cfd = open("/dev/xpmem", O_RDWR);
		if (cfd < 0) {
			FFAIL("open /dev/xpmem in a fork child: %s",
			      strerror(errno));
			_exit(1);
		}
	}
	selfatt = NULL;		/* not inherited */
	for (n = 0; n < 400 && !LD(sh->stop); n++) {
		INC(sh->hb[proc_idx][2]);
		INC(sh->child_calls);
		one_call(t, cfd, !own);
	}
	_exit(0);
}

static void fork_one(struct thr *t)
{
	uint64_t start = LD(sh->child_calls), at;
	int status, own = xs_chance(&t->r, 50);
	pid_t pid, r = 0;

	pid = fork();
	if (pid < 0) {
		FFAIL("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		xs_rng_init(&t->r, sh->seed, xs_next(&t->r));
		child_main(t, own);
	}
	/* SIGKILL it at a random point of its calls (or let it finish). */
	at = start + xs_below(&t->r, 300);
	while (LD(sh->child_calls) < at &&
	       (r = waitpid(pid, &status, WNOHANG)) == 0)
		sched_yield();
	if (r == 0) {
		if (kill(pid, SIGKILL) == 0)
			INC(sh->kills);
		r = waitpid(pid, &status, 0);
	}
	if (r != pid)
		FFAIL("waitpid: %s", strerror(errno));
	else if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) &&
		 !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		FFAIL("fork child ended with status %#x", status);
}

static void proc_main(int i)
{
	static struct thr t[2];
	struct xpmem_cmd_make make = { 0 };
	struct xpmem_cmd_get get = { 0 };
	struct xpmem_cmd_attach att = { 0 };
	pthread_t th;
	int j;

	proc_idx = i;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	xs_probe_setup();
	fd = open("/dev/xpmem", O_RDWR);
	argpage = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ropage = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	nonepage = mmap(NULL, pg, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	scratch = mmap(NULL, (size_t)SCRATCH_SLOTS * SLOT_PAGES * pg,
		       PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	selfsrc = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || argpage == MAP_FAILED || ropage == MAP_FAILED ||
	    nonepage == MAP_FAILED || scratch == MAP_FAILED ||
	    selfsrc == MAP_FAILED) {
		FFAIL("setup: %s", strerror(errno));
		_exit(1);
	}
	/* PROT_NONE, not unmapped: nothing else can land there. */
	mprotect(argpage + 2 * pg, pg, PROT_NONE);
	holepage = (char *)4096;

	/* Our own segment, attached: ioctl arguments that fault via xpmem. */
	make.vaddr = (uint64_t)(uintptr_t)selfsrc;
	make.size = pg;
	make.permit_type = XPMEM_PERMIT_MODE_TYPE;
	make.permit_value = 0600;
	if (ioctl(fd, XPMEM_CMD_MAKE, &make)) {
		FFAIL("MAKE of a plain page: %s", strerror(errno));
		_exit(1);
	}
	selfseg = make.segid;
	get.segid = selfseg;
	get.flags = XPMEM_GET_RDWR;
	get.permit_type = XPMEM_PERMIT_MODE_TYPE;
	att.size = pg;
	if (ioctl(fd, XPMEM_CMD_GET, &get) ||
	    (att.apid = get.apid, ioctl(fd, XPMEM_CMD_ATTACH, &att))) {
		FFAIL("GET/ATTACH of our own segment: %s", strerror(errno));
		_exit(1);
	}
	selfatt = (char *)(uintptr_t)att.vaddr;

	/*
	 * A read-only page holding a MAKE, a GET and an ATTACH that would
	 * work: each must fail with EFAULT (the out field) and be undone.
	 */
	make.segid = 0;
	get.apid = 0;
	att.vaddr = 0;
	memcpy(ropage, &make, sizeof(make));
	memcpy(ropage + 64, &get, sizeof(get));
	memcpy(ropage + 128, &att, sizeof(att));
	mprotect(ropage, pg, PROT_READ);

	for (j = 0; j < 2; j++) {
		t[j].idx = j;
		xs_rng_init(&t[j].r, sh->seed, 100 + (uint64_t)i * 10 + j);
	}
	if (pthread_create(&th, NULL, thread_main, &t[1])) {
		FFAIL("pthread_create failed");
		_exit(1);
	}
	while (!LD(sh->stop)) {
		INC(sh->hb[i][0]);
		if (xs_chance(&t[0].r, 1))
			fork_one(&t[0]);
		else
			one_call(&t[0], fd, 0);
	}
	pthread_join(th, NULL);
	_exit(0);
}

/* ------------------------------------------------------------ driver */

int main(void)
{
	uint64_t seed, secs, last[MAXF][3] = { { 0 } }, total = 0;
	double now, end, moved[MAXF], hang_secs, deadline;
	pid_t pids[MAXF];
	int i, j, n, status, hangs = 0, bad = 0, left, stuck;
	struct xs_tap tap;

	pg = sysconf(_SC_PAGESIZE);
	seed = xs_seed("FUZZ_SEED");
	secs = xs_env("FUZZ_SECONDS", 20, 1, 7 * 86400);
	n = (int)xs_env("FUZZ_PROCS", 3, 1, MAXF);
	hang_secs = (double)xs_env("FUZZ_HANG_SECONDS", 120, 5, 3600);
	if (access("/dev/xpmem", R_OK | W_OK)) {
		xs_say("TAP version 13\n1..0 # SKIP /dev/xpmem is missing: "
		       "load xpmem.ko (see test/run_tests.sh)\n");
		return 4;
	}
	xs_tap_plan(&tap, "fuzz", 4);
	xs_say("# seed %" PRIu64 " (repeat with FUZZ_SEED=%" PRIu64 "), %"
	       PRIu64 " s, %d processes\n", seed, seed, secs, n);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		xs_say("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	sh->seed = seed;
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	xs_tap_begin(&tap, "ioctls_return_documented_results");
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			xs_say("Bail out! fork: %s\n", strerror(errno));
			return 1;
		}
		if (pids[i] == 0)
			proc_main(i);
		moved[i] = xs_now();
	}
	now = xs_now();
	end = now + (double)secs;
	/* Watchdog: every thread (and the fork children) must keep going. */
	for (;;) {
		now = xs_now();
		if (now >= end && !LD(sh->stop))
			ST(sh->stop, 1);
		left = 0;
		for (i = 0; i < n; i++) {
			if (!pids[i])
				continue;
			if (waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					xs_say("# FAIL: process %d ended with "
					       "status %#x\n", i, status);
					bad++;
				}
				pids[i] = 0;
				continue;
			}
			left++;
			stuck = 0;
			for (j = 0; j < 2; j++)
				stuck |= LD(sh->hb[i][j]) == last[i][j];
			if (!stuck) {
				for (j = 0; j < 3; j++)
					last[i][j] = LD(sh->hb[i][j]);
				moved[i] = now;
			} else if (now - moved[i] > hang_secs) {
				pid_t sub[16];
				int k, ns;

				xs_say("# FAIL: process %d (pid %d) made no "
				       "progress for %.0f s; its threads:\n",
				       i, (int)pids[i], now - moved[i]);
				xs_dump_stacks(pids[i]);
				ns = xs_children(pids[i], sub, 16);
				for (k = 0; k < ns; k++) {
					xs_say("#   its child %d:\n",
					       (int)sub[k]);
					xs_dump_stacks(sub[k]);
				}
				hangs++;
				kill(pids[i], SIGKILL);
				moved[i] = now + 3600;
			}
		}
		if (!left)
			break;
		deadline = end + 2 * hang_secs;
		if (now > deadline)
			break;
		poll(NULL, 0, 50);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;

	for (i = 0; i < K_N; i++) {
		xs_say("# %-10s %8" PRIu64 " worked, %8" PRIu64 " failed\n",
		       k_name[i], sh->ok[i], sh->err[i]);
		total += sh->ok[i] + sh->err[i];
	}
	xs_say("# %" PRIu64 " calls (%" PRIu64 " from fork children, %" PRIu64
	       " of them killed; %" PRIu64 " NOPROC checks), %" PRIu64
	       " wrong results\n", sh->calls, sh->child_calls, sh->kills,
	       sh->noproc_checked, sh->fails);
	xs_tap_end(&tap, "ioctls_return_documented_results",
		   !sh->fails && total > 0 && sh->ok[K_ATTACH] &&
		   sh->ok[K_GET] && sh->ok[K_MAKE]);

	xs_tap_begin(&tap, "calls_racing_with_sigkill");
	xs_tap_end(&tap, "calls_racing_with_sigkill",
		   sh->kills > 0 && sh->noproc_checked > 0 && !bad);

	xs_tap_begin(&tap, "no_call_hangs");
	xs_tap_end(&tap, "no_call_hangs", !hangs && !left);

	xs_tap_no_objects_left(&tap);
	xs_say("# seed %" PRIu64 " (repeat with FUZZ_SEED=%" PRIu64 ")\n",
	       seed, seed);
	return xs_tap_done(&tap);
}
