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
 * page the exporter already has (fault_pages, up to a page table's worth).
 * Where the kernel supports huge PFN maps, a fault on an exporter THP or
 * hugetlb page maps the whole 2 MiB with one PMD (xpmem_vm_huge_fault()).
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

static unsigned int fault_pages = 64;
module_param(fault_pages, uint, 0644);
MODULE_PARM_DESC(fault_pages,
		 "Pages mapped per importer fault when the exporter has them (1-512, default 64)");

/* Read-only: tells users (and the tests) whether 2 MiB mappings happen. */
static bool huge_mappings = XPMEM_HUGE_PMD;
module_param(huge_mappings, bool, 0444);
MODULE_PARM_DESC(huge_mappings,
		 "Importers map exporter huge pages with 2 MiB entries (needs huge PFN map support, Linux 6.12)");

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

/*
 * Under the exporter's mmap_lock: fault in only the page at index @idx of
 * @range (for writing if @write), then look up the whole window without
 * faulting anything. Two calls, because hmm_range_fault() faults in a whole
 * missing page table (or hugetlb entry) when any page of it is requested,
 * and honours per-page requests only at the walk's first index.
 */
static int xpmem_hmm_lookup(struct hmm_range *range, unsigned long idx,
			    bool write)
{
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long *pfns = range->hmm_pfns;
	struct hmm_range one = *range;
	int err;

	one.start = range->start + (idx << PAGE_SHIFT);
	one.end = one.start + PAGE_SIZE;
	one.hmm_pfns = &pfns[idx];
	one.default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0);
	one.pfn_flags_mask = 0;
	err = hmm_range_fault(&one);
	if (err)
		return err;
	memset(pfns, 0, npages * sizeof(*pfns));
	return hmm_range_fault(range);
}

/*
 * Look up @range of the exporter, faulting in the page at index @idx (for
 * writing if @write), and take att->lock if no invalidation ran meanwhile.
 *
 * Return: 0 with att->lock held and a reference on the exporter's mm (drop
 * both with xpmem_resolve_done()), or what the fault handler must return.
 */
static vm_fault_t xpmem_resolve(struct vm_fault *vmf, struct xpmem_att *att,
				struct hmm_range *range, unsigned long idx,
				bool write)
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
		err = xpmem_hmm_lookup(range, idx, write);
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

/* Install the valid entries of @range at importer address @start. */
static unsigned long xpmem_install(struct vm_area_struct *vma,
				   struct hmm_range *range, unsigned long start)
{
	pgprot_t ro = vm_get_page_prot(vma->vm_flags & ~VM_WRITE);
	pgprot_t rw = vm_get_page_prot(vma->vm_flags);
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long i, mapped = 0;

	for (i = 0; i < npages; i++) {
		unsigned long hpfn = range->hmm_pfns[i];
		bool write = (hpfn & HMM_PFN_WRITE) &&
			     (vma->vm_flags & VM_WRITE);

		if (!(hpfn & HMM_PFN_VALID))
			continue;
		/*
		 * Our PTE's dirty bit is never seen by the exporter's reclaim
		 * or writeback: dirty the page now, as the exporter's own
		 * writable PTE would have (a clean one, e.g. after MADV_FREE,
		 * would otherwise be dropped with the importer's writes).
		 * The sequence check guarantees the exporter still maps it.
		 */
		if (write)
			folio_mark_dirty(page_folio(hmm_pfn_to_page(hpfn)));
		/* Only fails if a racing fault mapped it first: fine. */
		vmf_insert_pfn_prot(vma, start + (i << PAGE_SHIFT),
				    page_to_pfn(hmm_pfn_to_page(hpfn)),
				    write ? rw : ro);
		mapped++;
	}
	return mapped;
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
		.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
	};
	unsigned long start, end;
	vm_fault_t ret;

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
	 */
	if (apply_to_page_range(vma->vm_mm, start, end - start, xpmem_pte_noop,
				NULL)) {
		ret = VM_FAULT_OOM;
		goto out;
	}

	ret = xpmem_resolve(vmf, att, &range, (addr - start) >> PAGE_SHIFT,
			    write);
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
/**
 * xpmem_vm_huge_fault() - map a whole PMD of an attachment at once
 * @vmf: the fault; the PMD at vmf->address is empty
 * @order: PMD_ORDER (or larger: not handled here)
 *
 * Succeeds when the 2 MiB around the fault lie inside the VMA, the exporter
 * maps the matching (equally aligned: see xpmem_att_create()) 2 MiB with
 * one huge page, and so can we. Anything else falls back to 4 KiB pages.
 *
 * Context: as xpmem_vm_fault().
 * Return: VM_FAULT_NOPAGE, VM_FAULT_FALLBACK, or as xpmem_vm_fault().
 */
vm_fault_t xpmem_vm_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct xpmem_att *att = vma->vm_private_data;
	unsigned long haddr = vmf->address & PMD_MASK;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct hmm_range range = {
		.notifier = &att->mni,
		.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
	};
	unsigned long hpfn, pfn;
	vm_fault_t ret;

	if (order != PMD_ORDER || haddr < vma->vm_start ||
	    haddr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	if (vmf->flags & FAULT_FLAG_VMA_LOCK) {
		release_fault_lock(vmf);
		return VM_FAULT_RETRY;
	}
	if (READ_ONCE(att->dead))
		return VM_FAULT_SIGBUS;

	range.start = xpmem_src_addr(vma, att, haddr);
	range.end = range.start + PMD_SIZE;
	if (range.start & ~PMD_MASK)
		return VM_FAULT_FALLBACK;
	range.hmm_pfns = kmalloc_array(PTRS_PER_PMD, sizeof(unsigned long),
				       GFP_KERNEL);
	if (!range.hmm_pfns)
		return VM_FAULT_OOM;

	ret = xpmem_resolve(vmf, att, &range,
			    (vmf->address - haddr) >> PAGE_SHIFT, write);
	if (ret)
		goto out;
	/* hmm reports the order of the exporter's mapping with each pfn. */
	hpfn = range.hmm_pfns[0];
	pfn = page_to_pfn(hmm_pfn_to_page(hpfn));
	ret = VM_FAULT_FALLBACK;
	if ((hpfn & HMM_PFN_VALID) && hmm_pfn_to_map_order(hpfn) >= PMD_ORDER &&
	    IS_ALIGNED(pfn, PTRS_PER_PMD)) {
		write = (hpfn & HMM_PFN_WRITE) && (vma->vm_flags & VM_WRITE);
		if (write)	/* see xpmem_install() */
			folio_mark_dirty(page_folio(hmm_pfn_to_page(hpfn)));
		ret = vmf_insert_pfn_pmd(vmf, pfn_to_pfn_t(pfn), write);
		if (ret == VM_FAULT_NOPAGE)
			xpmem_stat_add(XPMEM_STAT_FAULT_HUGE, 1);
	}
	xpmem_resolve_done(att);
	xpmem_stat_add(XPMEM_STAT_FAULTS, 1);
out:
	kfree(range.hmm_pfns);
	return ret;
}
#endif
