// SPDX-License-Identifier: GPL-2.0
/*
 * fault.c - how much one importer fault maps: batches of present pages,
 * 2 MiB and 1 GiB mappings of huge exporter pages (where the kernel has
 * huge PFN maps), huge-page aligned placement, and XPMEM_ATTACH_POPULATE.
 *
 * The 1 GiB tests need a free 1 GiB hugetlb page: test/check.sh boots the
 * guest with hugepagesz=1G hugepages=1 for them.
 *
 * Reads the module's counters in /sys/kernel/debug/xpmem/stats (mounting
 * debugfs if needed) and its parameters in /sys/module/xpmem/parameters/.
 */
#include "xpmem_test.h"

#define MIB		(1UL << 20)
#define HUGE		(2 * MIB)
#define GIB		(1UL << 30)

#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)
#endif

/* A module parameter as a number (Y/N as 1/0), or -1. */
static long xt_param(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/xpmem/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (buf[0] == 'Y')
		return 1;
	if (buf[0] == 'N')
		return 0;
	return strtol(buf, NULL, 0);
}

/* @len bytes of anonymous memory aligned to 2 MiB, THP or not, touched. */
static char *xt_aligned(size_t len, bool thp)
{
	char *raw, *p;

	raw = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return raw;
	p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	xt_fill(p, len, 3);
	return p;
}

static void *xt_attach_flags(xpmem_segid_t segid, size_t len, int flags)
{
	struct xpmem_addr addr;

	addr.apid = xpmem_get(segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (addr.apid == -1)
		return (void *)-1;
	addr.offset = 0;
	return xpmem_attach_flags(addr, len, NULL, flags);
}

/*
 * Export the 2 MiB at @src and attach all of it, RDWR, at a 2 MiB boundary
 * (so a fault's window is whole). Return: the attachment, or (void *)-1.
 */
static char *xt_export_attach_2mib(char *src, xpmem_segid_t *segid)
{
	struct xpmem_addr addr = { .offset = 0 };
	char *at;

	*segid = xpmem_make(src, HUGE, XPMEM_PERMIT_MODE, XT_MODE(0600));
	if (*segid <= 0)
		return (void *)-1;
	/* A 2 MiB aligned place to attach at (MAP_FIXED replaces it). */
	at = xt_map(2 * HUGE, PROT_NONE, MAP_PRIVATE, -1, 0);
	if (at == MAP_FAILED)
		return (void *)-1;
	at = (char *)(((uintptr_t)at + HUGE - 1) & ~(HUGE - 1));
	addr.apid = xpmem_get(*segid, XPMEM_RDWR, XPMEM_PERMIT_MODE, NULL);
	if (addr.apid <= 0)
		return (void *)-1;
	return xpmem_attach(addr, HUGE, at);
}

/*
 * 2 MiB of private anonymous memory nobody has touched, 4 KiB pages only,
 * at *@src, exported and attached as xt_export_attach_2mib() does.
 * Return: the attachment, or (void *)-1.
 */
static char *xt_unwritten_2mib(char **src, xpmem_segid_t *segid)
{
	char *raw = xt_map(2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			   -1, 0);

	if (raw == MAP_FAILED)
		return (void *)-1;
	*src = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	if (madvise(*src, HUGE, MADV_NOHUGEPAGE))
		return (void *)-1;
	return xt_export_attach_2mib(*src, segid);
}

/* Set a writable module parameter. Return: 0 or -1. */
static int xt_set_param(const char *name, long val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/xpmem/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", val) > 0 ? 0 : -1;
	return fclose(f) || ret ? -1 : 0;
}

#define KPF_THP		22	/* bits of /proc/kpageflags */
#define KPF_ZERO_PAGE	24

/* /proc/kpageflags of the page mapped at @p in this process, or 0. */
static uint64_t xt_kpageflags(const volatile void *p)
{
	uint64_t flags = 0, pfn = xt_pfn_of(p);
	int fd;

	if (!pfn)
		return 0;
	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &flags, sizeof(flags), pfn * sizeof(flags)) !=
	    sizeof(flags))
		flags = 0;
	close(fd);
	return flags;
}

/*
 * Exporter pages that a fault maps through vmf_insert_pfn_prot() (here the
 * huge zero page, which an untouched THP region reads as) must not starve
 * each other: a fault whose window starts with such pages already mapped
 * still maps the faulting page. (It once spent its budget on the mapped
 * ones and returned without mapping the faulting page, forever: an MPI
 * rank spun in that fault.) fault_pages 64, then 512, builds such a
 * window; the attachment starts one page into the source and into a 2 MiB
 * block of the importer, so that no 2 MiB entry is possible.
 */
TEST(fault_maps_faulting_page_after_mapped_huge_zero_pages)
{
	const uint64_t hzp = 1ULL << KPF_THP | 1ULL << KPF_ZERO_PAGE;
	long saved = xt_param("fault_pages");
	volatile char *src, *p;
	long long faults, seen;
	xpmem_segid_t segid;
	struct xt_att a;
	size_t pg = xt_pg();
	char *raw, *at;

	ASSERT_LT(0, saved);
	raw = xt_map(2 * HUGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	src = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	ASSERT_EQ(0, madvise((void *)src, HUGE, MADV_HUGEPAGE));
	ASSERT_EQ(0, src[0]);	/* a read: the huge zero page */
	if ((xt_kpageflags(src) & hzp) != hzp)
		SKIP(return, "the exporter did not get the huge zero page "
		     "(THP off, or transparent_hugepage/use_zero_page 0)");
	segid = xpmem_make((void *)src, HUGE, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	/*
	 * At one page past a 2 MiB boundary, so that the whole attachment
	 * lies in one importer page table (vaddr NULL cannot align a range
	 * of less than 2 MiB) and every window below is the one described.
	 */
	at = xt_map(2 * HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, at);
	at = (char *)(((uintptr_t)at + HUGE - 1) & ~(HUGE - 1));
	ASSERT_EQ(0, xt_get_attach_at(segid, XPMEM_RDWR, pg, HUGE - pg,
				      at + pg, &a));
	p = a.addr;

	faults = xt_stat("faults");
	ASSERT_EQ(0, xt_set_param("fault_pages", 64));
	seen = p[0];			/* maps pages 0..63 */
	ASSERT_EQ(0, xt_set_param("fault_pages", 512));
	/* Maps 64..510; the bug mapped 64..446 and never 447..510. */
	seen += p[100 * pg];
	seen += p[480 * pg];
	ASSERT_EQ(0, xt_set_param("fault_pages", saved));
	EXPECT_EQ(0, seen);
	EXPECT_EQ(faults + 2, xt_stat("faults"));
	EXPECT_EQ(0, xpmem_detach(a.addr));
	EXPECT_EQ(0, xpmem_release(a.apid));
	EXPECT_EQ(0, xpmem_remove(segid));
}

/*
 * One fault on a populated 4 KiB-page source maps fault_pages pages (the
 * attachment is 2 MiB, placed at a 2 MiB boundary, so the window is whole).
 */
TEST(fault_on_populated_source_maps_a_window_of_pages)
{
	long window = xt_param("fault_pages");
	long long faults, pages;
	xpmem_segid_t segid;
	char *src, *p;

	ASSERT_LT(0, window);
	ASSERT_LE(0, xt_stat("faults"));
	src = xt_aligned(HUGE, false);
	ASSERT_NE(MAP_FAILED, src);
	p = xt_export_attach_2mib(src, &segid);
	ASSERT_NE((void *)-1, p);

	faults = xt_stat("faults");
	pages = xt_stat("fault_pages");
	ASSERT_EQ(xt_pat(3, 0), (uint8_t)p[0]);
	EXPECT_EQ(faults + 1, xt_stat("faults"));
	EXPECT_EQ(pages + window, xt_stat("fault_pages"));
	/* ...and the rest of that window needs no fault. */
	ASSERT_EQ(-1, xt_bad(p, window * xt_pg(), 3));
	EXPECT_EQ(faults + 1, xt_stat("faults"));
	ASSERT_EQ(0, xpmem_remove(segid));
}

/*
 * A write to a hole of the exporter's private anonymous memory fills in
 * the 64-page block around it with one fault (the exporter gets exactly
 * those pages), and the write lands in the exporter.
 */
TEST(fault_on_anon_hole_fills_its_64_page_block)
{
	const long block = 64;
	long pg = (long)xt_pg();
	long long faults, pages;
	xpmem_segid_t segid;
	char *src, *p, rss[64];

	ASSERT_LE(0, xt_stat("faults"));
	p = xt_unwritten_2mib(&src, &segid);
	ASSERT_NE((void *)-1, p);

	faults = xt_stat("faults");
	pages = xt_stat("fault_pages");
	p[block * pg + 5] = 42;		/* in the second block */
	EXPECT_EQ(faults + 1, xt_stat("faults"));
	EXPECT_EQ(pages + block, xt_stat("fault_pages"));
	EXPECT_EQ(42, src[block * pg + 5]);
	/* The block's other pages need no fault, and are the exporter's. */
	p[2 * block * pg - 1] = 7;
	EXPECT_EQ(faults + 1, xt_stat("faults"));
	EXPECT_EQ(7, src[2 * block * pg - 1]);
	/* The exporter has that block and nothing else. */
	ASSERT_EQ(0, xt_smaps_field(src, "Rss", rss, sizeof(rss)));
	EXPECT_EQ(block * pg / 1024, strtol(rss, NULL, 10));
	ASSERT_EQ(0, xpmem_remove(segid));
}

/*
 * After the importer read an unwritten source (the exporter maps the zero
 * page there), its first write fills in the 64-page block around it with
 * one fault, as a write to a hole does: the block's other pages then take
 * writes without a fault, and the exporter gets exactly that block.
 */
TEST(write_after_read_of_unwritten_source_fills_its_64_page_block)
{
	const long block = 64;
	long pg = (long)xt_pg();
	long long faults;
	xpmem_segid_t segid;
	char *src, *p, rss[64];
	long i;

	ASSERT_LE(0, xt_stat("faults"));
	p = xt_unwritten_2mib(&src, &segid);
	ASSERT_NE((void *)-1, p);
	for (i = 0; i < 2 * block; i++)
		ASSERT_EQ(0, p[i * pg]);

	faults = xt_stat("faults");
	p[block * pg + 5] = 42;		/* in the second block */
	EXPECT_EQ(faults + 1, xt_stat("faults"));
	EXPECT_EQ(42, src[block * pg + 5]);
	p[2 * block * pg - 1] = 7;
	p[(block + 1) * pg] = 9;
	EXPECT_EQ(faults + 1, xt_stat("faults"));
	EXPECT_EQ(7, src[2 * block * pg - 1]);
	EXPECT_EQ(9, src[(block + 1) * pg]);
	/* Zero-page mappings are not in Rss: the exporter has one block. */
	ASSERT_EQ(0, xt_smaps_field(src, "Rss", rss, sizeof(rss)));
	EXPECT_EQ(block * pg / 1024, strtol(rss, NULL, 10));
	ASSERT_EQ(0, xpmem_remove(segid));
}

/* XPMEM_ATTACH_POPULATE maps everything: touching it takes no fault. */
TEST(attach_populate_maps_whole_range_before_returning)
{
	long long faults;
	xpmem_segid_t segid;
	char *src, *p;

	src = xt_aligned(MIB, false);
	ASSERT_NE(MAP_FAILED, src);
	segid = xpmem_make(src, MIB, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	p = xt_attach_flags(segid, MIB, XPMEM_ATTACH_POPULATE);
	ASSERT_NE((void *)-1, p);

	faults = xt_stat("faults");
	ASSERT_LE(0, faults);
	ASSERT_EQ(-1, xt_bad(p, MIB, 3));
	p[17] = 'w';
	EXPECT_EQ('w', src[17]);
	EXPECT_EQ(faults, xt_stat("faults"));
	ASSERT_EQ(0, xpmem_remove(segid));
}

/* POPULATE over a range with a hole maps the rest; the hole still SIGBUSes. */
TEST(attach_populate_skips_holes)
{
	size_t pg = xt_pg();
	xpmem_segid_t segid;
	char *src, *p;

	src = xt_region(8, 5);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_EQ(0, munmap(src + 3 * pg, pg));
	segid = xpmem_make(src, 8 * pg, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	p = xt_attach_flags(segid, 8 * pg, XPMEM_ATTACH_POPULATE);
	ASSERT_NE((void *)-1, p);
	ASSERT_EQ(-1, xt_bad(p, 3 * pg, 5));
	ASSERT_EQ(-1, xt_bad_at(p + 4 * pg, 4 * pg, 5, 4 * pg));
	EXPECT_EQ(SIGBUS, xt_read_sig(p + 3 * pg));
	ASSERT_EQ(0, xpmem_remove(segid));
}

/* An unknown attach flag is refused, so it can get a meaning later. */
TEST(attach_unknown_flag_is_einval)
{
	xpmem_segid_t segid;
	char *src;

	src = xt_region(1, 1);
	ASSERT_NE(MAP_FAILED, src);
	segid = xpmem_make(src, xt_pg(), XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	errno = 0;
	EXPECT_EQ((void *)-1, xt_attach_flags(segid, xt_pg(), 0x100));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, xpmem_remove(segid));
}

/*
 * With vaddr NULL, a THP-backed source is attached at an address with the
 * same offset in a 2 MiB block, and every touch of it maps 2 MiB at once.
 */
TEST(thp_source_is_mapped_with_2mib_entries)
{
	size_t len = 8 * MIB;
	long long faults, huge;
	char kb[64];
	xpmem_segid_t segid;
	char *src, *p;

	if (xt_param("huge_mappings") != 1)
		SKIP(return, "this kernel has no huge PFN maps (6.1): 4 KiB only");
	src = xt_aligned(len, true);
	ASSERT_NE(MAP_FAILED, src);
	if (xt_smaps_field(src, "AnonHugePages", kb, sizeof(kb)) ||
	    strtol(kb, NULL, 10) < (long)(len >> 10))
		SKIP(return, "the kernel did not back the source with THP");
	segid = xpmem_make(src, len, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	p = xt_attach_flags(segid, len, 0);
	ASSERT_NE((void *)-1, p);
	EXPECT_EQ(0, ((uintptr_t)p ^ (uintptr_t)src) & (HUGE - 1));

	faults = xt_stat("faults");
	huge = xt_stat("fault_huge");
	ASSERT_EQ(-1, xt_bad(p, len, 3));
	p[HUGE + 1] = 'h';
	EXPECT_EQ('h', src[HUGE + 1]);
	EXPECT_EQ(faults + len / HUGE, xt_stat("faults"));
	EXPECT_EQ(huge + len / HUGE, xt_stat("fault_huge"));
	ASSERT_EQ(0, xpmem_remove(segid));
}

/*
 * One 1 GiB hugetlb page of private memory, untouched. The guest of
 * test/check.sh reserves one at boot; else one is allocated now if memory
 * allows. Return: the address, or NULL with the reason in @why.
 */
static char *xt_hugetlb_1gib(char *why, size_t wlen)
{
	static const char *nr =
		"/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages";
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB;
	char *p;
	FILE *f;
	long n;

	p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		f = fopen(nr, "r+");
		if (f && fscanf(f, "%ld", &n) == 1) {
			rewind(f);
			fprintf(f, "%ld\n", n + 1);
		}
		if (f)
			fclose(f);
		p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, flags, -1, 0);
	}
	if (p == MAP_FAILED) {
		snprintf(why, wlen, "no free 1 GiB hugetlb page (boot with "
			 "hugepagesz=1G hugepages=1): %s", strerror(errno));
		return NULL;
	}
	return p;
}

/* Write pattern @seed at one byte of each MiB of the GiB at @p. */
static void gib_mark(char *p, unsigned int seed)
{
	size_t i;

	for (i = 0; i < GIB / MIB; i++)
		p[i * MIB + i % 4096] = (char)xt_pat(seed, i);
}

/* The first MiB of @p whose byte does not hold pattern @seed, or -1. */
static long gib_bad(const char *p, unsigned int seed)
{
	size_t i;

	for (i = 0; i < GIB / MIB; i++)
		if ((uint8_t)p[i * MIB + i % 4096] != xt_pat(seed, i))
			return (long)i;
	return -1;
}

/* Skip unless 1 GiB entries can happen; else a 1 GiB hugetlb page. */
#define GIB_SOURCE(src)							\
	do {								\
		char __why[160];					\
									\
		if (xt_param("huge_pud_mappings") != 1)			\
			SKIP(return, "this kernel maps no 1 GiB entries " \
			     "(huge_pud_mappings N: 6.1, or not x86_64)"); \
		src = xt_hugetlb_1gib(__why, sizeof(__why));		\
		if (!src)						\
			SKIP(return, "%s", __why);			\
	} while (0)

/*
 * With vaddr NULL, an attachment that holds a whole aligned GiB of its
 * source gets the same offset in a 1 GiB block as the source, so that
 * 1 GiB pages can be mapped with one entry (on every kernel: nothing here
 * is touched).
 */
TEST(attach_holding_a_gib_keeps_the_offset_in_its_gib_block)
{
	size_t offs[] = { 0, 5 * xt_pg(), 3 * MIB + xt_pg() };
	xpmem_segid_t segid;
	char *raw, *base, *src, *p;
	size_t i;

	raw = xt_map(3 * GIB, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	base = (char *)(((uintptr_t)raw + GIB - 1) & ~(GIB - 1));
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		/* [base + off, base + 2 GiB): holds one aligned GiB */
		src = base + offs[i];
		segid = xpmem_make(src, 2 * GIB - offs[i], XPMEM_PERMIT_MODE,
				   XT_MODE(0600));
		ASSERT_LT(0, segid);
		p = xt_attach_flags(segid, 2 * GIB - offs[i], 0);
		ASSERT_NE((void *)-1, p);
		EXPECT_EQ(0, ((uintptr_t)p ^ (uintptr_t)src) & (GIB - 1)) {
			TH_LOG("source %p attached at %p", src, p);
		}
		ASSERT_EQ(0, xpmem_detach(p));
		ASSERT_EQ(0, xpmem_remove(segid));
	}
	munmap(raw, 3 * GIB);
}

/*
 * A 1 GiB hugetlb source attached with vaddr NULL lands on a 1 GiB
 * boundary, and the first touch maps all of it with one PUD, writable:
 * data then flows both ways without another fault. The exporter's munmap
 * zaps the PUD (the importer gets SIGBUS), and a new page mapped there is
 * what the importer sees next.
 */
TEST(hugetlb_1gib_source_is_mapped_with_one_pud)
{
	long long faults, huge, pud, pages, zaps, atts;
	xpmem_segid_t segid;
	char *src, *p;

	GIB_SOURCE(src);
	gib_mark(src, 1);
	atts = xt_stat("attachments");
	ASSERT_LE(0, atts);
	segid = xpmem_make(src, GIB, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	p = xt_attach_flags(segid, GIB, 0);
	ASSERT_NE((void *)-1, p);
	ASSERT_EQ(0, (uintptr_t)p & (GIB - 1));

	faults = xt_stat("faults");
	huge = xt_stat("fault_huge");
	pud = xt_stat("fault_huge_pud");
	pages = xt_stat("fault_pages");
	ASSERT_LE(0, pud);
	ASSERT_EQ(-1, gib_bad(p, 1));
	EXPECT_EQ(pud + 1, xt_stat("fault_huge_pud"));
	EXPECT_EQ(faults + 1, xt_stat("faults"));
	EXPECT_EQ(huge, xt_stat("fault_huge"));
	EXPECT_EQ(pages, xt_stat("fault_pages"));
	gib_mark(p, 2);
	ASSERT_EQ(-1, gib_bad(src, 2));
	gib_mark(src, 3);
	ASSERT_EQ(-1, gib_bad(p, 3));
	EXPECT_EQ(faults + 1, xt_stat("faults"));

	/* A stale PUD would let the importer read the freed page. */
	zaps = xt_stat("zaps");
	ASSERT_EQ(0, munmap(src, GIB));
	EXPECT_LT(zaps, xt_stat("zaps"));
	EXPECT_EQ(SIGBUS, xt_read_sig(p));
	EXPECT_EQ(SIGBUS, xt_read_sig(p + GIB - 1));
	/* The same page comes back from the pool, with new data. */
	ASSERT_EQ(src, mmap(src, GIB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
			    MAP_HUGETLB | MAP_HUGE_1GB, -1, 0));
	gib_mark(src, 4);
	ASSERT_EQ(-1, gib_bad(p, 4));
	EXPECT_EQ(pud + 2, xt_stat("fault_huge_pud"));

	ASSERT_EQ(0, xpmem_detach(p));
	ASSERT_EQ(0, xpmem_remove(segid));
	EXPECT_EQ(atts, xt_stat("attachments"));
}

/*
 * A PUD-mapped attachment: moving it to another offset in a 1 GiB block is
 * refused before anything moves (the core mm cannot move a 1 GiB entry
 * there), mprotect() of all of it keeps the PUD, and splitting its VMA
 * zaps the PUD first (the core mm would leave it across two VMAs and later
 * walk it as a page table): the pieces are then mapped with smaller
 * entries, a read-only piece refuses writes, and the data stays coherent.
 */
TEST(pud_mapped_attachment_refuses_mremap_and_splits_cleanly)
{
	long long faults, huge, pud, atts;
	size_t pg = xt_pg();
	xpmem_segid_t segid;
	char *src, *p, *raw, *dst;

	GIB_SOURCE(src);
	gib_mark(src, 1);
	atts = xt_stat("attachments");
	segid = xpmem_make(src, GIB, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	p = xt_attach_flags(segid, GIB, 0);
	ASSERT_NE((void *)-1, p);
	pud = xt_stat("fault_huge_pud");
	ASSERT_EQ(-1, gib_bad(p, 1));
	ASSERT_EQ(pud + 1, xt_stat("fault_huge_pud"));

	raw = xt_map(2 * GIB + HUGE, PROT_NONE, MAP_PRIVATE | MAP_NORESERVE,
		     -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	dst = (char *)(((uintptr_t)raw + GIB - 1) & ~(GIB - 1)) + HUGE;
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mremap(p, GIB, GIB, MREMAP_MAYMOVE | MREMAP_FIXED,
				     dst));
	EXPECT_EQ(EINVAL, errno);
	faults = xt_stat("faults");
	ASSERT_EQ(-1, gib_bad(p, 1));
	EXPECT_EQ(faults, xt_stat("faults"));

	/* mprotect() of all of it changes the PUD in place. */
	ASSERT_EQ(0, mprotect(p, GIB, PROT_READ));
	EXPECT_EQ(SIGSEGV, xt_write_sig(p + GIB - 1, 1));
	ASSERT_EQ(-1, gib_bad(p, 1));
	EXPECT_EQ(faults, xt_stat("faults"));
	ASSERT_EQ(0, mprotect(p, GIB, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, xt_write_sig(p + GIB - 1, 'w'));
	EXPECT_EQ('w', src[GIB - 1]);
	pud = xt_stat("fault_huge_pud");

	/* A split that changes no protection must zap the PUD too. */
	ASSERT_EQ(0, madvise(p + GIB / 2, HUGE, MADV_NOHUGEPAGE));
	faults = xt_stat("faults");
	huge = xt_stat("fault_huge");
	ASSERT_EQ(-1, gib_bad(p, 1));
	EXPECT_LT(faults, xt_stat("faults"));
	EXPECT_LT(huge, xt_stat("fault_huge"));
	EXPECT_EQ(pud, xt_stat("fault_huge_pud"));

	ASSERT_EQ(0, mprotect(p + GIB / 4 + pg, pg, PROT_READ));
	EXPECT_EQ(SIGSEGV, xt_write_sig(p + GIB / 4 + pg, 1));
	gib_mark(p, 2);
	ASSERT_EQ(-1, gib_bad(src, 2));
	gib_mark(src, 3);
	ASSERT_EQ(-1, gib_bad(p, 3));

	ASSERT_EQ(0, munmap(p, GIB));
	ASSERT_EQ(0, xpmem_remove(segid));
	EXPECT_EQ(atts, xt_stat("attachments"));
}

/*
 * An importer write to a page the exporter freed lazily (MADV_FREE) is not
 * dropped when the exporter's memory is reclaimed: the importer's writable
 * mapping dirties the page.
 */
TEST(importer_write_after_exporter_madv_free_survives_pageout)
{
	size_t pg = xt_pg();
	xpmem_segid_t segid;
	char *src, *p;

	segid = xt_export(1, 0, &src);
	ASSERT_LT(0, segid);
	src[0] = 'E';
	p = xt_attach_flags(segid, pg, 0);
	ASSERT_NE((void *)-1, p);
	ASSERT_EQ(0, madvise(src, pg, MADV_FREE));
	p[0] = 'I';
	ASSERT_EQ(0, madvise(src, pg, MADV_PAGEOUT));
	EXPECT_EQ('I', src[0]);
	EXPECT_EQ('I', p[0]);
	ASSERT_EQ(0, xpmem_remove(segid));
}

/*
 * A fault maps the page touched and what the exporter already has around
 * it, but faults in nothing else: a mapping longer than its file still
 * gives the importer the pages inside the file, and SIGBUS beyond its end.
 */
TEST(fault_near_end_of_file_maps_the_file_and_sigbus_beyond)
{
	size_t pg = xt_pg();
	xpmem_segid_t segid;
	char *src, *p;
	int fd;

	fd = memfd_create("xpmem-eof", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, pg));
	/* Written through the fd: the exporter has no page table for it yet. */
	ASSERT_EQ(1, pwrite(fd, "f", 1, 1));
	src = mmap(NULL, 64 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, src);
	segid = xpmem_make(src, 64 * pg, XPMEM_PERMIT_MODE, XT_MODE(0600));
	ASSERT_LT(0, segid);
	p = xt_attach_flags(segid, 64 * pg, 0);
	ASSERT_NE((void *)-1, p);
	EXPECT_EQ('f', p[1]);
	EXPECT_EQ(SIGBUS, xt_read_sig(p + 5 * pg));
	ASSERT_EQ(0, xpmem_remove(segid));
	close(fd);
}

XT_MAIN
