// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_perm.c - struct xpmem_ap (access permit): the permission check of
 * xpmem_get(), and get/release/lookup of permits.
 *
 * The check is SysV IPC's: owner, group or other bits of the segment's mode
 * by the caller's effective ids, overridden by CAP_IPC_OWNER in the initial
 * user namespace only (a capability in a user namespace of one's own must
 * not open other users' segments; segments are not namespaced).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "xpmem_internal.h"

/* low 32 bits of apid -> struct xpmem_ap, until released */
static DEFINE_XARRAY_ALLOC1(xpmem_aps);
static u32 xpmem_aps_next;

static bool xpmem_seg_permits(struct xpmem_seg *seg, bool write)
{
	umode_t granted = seg->mode;
	umode_t wanted = write ? 06 : 04;

	if (uid_eq(current_euid(), seg->uid))
		granted >>= 6;
	else if (in_group_p(seg->gid))
		granted >>= 3;
	if ((wanted & ~granted & 07) == 0)
		return true;
	return capable(CAP_IPC_OWNER);
}

/**
 * xpmem_ap_get() - XPMEM_CMD_GET: a permit for @proc to attach @segid
 * @proc: the caller's state
 * @segid: from user space
 * @flags: XPMEM_GET_RDONLY, XPMEM_GET_RDWR, or 0 (taken as read-only)
 * @permit_type: must be XPMEM_PERMIT_MODE_TYPE
 * @permit_value: must be 0
 * @apid: the new permit's id
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (bad argument), -ENOENT (no such segment, removed, or
 * its process exited), -EACCES (permission denied), -ENOMEM, -EBUSY.
 */
int xpmem_ap_get(struct xpmem_proc *proc, xpmem_segid_t segid, int flags,
		 int permit_type, u64 permit_value, xpmem_apid_t *apid)
{
	struct xpmem_seg *seg;
	struct xpmem_ap *ap;
	int ret;

	if (segid <= 0)
		return -EINVAL;
	if (flags & ~(XPMEM_GET_RDONLY | XPMEM_GET_RDWR) ||
	    flags == (XPMEM_GET_RDONLY | XPMEM_GET_RDWR))
		return -EINVAL;
	if (permit_type != XPMEM_PERMIT_MODE_TYPE || permit_value)
		return -EINVAL;

	seg = xpmem_seg_lookup(segid);
	if (!seg)
		return -ENOENT;
	/* A segment of an exited process can never be attached again. */
	if (READ_ONCE(seg->removed) || !atomic_read(&seg->proc->mm->mm_users)) {
		ret = -ENOENT;
		goto err_put_seg;
	}
	if (!xpmem_seg_permits(seg, flags == XPMEM_GET_RDWR)) {
		ret = -EACCES;
		goto err_put_seg;
	}

	ap = kzalloc(sizeof(*ap), GFP_KERNEL_ACCOUNT);
	if (!ap) {
		ret = -ENOMEM;
		goto err_put_seg;
	}
	kref_init(&ap->kref);
	xpmem_stat_add(XPMEM_STAT_PERMITS, 1);
	ap->seg = seg;		/* takes over the lookup's reference */
	ap->writable = flags == XPMEM_GET_RDWR;
	mutex_init(&ap->lock);
	INIT_LIST_HEAD(&ap->atts);
	xpmem_proc_get(proc);
	ap->proc = proc;

	ret = xpmem_id_alloc(&xpmem_aps, &xpmem_aps_next, NULL, &ap->apid);
	if (ret) {
		xpmem_proc_put(proc);
		kfree(ap);
		xpmem_stat_add(XPMEM_STAT_PERMITS, -1);
		goto err_put_seg;
	}
	mutex_lock(&proc->lock);
	list_add_tail(&ap->proc_node, &proc->aps);
	mutex_unlock(&proc->lock);
	xa_store(&xpmem_aps, xpmem_id_index(ap->apid), ap, 0);
	*apid = ap->apid;
	return 0;

err_put_seg:
	xpmem_seg_put(seg);
	return ret;
}

/**
 * xpmem_ap_lookup() - find a permit by id
 * @apid: any value from user space
 *
 * Context: any context that may take rcu_read_lock().
 * Return: the permit with a reference, or NULL.
 */
struct xpmem_ap *xpmem_ap_lookup(xpmem_apid_t apid)
{
	struct xpmem_ap *ap;

	rcu_read_lock();
	ap = xa_load(&xpmem_aps, xpmem_id_index(apid));
	if (ap && (ap->apid != apid || !kref_get_unless_zero(&ap->kref)))
		ap = NULL;
	rcu_read_unlock();
	return ap;
}

/* Next attachment of @ap that nobody is detaching yet, with a reference. */
static struct xpmem_att *xpmem_ap_next_att(struct xpmem_ap *ap)
{
	struct xpmem_att *att;

	mutex_lock(&ap->lock);
	list_for_each_entry(att, &ap->atts, ap_node) {
		if (!att->detaching && kref_get_unless_zero(&att->kref)) {
			att->detaching = true;
			mutex_unlock(&ap->lock);
			return att;
		}
	}
	mutex_unlock(&ap->lock);
	return NULL;
}

/**
 * xpmem_ap_release() - release @ap
 * @ap: the permit; the caller holds a reference
 * @unmap: unmap its attachments (true when the holder calls xpmem_release();
 *	at teardown no attachment VMA is left, and current may be any process)
 *
 * Context: process context, may sleep. With @unmap, current->mm must be
 * the holder's mm.
 * Return: true if this call released it, false if it was released already.
 */
bool xpmem_ap_release(struct xpmem_ap *ap, bool unmap)
{
	struct xpmem_proc *proc = ap->proc;
	struct xpmem_att *att;
	bool was_released;

	mutex_lock(&ap->lock);
	was_released = ap->released;
	ap->released = true;
	mutex_unlock(&ap->lock);
	if (was_released)
		return false;

	mutex_lock(&proc->lock);
	list_del_init(&ap->proc_node);
	mutex_unlock(&proc->lock);
	xa_erase(&xpmem_aps, xpmem_id_index(ap->apid));

	/* Not under ap->lock: unmapping frees attachments, which take it. */
	while (unmap && (att = xpmem_ap_next_att(ap))) {
		xpmem_att_detach(att);
		xpmem_att_put(att);
	}
	xpmem_ap_put(ap);	/* the table's reference */
	return true;
}

/**
 * xpmem_ap_release_id() - XPMEM_CMD_RELEASE
 * @proc: the caller's state (current->mm == proc->mm)
 * @apid: from user space
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (@apid <= 0), -ENOENT (no such permit), -EACCES (it
 * belongs to another process).
 */
int xpmem_ap_release_id(struct xpmem_proc *proc, xpmem_apid_t apid)
{
	struct xpmem_ap *ap;
	int ret = 0;

	if (apid <= 0)
		return -EINVAL;
	ap = xpmem_ap_lookup(apid);
	if (!ap)
		return -ENOENT;
	if (ap->proc != proc)
		ret = -EACCES;
	else if (!xpmem_ap_release(ap, true))
		ret = -ENOENT;
	xpmem_ap_put(ap);
	return ret;
}

static void xpmem_ap_free(struct kref *kref)
{
	struct xpmem_ap *ap = container_of(kref, struct xpmem_ap, kref);

	WARN_ON_ONCE(!list_empty(&ap->atts));
	xpmem_seg_put(ap->seg);
	xpmem_proc_put(ap->proc);
	kfree_rcu(ap, rcu);
	xpmem_stat_add(XPMEM_STAT_PERMITS, -1);
}

/**
 * xpmem_ap_put() - drop a reference to @ap
 * @ap: the permit
 *
 * Context: may sleep.
 */
void xpmem_ap_put(struct xpmem_ap *ap)
{
	kref_put(&ap->kref, xpmem_ap_free);
}

void xpmem_ap_exit(void)
{
	WARN_ON_ONCE(!xa_empty(&xpmem_aps));
	xa_destroy(&xpmem_aps);
}
