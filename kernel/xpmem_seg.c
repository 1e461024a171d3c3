// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_seg.c - struct xpmem_seg: make, remove, look up; and the id scheme
 * shared with permits.
 *
 * Ids are 63-bit positive numbers: the low 32 bits index a global xarray
 * (allocated cyclically, so an index is not reused soon), the high 31 bits
 * are random. An id is therefore never 0 or negative, never names a newer
 * object after its own is gone, and is not guessable from a pid (hpc/xpmem
 * ids were "pid | counter << 32"). Consumers treat ids as opaque keys.
 */
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "xpmem_internal.h"

/* low 32 bits of segid -> struct xpmem_seg, until removed */
static DEFINE_XARRAY_ALLOC1(xpmem_segs);
static u32 xpmem_segs_next;

/**
 * xpmem_id_alloc() - store @entry in @xa and make an id for it
 * @xa: an allocating xarray
 * @next: the xarray's cyclic cursor
 * @entry: the object
 * @id: the new id
 *
 * Context: may sleep.
 * Return: 0, -ENOMEM, or -EBUSY if 2^31 objects exist.
 */
int xpmem_id_alloc(struct xarray *xa, u32 *next, void *entry, s64 *id)
{
	u32 index;
	int ret;

	ret = xa_alloc_cyclic(xa, &index, entry, XA_LIMIT(1, INT_MAX), next,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		return ret == -EBUSY ? -EBUSY : -ENOMEM;
	*id = (s64)(get_random_u32() >> 1) << 32 | index;
	return 0;
}

/* The xarray index of @id, or 0 (never used) if @id cannot be one of ours. */
u32 xpmem_id_index(s64 id)
{
	if (id <= 0 || (u32)id > INT_MAX)
		return 0;
	return (u32)id;
}

/**
 * xpmem_seg_make() - export [@vaddr, @vaddr + @size) of @proc
 * @proc: the caller's state (current->mm == proc->mm)
 * @vaddr: start, page aligned
 * @size: length, page aligned, or XPMEM_MAXADDR_SIZE with @vaddr 0
 * @permit_type: must be XPMEM_PERMIT_MODE_TYPE
 * @permit_value: mode, a subset of 0777
 * @segid: the new segment's id
 *
 * The range need not be mapped, now or ever: holes are allowed.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (bad argument, in hpc/xpmem's order), -ENOMEM, -EBUSY.
 */
int xpmem_seg_make(struct xpmem_proc *proc, u64 vaddr, u64 size,
		   int permit_type, u64 permit_value, xpmem_segid_t *segid)
{
	struct xpmem_seg *seg;
	int ret;

	if (permit_type != XPMEM_PERMIT_MODE_TYPE || permit_value & ~0777ULL ||
	    size == 0)
		return -EINVAL;
	if (vaddr + size < vaddr || vaddr + size > TASK_SIZE) {
		/* Only "everything from 0" is clamped, as in hpc/xpmem. */
		if (vaddr != 0 || size != U64_MAX)
			return -EINVAL;
		size = TASK_SIZE;
	}
	if (offset_in_page(vaddr) || offset_in_page(size))
		return -EINVAL;

	seg = kzalloc(sizeof(*seg), GFP_KERNEL_ACCOUNT);
	if (!seg)
		return -ENOMEM;
	kref_init(&seg->kref);
	xpmem_stat_add(XPMEM_STAT_SEGMENTS, 1);
	seg->vaddr = vaddr;
	seg->size = size;
	seg->mode = permit_value;
	seg->uid = current_euid();
	seg->gid = current_egid();
	mutex_init(&seg->lock);
	INIT_LIST_HEAD(&seg->atts);
	xpmem_proc_get(proc);
	seg->proc = proc;

	/* Not visible to lookups before the id is complete. */
	ret = xpmem_id_alloc(&xpmem_segs, &xpmem_segs_next, NULL, &seg->segid);
	if (ret) {
		xpmem_proc_put(proc);
		kfree(seg);
		xpmem_stat_add(XPMEM_STAT_SEGMENTS, -1);
		return ret;
	}
	mutex_lock(&proc->lock);
	list_add_tail(&seg->proc_node, &proc->segs);
	mutex_unlock(&proc->lock);
	xa_store(&xpmem_segs, xpmem_id_index(seg->segid), seg, 0);
	*segid = seg->segid;
	return 0;
}

/**
 * xpmem_seg_lookup() - find a segment by id
 * @segid: any value from user space
 *
 * Context: any context that may take rcu_read_lock().
 * Return: the segment with a reference, or NULL if @segid names no live
 * segment.
 */
struct xpmem_seg *xpmem_seg_lookup(xpmem_segid_t segid)
{
	struct xpmem_seg *seg;

	rcu_read_lock();
	seg = xa_load(&xpmem_segs, xpmem_id_index(segid));
	if (seg && (seg->segid != segid || !kref_get_unless_zero(&seg->kref)))
		seg = NULL;
	rcu_read_unlock();
	return seg;
}

/**
 * xpmem_seg_remove() - remove @seg and kill all its attachments
 * @seg: the segment; the caller holds a reference
 *
 * After this returns, no importer maps a page of @seg and every access to
 * an attachment of it raises SIGBUS. Idempotent.
 *
 * Context: process context (any process), may sleep.
 * Return: true if this call removed it, false if it was removed already.
 */
bool xpmem_seg_remove(struct xpmem_seg *seg)
{
	struct xpmem_proc *proc = seg->proc;
	struct xpmem_att *att;
	bool was_removed;

	mutex_lock(&seg->lock);
	was_removed = seg->removed;
	seg->removed = true;
	/*
	 * Attachments unlink themselves under seg->lock when freed, so each
	 * one stays valid while we hold it; killing a dying one is harmless.
	 */
	list_for_each_entry(att, &seg->atts, seg_node)
		xpmem_att_kill(att);
	mutex_unlock(&seg->lock);
	if (was_removed)
		return false;

	mutex_lock(&proc->lock);
	list_del_init(&seg->proc_node);
	mutex_unlock(&proc->lock);
	xa_erase(&xpmem_segs, xpmem_id_index(seg->segid));
	xpmem_seg_put(seg);	/* the table's reference */
	return true;
}

/**
 * xpmem_seg_remove_id() - XPMEM_CMD_REMOVE
 * @proc: the caller's state
 * @segid: from user space
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (@segid <= 0), -ENOENT (no such segment), -EACCES (it
 * belongs to another process).
 */
int xpmem_seg_remove_id(struct xpmem_proc *proc, xpmem_segid_t segid)
{
	struct xpmem_seg *seg;
	int ret = 0;

	if (segid <= 0)
		return -EINVAL;
	seg = xpmem_seg_lookup(segid);
	if (!seg)
		return -ENOENT;
	if (seg->proc != proc)
		ret = -EACCES;
	else if (!xpmem_seg_remove(seg))
		ret = -ENOENT;
	xpmem_seg_put(seg);
	return ret;
}

static void xpmem_seg_free(struct kref *kref)
{
	struct xpmem_seg *seg = container_of(kref, struct xpmem_seg, kref);

	WARN_ON_ONCE(!list_empty(&seg->atts));
	xpmem_proc_put(seg->proc);
	kfree_rcu(seg, rcu);
	xpmem_stat_add(XPMEM_STAT_SEGMENTS, -1);
}

/**
 * xpmem_seg_put() - drop a reference to @seg
 * @seg: the segment
 *
 * Context: may sleep.
 */
void xpmem_seg_put(struct xpmem_seg *seg)
{
	kref_put(&seg->kref, xpmem_seg_free);
}

void xpmem_seg_exit(void)
{
	WARN_ON_ONCE(!xa_empty(&xpmem_segs));
	xa_destroy(&xpmem_segs);
}
