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
 */
#include <linux/hmm.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>

#include "xpmem_internal.h"

/*
 * Pages mapped per fault: the faulting page, and those around it (in an
 * aligned block) that the exporter already has present.
 */
#define XPMEM_FAULT_PAGES	16

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
	if (!(vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		/*
		 * Callers that cannot retry (fixup_user_fault() without an
		 * unlock pointer) hold only our mmap_lock for read. Wait, but
		 * killably.
		 */
		if (mmap_read_lock_killable(src_mm))
			return VM_FAULT_SIGBUS;
		return 0;
	}
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

/* Install the valid entries of @range at importer address @start. */
static void xpmem_install(struct vm_area_struct *vma, struct hmm_range *range,
			  unsigned long start)
{
	pgprot_t ro = vm_get_page_prot(vma->vm_flags & ~VM_WRITE);
	pgprot_t rw = vm_get_page_prot(vma->vm_flags);
	unsigned long npages = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long i;

	for (i = 0; i < npages; i++) {
		unsigned long hpfn = range->hmm_pfns[i];
		bool write = (hpfn & HMM_PFN_WRITE) &&
			     (vma->vm_flags & VM_WRITE);

		if (!(hpfn & HMM_PFN_VALID))
			continue;
		/* Only fails if a racing fault mapped it first: fine. */
		vmf_insert_pfn_prot(vma, start + (i << PAGE_SHIFT),
				    page_to_pfn(hmm_pfn_to_page(hpfn)),
				    write ? rw : ro);
	}
}

static vm_fault_t xpmem_fault(struct vm_fault *vmf, bool write)
{
	struct vm_area_struct *vma = vmf->vma;
	struct xpmem_att *att = vma->vm_private_data;
	unsigned long pfns[XPMEM_FAULT_PAGES];
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long start, end, timeout;
	struct mm_struct *src_mm = att->src_mm;
	struct hmm_range range = {
		.notifier = &att->mni,
		.hmm_pfns = pfns,
		.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
	};
	vm_fault_t ret;
	int err;

	/* The VMA lock is not enough for us: come back with mmap_lock. */
	if (vmf->flags & FAULT_FLAG_VMA_LOCK) {
		release_fault_lock(vmf);
		return VM_FAULT_RETRY;
	}
	if (READ_ONCE(att->dead))
		return VM_FAULT_SIGBUS;

	start = max(vma->vm_start,
		    ALIGN_DOWN(addr, XPMEM_FAULT_PAGES * PAGE_SIZE));
	end = min(vma->vm_end, start + XPMEM_FAULT_PAGES * PAGE_SIZE);
	range.start = xpmem_src_addr(vma, att, start);
	range.end = xpmem_src_addr(vma, att, end);

	/*
	 * Allocate the importer's page tables now: att->lock is taken in
	 * notifier callbacks that reclaim runs, so we cannot allocate under it.
	 */
	if (apply_to_page_range(vma->vm_mm, start, end - start, xpmem_pte_noop,
				NULL))
		return VM_FAULT_OOM;

	/* The exporter exited: its mm will never have pages again. */
	if (!mmget_not_zero(src_mm))
		return VM_FAULT_SIGBUS;

	timeout = jiffies + msecs_to_jiffies(HMM_RANGE_DEFAULT_TIMEOUT);
	for (;;) {
		memset(pfns, 0, sizeof(pfns));
		pfns[(addr - start) >> PAGE_SHIFT] = HMM_PFN_REQ_FAULT |
			(write ? HMM_PFN_REQ_WRITE : 0);

		range.notifier_seq = mmu_interval_read_begin(range.notifier);
		if (!mmap_read_trylock(src_mm)) {
			ret = xpmem_wait_source(vmf, src_mm);
			if (ret)
				goto out;
			/* (we now hold it: the no-retry case) */
		}
		err = hmm_range_fault(&range);
		mmap_read_unlock(src_mm);
		if (err == -EBUSY) {
			/* Endless invalidations: return, the CPU refaults. */
			if (time_after(jiffies, timeout)) {
				ret = VM_FAULT_NOPAGE;
				goto out;
			}
			continue;
		}
		if (err) {
			ret = xpmem_hmm_error(err);
			goto out;
		}

		mutex_lock(&att->lock);
		if (att->dead) {
			mutex_unlock(&att->lock);
			ret = VM_FAULT_SIGBUS;
			goto out;
		}
		if (mmu_interval_read_retry(range.notifier,
					    range.notifier_seq)) {
			mutex_unlock(&att->lock);
			continue;
		}
		break;
	}
	xpmem_install(vma, &range, start);
	mutex_unlock(&att->lock);
	ret = VM_FAULT_NOPAGE;
out:
	/* Not mmput(): we may hold our mmap_lock, and it may be the last. */
	mmput_async(src_mm);
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
