// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_proc.c - struct xpmem_proc: the xpmem state of one process.
 *
 * One per mm, found through xpmem_procs at open() time, so that every fd a
 * process opens shares one state and closing one of them destroys nothing.
 * The state is torn down when the process's last /dev/xpmem file is
 * released (see "Objects and lifetimes" in xpmem_internal.h).
 */
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "xpmem_internal.h"

/* Protects xpmem_procs and every proc's nr_files. */
static DEFINE_MUTEX(xpmem_procs_lock);
/* mm pointer -> struct xpmem_proc */
static DEFINE_XARRAY(xpmem_procs);

/**
 * xpmem_proc_open() - get the state of @mm for a newly opened file
 * @mm: current->mm
 *
 * Context: process context, may sleep.
 * Return: the proc with a reference and nr_files counted, or ERR_PTR(-ENOMEM).
 */
struct xpmem_proc *xpmem_proc_open(struct mm_struct *mm)
{
	struct xpmem_proc *proc;
	int ret;

	/*
	 * The first interval notifier on an mm registers the mm's notifier
	 * subscriptions, which takes mm_take_all_locks(): every i_mmap_rwsem
	 * of the mm's file VMAs, ours included, in address order, while our
	 * invalidation callback takes ours inside another file's. Do it now,
	 * while this mm has no attachment VMA (a proc lives as long as any of
	 * them), so that attaching to this process never has to.
	 */
	mutex_lock(&xpmem_procs_lock);
	proc = xa_load(&xpmem_procs, (unsigned long)mm);
	mutex_unlock(&xpmem_procs_lock);
	if (!proc) {
		ret = mmu_notifier_register(NULL, mm);
		if (ret)
			return ERR_PTR(ret);
	}

	mutex_lock(&xpmem_procs_lock);
	proc = xa_load(&xpmem_procs, (unsigned long)mm);
	if (proc) {
		kref_get(&proc->kref);
		goto out;
	}

	proc = kzalloc(sizeof(*proc), GFP_KERNEL_ACCOUNT);
	if (!proc) {
		proc = ERR_PTR(-ENOMEM);
		goto unlock;
	}
	kref_init(&proc->kref);
	proc->mm = mm;
	proc->tgid = current->tgid;
	mutex_init(&proc->lock);
	INIT_LIST_HEAD(&proc->segs);
	INIT_LIST_HEAD(&proc->aps);
	ret = xa_err(xa_store(&xpmem_procs, (unsigned long)mm, proc,
			      GFP_KERNEL_ACCOUNT));
	if (ret) {
		kfree(proc);
		proc = ERR_PTR(ret);
		goto unlock;
	}
	mmgrab(mm);
out:
	proc->nr_files++;
unlock:
	mutex_unlock(&xpmem_procs_lock);
	return proc;
}

/*
 * Remove every segment the process exports and release every permit it
 * holds. Runs when its last file is released; by then no attachment VMA of
 * the process exists (each holds a file), so nothing needs unmapping here.
 *
 * The objects are first moved to private lists, so that a concurrent open()
 * of the same mm starts from an empty state and keeps what it creates. They
 * are unlinked from those lists under proc->lock like from proc's own.
 */
static void xpmem_proc_teardown(struct xpmem_proc *proc)
{
	struct xpmem_seg *seg;
	struct xpmem_ap *ap;
	LIST_HEAD(segs);
	LIST_HEAD(aps);

	mutex_lock(&proc->lock);
	list_splice_init(&proc->segs, &segs);
	list_splice_init(&proc->aps, &aps);
	mutex_unlock(&proc->lock);

	for (;;) {
		mutex_lock(&proc->lock);
		seg = list_first_entry_or_null(&segs, struct xpmem_seg,
					       proc_node);
		if (seg)
			kref_get(&seg->kref);
		mutex_unlock(&proc->lock);
		if (!seg)
			break;
		xpmem_seg_remove(seg);
		xpmem_seg_put(seg);
	}

	for (;;) {
		mutex_lock(&proc->lock);
		ap = list_first_entry_or_null(&aps, struct xpmem_ap, proc_node);
		if (ap)
			kref_get(&ap->kref);
		mutex_unlock(&proc->lock);
		if (!ap)
			break;
		xpmem_ap_release(ap, false);
		xpmem_ap_put(ap);
	}
}

/**
 * xpmem_proc_close() - a file of @proc is released
 * @proc: file->private_data
 *
 * Tears the state down if it was the last file, and drops the file's
 * reference.
 *
 * Context: process context (any process: files can be passed around), may
 * sleep. Takes no lock of any other process.
 */
void xpmem_proc_close(struct xpmem_proc *proc)
{
	bool last;

	mutex_lock(&xpmem_procs_lock);
	last = --proc->nr_files == 0;
	mutex_unlock(&xpmem_procs_lock);
	/*
	 * A concurrent open() of the same mm may revive the proc meanwhile;
	 * it then starts from an empty state, as if it had been first.
	 */
	if (last)
		xpmem_proc_teardown(proc);
	xpmem_proc_put(proc);
}

void xpmem_proc_get(struct xpmem_proc *proc)
{
	kref_get(&proc->kref);
}

/* Called by kref_put_mutex() with xpmem_procs_lock held; drops it. */
static void xpmem_proc_free(struct kref *kref)
{
	struct xpmem_proc *proc = container_of(kref, struct xpmem_proc, kref);

	xa_erase(&xpmem_procs, (unsigned long)proc->mm);
	mutex_unlock(&xpmem_procs_lock);
	WARN_ON_ONCE(!list_empty(&proc->segs) || !list_empty(&proc->aps));
	mmdrop(proc->mm);
	kfree(proc);
}

/**
 * xpmem_proc_put() - drop a reference to @proc
 * @proc: the proc
 *
 * Context: may sleep (takes xpmem_procs_lock when it is the last reference).
 */
void xpmem_proc_put(struct xpmem_proc *proc)
{
	kref_put_mutex(&proc->kref, xpmem_proc_free, &xpmem_procs_lock);
}

void xpmem_proc_exit(void)
{
	WARN_ON_ONCE(!xa_empty(&xpmem_procs));
	xa_destroy(&xpmem_procs);
}
