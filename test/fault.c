// SPDX-License-Identifier: GPL-2.0
/*
 * fault.c - how much one importer fault maps: batches of present pages,
 * 2 MiB mappings of huge exporter pages (where the kernel has huge PFN
 * maps), huge-page aligned placement, and XPMEM_ATTACH_POPULATE.
 *
 * Reads the module's counters in /sys/kernel/debug/xpmem/stats (mounting
 * debugfs if needed) and its parameters in /sys/module/xpmem/parameters/.
 */
#include "xpmem_test.h"

#define MIB		(1UL << 20)
#define HUGE		(2 * MIB)

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
	char *raw, *src, *p, rss[64];

	ASSERT_LE(0, xt_stat("faults"));
	raw = xt_map(2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	src = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	ASSERT_EQ(0, madvise(src, HUGE, MADV_NOHUGEPAGE));
	p = xt_export_attach_2mib(src, &segid);
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
