// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_notifier.c - keeping importers coherent with the exporter.
 *
 * Every attachment has an mmu_interval_notifier on the exporter's mm over
 * the range it mirrors; the core mm keeps those in an interval tree, so an
 * exporter event only reaches the attachments that overlap it. On an
 * invalidation start we bump the notifier sequence (making racing faults
 * retry) and zap the importer PTEs that mirror the range, before the core mm
 * goes on to free, move or write-protect the exporter's pages. Invalidations
 * from any context count: the exporter's own munmap, another process's
 * process_vm_writev(), reclaim, migration, KSM, exit.
 *
 * Importer PTEs are zapped through xpmem_mapping, not through the importer's
 * VMA tree, so no importer lock beyond its page table locks is taken.
 */
#include <linux/hash.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "xpmem_internal.h"

/*
 * Tasks currently zapping importer PTEs. A zap is itself an invalidation of
 * the importer's mm, so it calls the importer's notifiers; when the importer
 * also exports (every MPI rank does), that lands in our callback again, for
 * an attachment that mirrors the importer's own attachment VMAs. Those
 * never have PTEs (the fault path refuses to mirror an xpmem VMA: it is
 * VM_PFNMAP), so the nested call has nothing to do, and must not recurse:
 * two processes attaching each other's attachments would loop forever.
 * A zapping task registers here; the callback returns at once for it.
 */
#define XPMEM_ZAPPERS_BITS	6
struct xpmem_zapper {
	struct hlist_node node;
	struct task_struct *task;
};

static struct {
	spinlock_t lock;	/* protects head */
	struct hlist_head head;
} xpmem_zappers[1 << XPMEM_ZAPPERS_BITS] = {
	[0 ... (1 << XPMEM_ZAPPERS_BITS) - 1] = {
		.lock = __SPIN_LOCK_UNLOCKED(xpmem_zappers.lock),
	},
};

static atomic_t xpmem_nr_zappers = ATOMIC_INIT(0);

static unsigned int xpmem_zapper_bucket(struct task_struct *task)
{
	return hash_ptr(task, XPMEM_ZAPPERS_BITS);
}

static void xpmem_zap_begin(struct xpmem_zapper *z)
{
	unsigned int b = xpmem_zapper_bucket(current);

	z->task = current;
	spin_lock(&xpmem_zappers[b].lock);
	hlist_add_head(&z->node, &xpmem_zappers[b].head);
	spin_unlock(&xpmem_zappers[b].lock);
	atomic_inc(&xpmem_nr_zappers);
}

static void xpmem_zap_end(struct xpmem_zapper *z)
{
	unsigned int b = xpmem_zapper_bucket(current);

	atomic_dec(&xpmem_nr_zappers);
	spin_lock(&xpmem_zappers[b].lock);
	hlist_del(&z->node);
	spin_unlock(&xpmem_zappers[b].lock);
}

static bool xpmem_zapping(void)
{
	unsigned int b = xpmem_zapper_bucket(current);
	struct xpmem_zapper *z;
	bool found = false;

	/* Only current adds itself, so a zero seen here is exact for current. */
	if (!atomic_read(&xpmem_nr_zappers))
		return false;
	spin_lock(&xpmem_zappers[b].lock);
	hlist_for_each_entry(z, &xpmem_zappers[b].head, node) {
		if (z->task == current) {
			found = true;
			break;
		}
	}
	spin_unlock(&xpmem_zappers[b].lock);
	return found;
}

/* Zap the importer PTEs of @att that mirror [src_start, src_end). */
static void xpmem_att_zap(struct xpmem_att *att, unsigned long src_start,
			  unsigned long src_end)
{
	struct xpmem_zapper z;
	pgoff_t first;

	/*
	 * Clamp before rounding: exit_mmap() and the RELEASE event invalidate
	 * up to ULONG_MAX, which round_up() would wrap to 0.
	 */
	src_start = round_down(max(src_start, att->src_start), PAGE_SIZE);
	src_end = round_up(min(src_end, att->src_start + att->size), PAGE_SIZE);
	if (src_start >= src_end)
		return;
	/*
	 * A 1 GiB entry maps a 1 GiB-aligned block of the source, and must be
	 * zapped whole: zapping part of it makes the core mm split it, which
	 * wants the importer's mmap_lock, not held here. (Invalidations of
	 * hugetlb memory cover whole pages anyway.) The flag is set under
	 * att->lock, which our caller took and dropped (setting the sequence,
	 * or att->dead): a fault that mapped a PUD before is seen here, one
	 * after maps nothing.
	 */
	if (READ_ONCE(att->huge_pud)) {
		src_start = max(ALIGN_DOWN(src_start, PUD_SIZE), att->src_start);
		src_end = min(ALIGN(src_end, PUD_SIZE),
			      att->src_start + att->size);
	}
	first = att->pgoff + ((src_start - att->src_start) >> PAGE_SHIFT);

	/*
	 * The zap takes our i_mmap_rwsem and then starts an invalidation of
	 * the importer's mm; called from xpmem_mn_invalidate(), it does so
	 * inside an invalidation of the exporter's. Lockdep models every
	 * invalidation as one lock (__mmu_notifier_invalidate_range_start_map,
	 * taken exclusively, not exported, so no nesting annotation is
	 * possible) and reports recursive locking, and a cycle with the
	 * i_mmap_rwsem the zap holds. Neither can deadlock: invalidations
	 * never wait for one another (only mmu_interval_read_begin() and
	 * notifier removal wait for them, never from a callback), the nested
	 * xpmem callbacks return at once (xpmem_zapping()), so it goes one
	 * level deep, and the rwsem is only read here. Hence lockdep is off
	 * for the zap itself; xpmem_mn_invalidate() still orders the rwsem
	 * after the locks an invalidation holds (might_lock_read()). The
	 * kernel's own virtio_mem driver does the same for its false positive.
	 */
	xpmem_zap_begin(&z);
	lockdep_off();
	unmap_mapping_pages(xpmem_mapping, first,
			    (src_end - src_start) >> PAGE_SHIFT, false);
	lockdep_on();
	xpmem_zap_end(&z);
	xpmem_stat_add(XPMEM_STAT_ZAPS, 1);
	xpmem_stat_add(XPMEM_STAT_ZAP_PAGES, (src_end - src_start) >> PAGE_SHIFT);
}

/**
 * xpmem_zap_vma() - zap [addr, addr + size) of an attachment VMA
 * @vma: the VMA, stable (its mm's mmap_lock or VMA lock held)
 * @addr: page aligned start
 * @size: page aligned length
 *
 * Context: process context, may sleep.
 */
void xpmem_zap_vma(struct vm_area_struct *vma, unsigned long addr,
		   unsigned long size)
{
	struct xpmem_zapper z;

	xpmem_zap_begin(&z);
	zap_vma_ptes(vma, addr, size);
	xpmem_zap_end(&z);
}

/**
 * xpmem_att_kill() - make @att fault with SIGBUS from now on
 * @att: the attachment (alive: the caller holds its segment's lock)
 *
 * Zaps all its importer PTEs; a fault racing with this sees @att->dead.
 *
 * Context: process context, may sleep.
 */
void xpmem_att_kill(struct xpmem_att *att)
{
	mutex_lock(&att->lock);
	att->dead = true;
	mutex_unlock(&att->lock);
	xpmem_att_zap(att, att->src_start, att->src_start + att->size);
}

/*
 * The exporter's mm is about to change [range->start, range->end).
 *
 *	fault (xpmem_fault.c)			invalidation (here)
 *	seq = mmu_interval_read_begin()
 *	resolve source pages
 *						lock att
 *						mmu_interval_set_seq()
 *						unlock att
 *						zap importer PTEs
 *						(core mm frees the pages)
 *	lock att
 *	mmu_interval_read_retry(seq)
 *	[Required: true; so no PTE of a freed page is installed]
 *	unlock att, start over
 *
 * A fault that took att->lock first installs its PTEs before we set the
 * sequence, and our zap then removes them.
 */
static bool xpmem_mn_invalidate(struct mmu_interval_notifier *mni,
				const struct mmu_notifier_range *range,
				unsigned long cur_seq)
{
	struct xpmem_att *att = container_of(mni, struct xpmem_att, mni);

	if (xpmem_zapping())
		return true;
	/* The zap sleeps (i_mmap_rwsem); the OOM reaper will try again. */
	if (!mmu_notifier_range_blockable(range))
		return false;

	xpmem_stat_add(XPMEM_STAT_INVALIDATIONS, 1);
	mutex_lock(&att->lock);
	mmu_interval_set_seq(mni, cur_seq);
	/* The exporter is exiting: its pages will never come back. */
	if (range->event == MMU_NOTIFY_RELEASE)
		att->dead = true;
	mutex_unlock(&att->lock);

	/* (see xpmem_att_zap() for why the zap runs without lockdep) */
	might_lock_read(&xpmem_mapping->i_mmap_rwsem);
	xpmem_att_zap(att, range->start, range->end);
	return true;
}

const struct mmu_interval_notifier_ops xpmem_mn_ops = {
	.invalidate = xpmem_mn_invalidate,
};
