// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_fault.c - the importer's page fault: find the exporter's pages and
 * map them. The only place that takes the exporter's mmap_lock.
 *
 * This is the secondary-MMU protocol of Documentation/mm/hmm.rst, as in
 * lib/test_hmm.c's dmirror_range_fault(): read the notifier sequence, let
 * hmm_range_fault() fault in and look up the exporter's pages under its
 * mmap_lock, then under att->lock install the PTEs only if no invalidation
 * ran meanwhile (mmu_interval_read_retry()), else start over. No page
 * reference is held after the fault: the invalidation callback zaps our PTEs
 * before the exporter's page can go (see xpmem_notifier.c).
 *
 * A PTE is writable only if the permit is RDWR, the importer VMA is
 * writable and the exporter's PTE is writable at that moment; a write to a
 * read-only PTE first breaks COW in the exporter (HMM_PFN_REQ_WRITE), so the
 * zero page, page cache and pages shared with a fork child are never written.
 *
 * One fault maps the faulting page and, in the same aligned window, every
 * page the exporter already has (fault_pages, up to a page table's worth),
 * under one page table lock. A fault on a hole of the exporter's private
 * anonymous memory fills in the holes around it (xpmem_hmm_lookup()).
 * Where the kernel supports huge PFN maps, a fault on an exporter THP or
 * hugetlb page maps the whole 2 MiB with one PMD, and on a 1 GiB hugetlb
 * page the whole 1 GiB with one PUD (xpmem_vm_huge_fault()).
 */
#include <linux/hmm.h>
#include <linux/huge_mm.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pfn_t.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "xpmem_internal.h"

#define XPMEM_FAULT_PAGES_MAX	(PMD_SIZE >> PAGE_SHIFT)
#define XPMEM_FAULT_PAGES_STACK	32
/* Holes of anonymous memory one fault fills in (xpmem_hmm_lookup()). */
#define XPMEM_FILL_PAGES	64

static unsigned int fault_pages = XPMEM_FAULT_PAGES_MAX;
module_param(fault_pages, uint, 0644);
MODULE_PARM_DESC(fault_pages,
		 "Pages mapped per importer fault when the exporter has them (1-512, default 512)");

/* Read-only: tell users (and the tests) which huge mappings happen. */
static bool huge_mappings = XPMEM_HUGE_PMD;
module_param(huge_mappings, bool, 0444);
MODULE_PARM_DESC(huge_mappings,
		 "Importers map exporter huge pages (THP, hugetlb) with 2 MiB entries (needs huge PFN map support, Linux 6.12); 1 GiB pages too if huge_pud_mappings");

static bool huge_pud_mappings = XPMEM_HUGE_PUD;
module_param(huge_pud_mappings, bool, 0444);
MODULE_PARM_DESC(huge_pud_mappings,
		 "Importers map exporter 1 GiB hugetlb pages with 1 GiB entries (needs PUD PFN map support: Linux 6.12 on x86_64)");

static int xpmem_pte_noop(pte_t *pte, unsigned long addr, void *data)
{
	return 0;
}

/* The exporter address that importer address @addr of @vma mirrors. */
static unsigned long xpmem_src_addr(struct vm_area_struct *vma,
				    struct xpmem_att *att, unsigned long addr)
{
	return att->src_start + ((vma->vm_pgoff - att->pgoff) << PAGE_SHIFT) +
	       (addr - vma->vm_start);
}

/*
 * The exporter's mmap_lock is busy. Waiting for it while we hold the
 * importer's could deadlock (two processes faulting on each other's
 * segments, each with a writer queued on its own mmap_lock). So drop ours,
 * wait for theirs, and let the fault be retried.
 */
static vm_fault_t xpmem_wait_source(struct vm_fault *vmf,
				    struct mm_struct *src_mm)
{
	/*
	 * Callers that cannot retry (fixup_user_fault() without an unlock
	 * pointer, e.g. futex ops) must not sleep on it holding ours either:
	 * they get an error (-EFAULT) instead of a possible deadlock.
	 */
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY))
		return VM_FAULT_SIGBUS;
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;
	release_fault_lock(vmf);
	if (!mmap_read_lock_killable(src_mm))
		mmap_read_unlock(src_mm);
	return VM_FAULT_RETRY;
}

static vm_fault_t xpmem_hmm_error(int err)
{
	switch (err) {
	case -EPERM:	/* write to a range the exporter cannot write */
		return VM_FAULT_SIGSEGV;
	case -ENOMEM:
		return VM_FAULT_OOM;
	default:	/* -EFAULT: a hole, or a source we cannot mirror */
		return VM_FAULT_SIGBUS;
	}
}

/* An entry of a lookup that is neither mapped nor unmappable (no VMA...). */
static bool xpmem_hole(unsigned long hpfn)
{
	return !(hpfn & (HMM_PFN_VALID | HMM_PFN_ERROR));
}

/*
 * An entry a fill may fault in with the access: a hole, or, for a write,
 * the zero page (a page nobody has written; the exporter's own first
 * write would replace it, as it would fill a hole).
 */
static bool xpmem_fillable(unsigned long hpfn, bool write)
{
	return xpmem_hole(hpfn) ||
	       (write && (hpfn & HMM_PFN_VALID) &&
		is_zero_pfn(page_to_pfn(hmm_pfn_to_page(hpfn))));
}

/*
 * Under the exporter's mmap_lock: look up the whole window @range without
 * faulting anything, then fault in what the access at index @idx (a write
 * if @write) needs:
 *  - the page is there (writable, for a write): nothing;
 *  - it is a hole in private anonymous memory (or, for a write, the zero
 *    page there) and @fill: the run of such entries around it in that
 *    VMA, within its aligned block of XPMEM_FILL_PAGES (256 KiB with 4 KiB
 *    pages). The exporter's own first touch would allocate (or, reading,
 *    map the zero page for) each of them; doing it now saves the importer
 *    one fault per page, as a sequential first touch of an unpopulated
 *    buffer (or the first writes after reading it, or after
 *    XPMEM_ATTACH_POPULATE) would otherwise take. Pages the exporter has
 *    written are never touched, so nothing is COW-broken that the access
 *    did not need;
 *  - anything else: that page alone (file holes may lie past EOF, and
 *    faulting them in would read or dirty pages nobody asked for).
 * Each hmm_range_fault() call faults exactly the pages it is given, with one
 * set of flags: asked to fault any page of a range, it faults the rest of
 * the range (or the whole missing page table) too.
 */
static int xpmem_hmm_lookup(struct hmm_range *range, unsigned long idx,
			    bool write, bool fill)
{
	unsigned long want = HMM_PFN_VALID | (write ? HMM_PFN_WRITE : 0);
	unsigned long *pfns = range->hmm_pfns;
	unsigned long first = idx, last = idx + 1;
	struct hmm_range sub = *range;
	int err;

	err = hmm_range_fault(range);
	if (err || (pfns[idx] & want) == want)
		return err;

	if (fill && xpmem_fillable(pfns[idx], write)) {
		unsigned long addr = range->start + (idx << PAGE_SHIFT);
		struct vm_area_struct *vma = vma_lookup(range->notifier->mm,
							addr);
		unsigned long lo, hi;

		if (vma && vma_is_anonymous(vma)) {
			lo = (max(vma->vm_start, range->start) -
			      range->start) >> PAGE_SHIFT;
			hi = (min(vma->vm_end, range->end) -
			      range->start) >> PAGE_SHIFT;
			lo = max(lo, ALIGN_DOWN(idx, XPMEM_FILL_PAGES));
			hi = min(hi, ALIGN_DOWN(idx, XPMEM_FILL_PAGES) +
				     XPMEM_FILL_PAGES);
			while (first > lo &&
			       xpmem_fillable(pfns[first - 1], write))
				first--;
			while (last < hi && xpmem_fillable(pfns[last], write))
				last++;
		}
	}

	sub.default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0);
	for (;;) {
		sub.start = range->start + (first << PAGE_SHIFT);
		sub.end = range->start + (last << PAGE_SHIFT);
		sub.hmm_pfns = &pfns[first];
		err = hmm_range_fault(&sub);
		/* A run failed (out of memory...): try the one page. */
		if (err != -EFAULT || last - first == 1)
			return err;
		first = idx;
		last = idx + 1;
	}
}

/*
 * Look up @range of the exporter, faulting in what the access at index @idx
 * needs (xpmem_hmm_lookup(): a write if @write, a run of anonymous holes if
 * @fill), and take att->lock if no invalidation ran meanwhile.
 *
 * Return: 0 with att->lock held and a reference on the exporter's mm (drop
 * both with xpmem_resolve_done()), or what the fault handler must return.
 */
static vm_fault_t xpmem_resolve(struct vm_fault *vmf, struct xpmem_att *att,
				struct hmm_range *range, unsigned long idx,
				bool write, bool fill)
{
	unsigned long timeout = jiffies +
				msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	struct mm_struct *src_mm = att->src_mm;
	vm_fault_t ret;
	int err;

	/* The exporter exited: its mm will never have pages again. */
	if (!mmget_not_zero(src_mm))
		return VM_FAULT_SIGBUS;

	for (;;) {
		range->notifier_seq = mmu_interval_read_begin(range->notifier);
		if (!mmap_read_trylock(src_mm)) {
			ret = xpmem_wait_source(vmf, src_mm);
			goto err;
		}
		err = xpmem_hmm_lookup(range, idx, write, fill);
		mmap_read_unlock(src_mm);
		if (err == -EBUSY) {
			/* Endless invalidations: return, the CPU refaults. */
			if (time_after(jiffies, timeout)) {
				ret = VM_FAULT_NOPAGE;
				goto err;
			}
			continue;
		}
		if (err) {
			ret = xpmem_hmm_error(err);
			goto err;
		}

		mutex_lock(&att->lock);
		if (att->dead) {
			mutex_unlock(&att->lock);
			ret = VM_FAULT_SIGBUS;
			goto err;
		}
		if (!mmu_interval_read_retry(range->notifier,
					     range->notifier_seq))
			return 0;
		mutex_unlock(&att->lock);
	}
err:
	/* Not mmput(): we may hold our mmap_lock, and it may be the last. */
	mmput_async(src_mm);
	return ret;
}

static void xpmem_resolve_done(struct xpmem_att *att)
{
	mutex_unlock(&att->lock);
	mmput_async(att->src_mm);
}

struct xpmem_install {
	struct vm_area_struct *vma;
	unsigned long *pfns;		/* hmm entries; [0] maps at @start */
	unsigned long start;
	pgprot_t ro, rw;
	unsigned long mapped;		/* entries installed */
	unsigned long other;		/* valid entries left to the slow path */
};

/*
 * Pages we map with plain PTEs ourselves: anonymous, page cache and the
 * zero page, all ordinary write-back RAM. Anything else (a driver's page
 * in a VM_MIXEDMAP VMA may carry its own memory type) goes through
 * vmf_insert_pfn_prot(), which looks the memory type up.
 */
static bool xpmem_plain_page(struct page *page)
{
	return is_zero_pfn(page_to_pfn(page)) ||
	       (!PageReserved(page) &&
		(PageAnon(page) || page_folio(page)->mapping));
}

/*
 * Whether to map the exporter's page @hpfn writable in @vma (see the top of
 * this file). If so, dirty the page now: the dirty bit of our entry is
 * never seen by the exporter's reclaim or writeback, so a clean page (e.g.
 * after MADV_FREE) would otherwise be dropped with the importer's writes,
 * where the exporter's own writable entry would have dirtied it. The
 * sequence check guarantees the exporter still maps the page.
 */
static bool xpmem_map_write(struct vm_area_struct *vma, unsigned long hpfn)
{
	bool write = (hpfn & HMM_PFN_WRITE) && (vma->vm_flags & VM_WRITE);

	if (write)
		folio_mark_dirty(page_folio(hmm_pfn_to_page(hpfn)));
	return write;
}

/*
 * apply_to_page_range() callback, under the page table lock: map
 * one valid entry where nothing is mapped yet (a racing fault may have
 * been first), as vmf_insert_pfn_prot() would, but without taking the lock
 * and looking up the memory type again for every page.
 */
static int xpmem_install_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct xpmem_install *in = data;
	unsigned long i = (addr - in->start) >> PAGE_SHIFT;
	unsigned long hpfn = in->pfns[i];
	struct page *page;
	bool empty, write;

	if (!(hpfn & HMM_PFN_VALID))
		return 0;
	page = hmm_pfn_to_page(hpfn);
	empty = pte_none(ptep_get(pte));
	if (empty && !xpmem_plain_page(page)) {
		in->other++;	/* left valid for xpmem_install() */
		return 0;
	}
	/* Done with this entry, whether mapped here or already there. */
	in->pfns[i] = 0;
	if (!empty)
		return 0;
	write = xpmem_map_write(in->vma, hpfn);
	set_pte_at(in->vma->vm_mm, addr, pte,
		   pte_mkspecial(pfn_pte(page_to_pfn(page),
					 write ? in->rw : in->ro)));
	update_mmu_cache(in->vma, addr, pte);
	in->mapped++;
	return 0;
}

/*
 * Install the valid entries of @range at importer address @start, whose
 * page table exists. Return: the number of entries installed.
 */
static unsigned long xpmem_install(struct vm_area_struct *vma,
				   struct hmm_range *range, unsigned long start)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	struct xpmem_install in = {
		.vma = vma,
		.pfns = range->hmm_pfns,
		.start = start,
		.ro = vm_get_page_prot(vma->vm_flags & ~VM_WRITE),
		.rw = vm_get_page_prot(vma->vm_flags),
	};
	unsigned long i;

	/*
	 * Allocates nothing: xpmem_fault() made the page table. Leaves valid
	 * only the entries it did not map and whose PTE was empty: pages that
	 * need vmf_insert_pfn_prot() (e.g. the huge zero page).
	 */
	apply_to_page_range(vma->vm_mm, start, npages << PAGE_SHIFT,
			    xpmem_install_pte, &in);
	for (i = 0; in.other && i < npages; i++) {
		unsigned long hpfn = range->hmm_pfns[i];
		struct page *page;
		bool write;

		if (!(hpfn & HMM_PFN_VALID))
			continue;
		page = hmm_pfn_to_page(hpfn);
		write = xpmem_map_write(vma, hpfn);
		/* Only fails if a racing fault mapped it first: fine. */
		vmf_insert_pfn_prot(vma, start + (i << PAGE_SHIFT),
				    page_to_pfn(page), write ? in.rw : in.ro);
		in.mapped++;
		in.other--;
	}
	return in.mapped;
}

static vm_fault_t xpmem_fault(struct vm_fault *vmf, bool write)
{
	struct vm_area_struct *vma = vmf->vma;
	struct xpmem_att *att = vma->vm_private_data;
	unsigned long window = clamp_val(READ_ONCE(fault_pages), 1,
					 XPMEM_FAULT_PAGES_MAX);
	unsigned long stack_pfns[XPMEM_FAULT_PAGES_STACK];
	unsigned long addr = vmf->address & PAGE_MASK;
	struct hmm_range range = {
		.notifier = &att->mni,
	};
	unsigned long start, end;
	vm_fault_t ret = 0;

	/* The VMA lock is not enough for us: come back with mmap_lock. */
	if (vmf->flags & FAULT_FLAG_VMA_LOCK) {
		release_fault_lock(vmf);
		return VM_FAULT_RETRY;
	}
	if (READ_ONCE(att->dead))
		return VM_FAULT_SIGBUS;

	/*
	 * A window of pages around addr: aligned to its size where the VMA
	 * allows, otherwise slid to fit inside the VMA, and never crossing a
	 * page table (the caller's PMD).
	 */
	window = rounddown_pow_of_two(window) << PAGE_SHIFT;
	start = max(vma->vm_start, addr & PMD_MASK);
	end = min(vma->vm_end, (addr & PMD_MASK) + PMD_SIZE);
	start = max(start, ALIGN_DOWN(addr, window));
	end = min(end, start + window);
	range.start = xpmem_src_addr(vma, att, start);
	range.end = xpmem_src_addr(vma, att, end);
	range.hmm_pfns = stack_pfns;
	if (end - start > XPMEM_FAULT_PAGES_STACK * PAGE_SIZE) {
		range.hmm_pfns = kmalloc_array((end - start) >> PAGE_SHIFT,
					       sizeof(unsigned long),
					       GFP_KERNEL);
		if (!range.hmm_pfns)
			return VM_FAULT_OOM;
	}

	/*
	 * Allocate the importer's page tables now: att->lock is taken in
	 * notifier callbacks that reclaim runs, so we cannot allocate under it.
	 * A racing xpmem_vm_huge_fault() may have mapped the whole PMD since
	 * the core mm saw it empty; then the access is retried against that
	 * entry. att->pt_sem keeps a huge entry from going in between the
	 * check and the walk (which warns on one); once our page table is in,
	 * none can.
	 */
	down_read(&att->pt_sem);
	if (pmd_leaf(READ_ONCE(*vmf->pmd)))
		ret = VM_FAULT_NOPAGE;
	else if (apply_to_page_range(vma->vm_mm, start, end - start,
				     xpmem_pte_noop, NULL))
		ret = VM_FAULT_OOM;
	up_read(&att->pt_sem);
	if (ret)
		goto out;

	ret = xpmem_resolve(vmf, att, &range, (addr - start) >> PAGE_SHIFT,
			    write, true);
	if (ret)
		goto out;
	xpmem_stat_add(XPMEM_STAT_FAULT_PAGES,
		       xpmem_install(vma, &range, start));
	xpmem_resolve_done(att);
	xpmem_stat_add(XPMEM_STAT_FAULTS, 1);
	ret = VM_FAULT_NOPAGE;
out:
	if (range.hmm_pfns != stack_pfns)
		kfree(range.hmm_pfns);
	return ret;
}

/**
 * xpmem_vm_fault() - ->fault of an attachment VMA
 * @vmf: the fault; no PTE is present at vmf->address
 *
 * Context: the importer's mmap_lock held for reading (or its VMA lock, in
 * which case we ask to be retried under mmap_lock).
 * Return: VM_FAULT_NOPAGE (mapped, or retry the access), VM_FAULT_RETRY,
 * VM_FAULT_SIGBUS (hole, segment removed, exporter gone), VM_FAULT_SIGSEGV
 * (write to a source the exporter cannot write), VM_FAULT_OOM.
 */
vm_fault_t xpmem_vm_fault(struct vm_fault *vmf)
{
	return xpmem_fault(vmf, vmf->flags & FAULT_FLAG_WRITE);
}

/**
 * xpmem_vm_pfn_mkwrite() - write to a read-only PTE of a writable attachment
 * @vmf: the fault
 *
 * The PTE is read-only because the exporter's page was not writable when it
 * was mapped (zero page, COW-shared, clean file page). Drop it; the write
 * then faults through xpmem_vm_fault(), which breaks COW in the exporter.
 *
 * Context: as xpmem_vm_fault().
 * Return: VM_FAULT_NOPAGE or VM_FAULT_RETRY.
 */
vm_fault_t xpmem_vm_pfn_mkwrite(struct vm_fault *vmf)
{
	if (vmf->flags & FAULT_FLAG_VMA_LOCK) {
		release_fault_lock(vmf);
		return VM_FAULT_RETRY;
	}
	xpmem_zap_vma(vmf->vma, vmf->address & PAGE_MASK, PAGE_SIZE);
	return VM_FAULT_NOPAGE;
}

#if XPMEM_HUGE_PMD
/*
 * Install our entry of @order for @pfn at the fault, writable if @write.
 * vmf_insert_pfn_pmd/pud() warn when asked for a writable entry where there
 * is a page table (another thread's fault fell back and made one), so the
 * entry goes in read-only and is then made writable only if it is ours. An
 * entry of ours stays while we hold att->lock with a valid sequence: the
 * invalidation callback and xpmem_att_kill() zap only after taking
 * att->lock, the importer's munmap, mprotect or split hold its mmap_lock
 * for writing, and ->pfn_mkwrite zaps a PTE, never a huge entry.
 *
 * Return: VM_FAULT_NOPAGE if our entry is there, VM_FAULT_FALLBACK if a
 * page table is, or an error of the insert.
 */
static vm_fault_t xpmem_insert_huge(struct vm_fault *vmf, unsigned int order,
				    unsigned long pfn, bool write)
{
	pfn_t pfnt = pfn_to_pfn_t(pfn);
	vm_fault_t ret;
	pmd_t pmd;
	pud_t pud;

	if (XPMEM_HUGE_PUD && order == PUD_ORDER) {
		ret = vmf_insert_pfn_pud(vmf, pfnt, false);
		if (ret != VM_FAULT_NOPAGE)
			return ret;
		pud = pudp_get(vmf->pud);
		if (!pud_leaf(pud) || pud_pfn(pud) != pfn)
			return VM_FAULT_FALLBACK;
		return write ? vmf_insert_pfn_pud(vmf, pfnt, true) : ret;
	}
	ret = vmf_insert_pfn_pmd(vmf, pfnt, false);
	if (ret != VM_FAULT_NOPAGE)
		return ret;
	pmd = pmdp_get(vmf->pmd);
	if (!pmd_leaf(pmd) || pmd_pfn(pmd) != pfn)
		return VM_FAULT_FALLBACK;
	return write ? vmf_insert_pfn_pmd(vmf, pfnt, true) : ret;
}

/**
 * xpmem_vm_huge_fault() - map a whole PMD or PUD of an attachment at once
 * @vmf: the fault; the entry of @order at vmf->address is empty, or ours
 *	and read-only for a write
 * @order: PMD_ORDER, or PUD_ORDER where the kernel has PUD PFN maps
 *
 * Succeeds when the 2 MiB (1 GiB) around the fault lie inside the VMA, the
 * exporter maps the matching, equally aligned (see xpmem_att_create())
 * 2 MiB (1 GiB) with one huge page, and so can we. Anything else falls back
 * to the next smaller size, down to 4 KiB pages.
 *
 * Looks up only the aligned XPMEM_FILL_PAGES pages around the faulting one:
 * hmm reports with each pfn the order of the exporter's entry that maps it,
 * and the sequence check covers the whole attachment. The lookup faults in
 * what the access needs exactly as a 4 KiB fault would (filling anonymous
 * holes, which may give the exporter a THP), so a fallback changes nothing.
 *
 * Context: as xpmem_vm_fault().
 * Return: VM_FAULT_NOPAGE, VM_FAULT_FALLBACK, or as xpmem_vm_fault().
 */
vm_fault_t xpmem_vm_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct xpmem_att *att = vma->vm_private_data;
	unsigned long size = PAGE_SIZE << order;
	unsigned long haddr = ALIGN_DOWN(vmf->address, size);
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long start = ALIGN_DOWN(addr, XPMEM_FILL_PAGES * PAGE_SIZE);
	unsigned long idx = (addr - start) >> PAGE_SHIFT;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct hmm_range range = {
		.notifier = &att->mni,
	};
	unsigned long hpfn, pfn;
	vm_fault_t ret;

	if (order != PMD_ORDER && !(XPMEM_HUGE_PUD && order == PUD_ORDER))
		return VM_FAULT_FALLBACK;
	if (haddr < vma->vm_start || haddr + size > vma->vm_end)
		return VM_FAULT_FALLBACK;
	if (vmf->flags & FAULT_FLAG_VMA_LOCK) {
		release_fault_lock(vmf);
		return VM_FAULT_RETRY;
	}
	if (READ_ONCE(att->dead))
		return VM_FAULT_SIGBUS;
	if (!IS_ALIGNED(xpmem_src_addr(vma, att, haddr), size))
		return VM_FAULT_FALLBACK;

	range.start = xpmem_src_addr(vma, att, start);
	range.end = range.start + XPMEM_FILL_PAGES * PAGE_SIZE;
	range.hmm_pfns = kmalloc_array(XPMEM_FILL_PAGES, sizeof(unsigned long),
				       GFP_KERNEL);
	if (!range.hmm_pfns)
		return VM_FAULT_OOM;
	ret = xpmem_resolve(vmf, att, &range, idx, write, true);
	if (ret)
		goto out;
	hpfn = range.hmm_pfns[idx];
	ret = VM_FAULT_FALLBACK;
	if ((hpfn & HMM_PFN_VALID) && hmm_pfn_to_map_order(hpfn) >= order) {
		/* The first pfn of the block: the exporter's must be aligned. */
		pfn = page_to_pfn(hmm_pfn_to_page(hpfn)) -
		      ((addr - haddr) >> PAGE_SHIFT);
		/*
		 * Not while a 4 KiB fault allocates a page table: fall back
		 * (a trylock, as we hold att->lock, taken under att->pt_sem
		 * through reclaim).
		 */
		if (IS_ALIGNED(pfn, 1UL << order) &&
		    down_write_trylock(&att->pt_sem)) {
			ret = xpmem_insert_huge(vmf, order, pfn,
						xpmem_map_write(vma, hpfn));
			up_write(&att->pt_sem);
		}
	}
	/* Under att->lock: see xpmem_att_zap(). */
	if (ret == VM_FAULT_NOPAGE && order == PUD_ORDER)
		WRITE_ONCE(att->huge_pud, true);
	xpmem_resolve_done(att);
	/* A fallback is counted by the smaller fault that follows. */
	if (ret == VM_FAULT_NOPAGE) {
		xpmem_stat_add(order == PUD_ORDER ? XPMEM_STAT_FAULT_HUGE_PUD :
				XPMEM_STAT_FAULT_HUGE, 1);
		xpmem_stat_add(XPMEM_STAT_FAULTS, 1);
	}
out:
	kfree(range.hmm_pfns);
	return ret;
}
#endif
