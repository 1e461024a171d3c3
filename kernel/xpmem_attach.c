// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_attach.c - struct xpmem_att: attach, detach, and the importer VMA.
 *
 * An attachment is a shared mapping of /dev/xpmem at a page offset unique to
 * it, made with vm_mmap() on the caller's file. The VMA is VM_PFNMAP (its
 * PTEs hold no page references), not copied on fork, not dumped, and cannot
 * grow or move. It may be split (partial munmap or mprotect): every piece
 * holds a reference on the attachment, and the last piece unmapped frees it.
 * Unmapping any piece is an implicit detach of that piece; nobody gets a
 * signal for it.
 *
 * The page offset has the same offset in a huge page as the source address,
 * and xpmem_get_unmapped_area() keeps it in the importer address, so that
 * exporter huge pages can be mapped with one importer entry (xpmem_fault.c).
 */
#include <linux/compat.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>	/* after mm.h on 6.1 */
#include <linux/mman.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "xpmem_internal.h"

/*
 * Attachments between xpmem_att_attach() and xpmem_mmap(): pgoff -> att.
 * An entry is only looked at and claimed under the xarray's lock, and the
 * attaching ioctl erases it before dropping its own reference.
 */
static DEFINE_XARRAY(xpmem_pending);

/*
 * Page offsets in xpmem_mapping in use: each attachment owns a range of
 * them (its pages plus slack for the huge page alignment) until it is freed.
 * By then its VMAs have left the mapping and its notifier is removed, so no
 * zap can name the range any more and it may be handed out again. Ranges
 * are handed out next-fit from @xpmem_pgoff_next, which normally lies past
 * every range in use: one tree lookup. Limited so that the byte offset
 * passed to vm_mmap() fits in a positive loff_t.
 */
static DEFINE_MUTEX(xpmem_pgoff_lock);	/* protects the two below */
static struct rb_root xpmem_pgoffs = RB_ROOT;	/* by xpmem_att.pgoff_first */
static unsigned long xpmem_pgoff_next = 1;
#define XPMEM_PGOFF_LIMIT	(1UL << (BITS_PER_LONG - 1 - PAGE_SHIFT))
#define XPMEM_PMD_PAGES		(PMD_SIZE / PAGE_SIZE)
#define XPMEM_PUD_PAGES		(PUD_SIZE / PAGE_SIZE)

static const struct vm_operations_struct xpmem_vm_ops;

static void xpmem_att_free(struct kref *kref)
{
	struct xpmem_att *att = container_of(kref, struct xpmem_att, kref);
	struct xpmem_ap *ap = att->ap;

	if (ap) {
		mutex_lock(&ap->lock);
		list_del_init(&att->ap_node);
		mutex_unlock(&ap->lock);
		mutex_lock(&ap->seg->lock);
		list_del_init(&att->seg_node);
		mutex_unlock(&ap->seg->lock);
	}
	/* Waits for running callbacks; none starts after it returns. */
	if (att->mni.mm)
		mmu_interval_notifier_remove(&att->mni);
	if (att->pgoff_last) {
		mutex_lock(&xpmem_pgoff_lock);
		rb_erase(&att->pgoff_node, &xpmem_pgoffs);
		mutex_unlock(&xpmem_pgoff_lock);
	}
	if (ap)
		xpmem_ap_put(ap);
	kfree(att);
	xpmem_stat_add(XPMEM_STAT_ATTACHMENTS, -1);
}

/**
 * xpmem_att_put() - drop a reference to @att
 * @att: the attachment
 *
 * Context: process context, may sleep; must not be called from an mmu
 * notifier callback (freeing removes the interval notifier).
 */
void xpmem_att_put(struct xpmem_att *att)
{
	kref_put(&att->kref, xpmem_att_free);
}

/* The attachment whose page offsets overlap [@first, @last], if any. */
static struct xpmem_att *xpmem_pgoff_busy(unsigned long first,
					  unsigned long last)
{
	struct rb_node *node = xpmem_pgoffs.rb_node;
	struct xpmem_att *prev = NULL;

	/* The ranges are disjoint: only the last one starting <= @last counts. */
	while (node) {
		struct xpmem_att *att = rb_entry(node, struct xpmem_att,
						 pgoff_node);

		if (att->pgoff_first <= last) {
			prev = att;
			node = node->rb_right;
		} else {
			node = node->rb_left;
		}
	}
	return prev && prev->pgoff_last >= first ? prev : NULL;
}

static bool xpmem_pgoff_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct xpmem_att, pgoff_node)->pgoff_first <
	       rb_entry(b, struct xpmem_att, pgoff_node)->pgoff_first;
}

/* Give @att a range of @len page offsets (xpmem_pgoffs). */
static int xpmem_pgoff_alloc(struct xpmem_att *att, unsigned long len)
{
	unsigned long first;
	bool wrapped = false;

	mutex_lock(&xpmem_pgoff_lock);
	first = xpmem_pgoff_next;
	for (;;) {
		struct xpmem_att *busy;

		if (len > XPMEM_PGOFF_LIMIT - first) {
			if (wrapped) {
				mutex_unlock(&xpmem_pgoff_lock);
				return -ENOSPC;
			}
			wrapped = true;
			first = 1;
			continue;
		}
		busy = xpmem_pgoff_busy(first, first + len - 1);
		if (!busy)
			break;
		first = busy->pgoff_last + 1;
	}
	att->pgoff_first = first;
	att->pgoff_last = first + len - 1;
	rb_add(&att->pgoff_node, &xpmem_pgoffs, xpmem_pgoff_less);
	xpmem_pgoff_next = first + len;
	mutex_unlock(&xpmem_pgoff_lock);
	return 0;
}

/* Does [@start, @start + @len) hold a whole @size-aligned block of @size? */
static bool xpmem_holds_block(unsigned long start, unsigned long len,
			      unsigned long size)
{
	return len >= size && ALIGN(start, size) - start <= len - size;
}

/*
 * Create an attachment of [offset, offset + size) of ap's segment for the
 * current process, registered with the exporter's mm and linked to the
 * permit and the segment. Returns it with one reference.
 */
static struct xpmem_att *xpmem_att_create(struct xpmem_ap *ap, u64 offset,
					  u64 size)
{
	struct xpmem_seg *seg = ap->seg;
	struct mm_struct *src_mm = seg->proc->mm;
	unsigned long npages = size >> PAGE_SHIFT;
	unsigned long align = XPMEM_PMD_PAGES;
	struct xpmem_att *att;
	int ret;

	att = kzalloc(sizeof(*att), GFP_KERNEL_ACCOUNT);
	if (!att)
		return ERR_PTR(-ENOMEM);
	kref_init(&att->kref);
	xpmem_stat_add(XPMEM_STAT_ATTACHMENTS, 1);
	att->src_mm = src_mm;
	att->src_start = seg->vaddr + offset;
	att->size = size;
	att->mm = current->mm;
	att->attacher = current;
	att->writable = ap->writable;
	mutex_init(&att->lock);
	init_rwsem(&att->pt_sem);
	INIT_LIST_HEAD(&att->ap_node);
	INIT_LIST_HEAD(&att->seg_node);

	/*
	 * Same offset within a huge page as the source: 1 GiB if the range
	 * holds a whole aligned 1 GiB (only then can a PUD map some of it;
	 * not padding smaller ones saves page offsets), else 2 MiB.
	 * xpmem_get_unmapped_area() then places the VMA so that importer and
	 * exporter huge pages line up.
	 */
	if (xpmem_holds_block(att->src_start, size, PUD_SIZE))
		align = XPMEM_PUD_PAGES;
	ret = xpmem_pgoff_alloc(att, npages + align);
	if (ret)
		goto err;
	att->pgoff = att->pgoff_first +
		     ((att->src_start / PAGE_SIZE - att->pgoff_first) &
		      (align - 1));

	/* The exporter may be exiting; then there is nothing to mirror. */
	if (!mmget_not_zero(src_mm)) {
		ret = -ENOENT;
		goto err;
	}
	ret = mmu_interval_notifier_insert(&att->mni, src_mm, att->src_start,
					   size, &xpmem_mn_ops);
	mmput(src_mm);
	if (ret)
		goto err;

	mutex_lock(&ap->lock);
	if (ap->released) {
		mutex_unlock(&ap->lock);
		ret = -ENOENT;
		goto err;
	}
	kref_get(&ap->kref);
	att->ap = ap;
	list_add_tail(&att->ap_node, &ap->atts);
	mutex_unlock(&ap->lock);

	mutex_lock(&seg->lock);
	if (seg->removed) {
		mutex_unlock(&seg->lock);
		ret = -ENOENT;
		goto err;
	}
	list_add_tail(&att->seg_node, &seg->atts);
	mutex_unlock(&seg->lock);
	return att;

err:
	xpmem_att_put(att);
	return ERR_PTR(ret);
}

/* Is an xpmem attachment mapped anywhere in [start, end) of current->mm? */
static bool xpmem_range_has_att(unsigned long start, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	bool found = false;

	mmap_read_lock(mm);
	vma_iter_init(&vmi, mm, start);
	for_each_vma_range(vmi, vma, end) {
		if (vma->vm_ops == &xpmem_vm_ops) {
			found = true;
			break;
		}
	}
	mmap_read_unlock(mm);
	return found;
}

/*
 * XPMEM_ATTACH_POPULATE: fault in [start, start + size) of the new
 * attachment now, through the ordinary fault path (so every rule of
 * xpmem_fault.c holds). Best effort: holes stay unmapped (they raise SIGBUS
 * when touched, as always), and a fatal signal stops it early.
 */
static void xpmem_att_populate(unsigned long start, unsigned long size)
{
	struct mm_struct *mm = current->mm;
	unsigned long addr;
	bool unlocked;
	int ret;

	mmap_read_lock(mm);
	for (addr = start; addr < start + size; addr += PAGE_SIZE) {
		unlocked = false;
		ret = fixup_user_fault(mm, addr, 0, &unlocked);
		/* -EFAULT: a hole (or the attachment was unmapped meanwhile) */
		if (ret && ret != -EFAULT)
			break;
		if (fatal_signal_pending(current))
			break;
		if (need_resched()) {
			mmap_read_unlock(mm);
			cond_resched();
			mmap_read_lock(mm);
		}
	}
	mmap_read_unlock(mm);
}

/**
 * xpmem_att_attach() - XPMEM_CMD_ATTACH
 * @proc: the caller's state (current->mm == proc->mm)
 * @file: the /dev/xpmem file the ioctl came through; the VMA maps it
 * @apid: from user space
 * @offset: byte offset into the segment, page aligned
 * @size: bytes, rounded up to pages
 * @flags: XPMEM_ATTACH_POPULATE or 0
 * @vaddr: in: wanted address or 0; out: the address
 *
 * Context: process context, may sleep; takes current->mm's mmap_lock.
 * Return: 0, -EINVAL (bad argument, in hpc/xpmem's order), -ENOENT (no such
 * permit, or its segment or exporter is gone), -EACCES (another process's
 * permit), -ENOSPC (offset space exhausted), or an mmap error.
 */
int xpmem_att_attach(struct xpmem_proc *proc, struct file *file,
		     xpmem_apid_t apid, s64 offset, u64 size, int flags,
		     u64 *vaddr)
{
	unsigned long addr = *vaddr;
	unsigned long prot, mflags;
	struct xpmem_att *att;
	struct xpmem_seg *seg;
	struct xpmem_ap *ap;
	unsigned long ret;
	int err;

	if (apid <= 0)
		return -EINVAL;
	if (addr && (*vaddr >= TASK_SIZE ||
		     addr + PAGE_SIZE - offset_in_page(addr) >= TASK_SIZE))
		return -EINVAL;
	if (offset_in_page(addr) || offset_in_page(offset))
		return -EINVAL;
	if (size > TASK_SIZE)
		return -EINVAL;
	size = PAGE_ALIGN(size);

	ap = xpmem_ap_lookup(apid);
	if (!ap)
		return -ENOENT;
	seg = ap->seg;
	if (ap->proc != proc) {
		err = -EACCES;
		goto out_put_ap;
	}
	if (offset < 0 || size == 0 || offset > seg->size ||
	    size > seg->size - offset) {
		err = -EINVAL;
		goto out_put_ap;
	}
	if (addr) {
		unsigned long src = seg->vaddr + offset;

		/* MAP_FIXED may replace anything but another attachment... */
		err = -EINVAL;
		if (xpmem_range_has_att(addr, addr + size))
			goto out_put_ap;
		/* ...or the source of this one. */
		if (seg->proc == proc && addr < src + size && src < addr + size)
			goto out_put_ap;
	}

	att = xpmem_att_create(ap, offset, size);
	if (IS_ERR(att)) {
		err = PTR_ERR(att);
		goto out_put_ap;
	}

	err = xa_insert(&xpmem_pending, att->pgoff, att, GFP_KERNEL_ACCOUNT);
	if (err)
		goto out_put_att;
	prot = PROT_READ | (att->writable ? PROT_WRITE : 0);
	mflags = MAP_SHARED | (addr ? MAP_FIXED : 0);
	ret = vm_mmap(file, addr, size, prot, mflags, att->pgoff << PAGE_SHIFT);
	/* Normally xpmem_mmap() claimed it; not if mmap failed before. */
	xa_erase(&xpmem_pending, att->pgoff);
	if (IS_ERR_VALUE(ret)) {
		err = (int)ret;
		goto out_put_att;
	}
	*vaddr = ret;
	err = 0;
	if (flags & XPMEM_ATTACH_POPULATE)
		xpmem_att_populate(ret, size);

out_put_att:
	xpmem_att_put(att);	/* the VMA holds its own */
out_put_ap:
	xpmem_ap_put(ap);
	return err;
}

/**
 * xpmem_mmap() - ->mmap of /dev/xpmem: set up an attachment's VMA
 * @file: the /dev/xpmem file
 * @vma: the new VMA
 *
 * Only the vm_mmap() of xpmem_att_attach() gets here with an offset that
 * names a pending attachment; a plain mmap() of /dev/xpmem fails.
 *
 * Context: current->mm's mmap_lock held for writing.
 * Return: 0 or -EINVAL.
 */
int xpmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct xpmem_att *att;

	/*
	 * Only the attaching task's own vm_mmap() (shared, and not writable
	 * for a read-only permit) may claim it: another thread guessing the
	 * offset must not get a private (COW) or writable mapping of it.
	 */
	xa_lock(&xpmem_pending);
	att = xa_load(&xpmem_pending, vma->vm_pgoff);
	if (!att || att->attacher != current || att->mm != current->mm ||
	    vma_pages(vma) != att->size >> PAGE_SHIFT ||
	    !(vma->vm_flags & VM_MAYSHARE) ||
	    (!att->writable && (vma->vm_flags & VM_WRITE))) {
		xa_unlock(&xpmem_pending);
		return -EINVAL;
	}
	__xa_erase(&xpmem_pending, vma->vm_pgoff);
	kref_get(&att->kref);	/* the VMA's reference */
	xa_unlock(&xpmem_pending);

	att->at_vaddr = vma->vm_start;
	vma->vm_private_data = att;
	vma->vm_ops = &xpmem_vm_ops;
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	/* A read-only permit: mprotect() must not make it writable later. */
	if (!att->writable)
		vm_flags_clear(vma, VM_MAYWRITE);
	/* Ask for ->huge_fault() also when THP is in "madvise" mode. */
	if (XPMEM_HUGE_PMD)
		vm_flags_set(vma, VM_HUGEPAGE);
	return 0;
}

/* Is @pgoff the pending attachment of current's xpmem_att_attach()? */
static bool xpmem_pending_mine(pgoff_t pgoff)
{
	struct xpmem_att *att;
	bool mine;

	/* The entry, if there, holds a reference: att is alive under the lock. */
	xa_lock(&xpmem_pending);
	att = xa_load(&xpmem_pending, pgoff);
	mine = att && att->attacher == current;
	xa_unlock(&xpmem_pending);
	return mine;
}

/*
 * An address for @len bytes at page offset @pgoff with the same offset in
 * a @size block as @pgoff, as __thp_get_unmapped_area() finds one for
 * PMD_SIZE: ask for @size more, then move up to the congruent address.
 * Return: the address, or 0 when the range holds no whole aligned @size
 * block (nothing to line up) or there is no room for the padding.
 */
static unsigned long xpmem_aligned_area(struct file *file, unsigned long len,
					unsigned long pgoff,
					unsigned long flags,
					unsigned long size)
{
	unsigned long off = pgoff << PAGE_SHIFT;
	unsigned long addr;

	/* Not worth the padding in a 32-bit address space. */
	if (!IS_ENABLED(CONFIG_64BIT) || in_compat_syscall())
		return 0;
	if (!xpmem_holds_block(off, len, size))
		return 0;
	addr = mm_get_unmapped_area(current->mm, file, 0, len + size, pgoff,
				    flags);
	if (IS_ERR_VALUE(addr))
		return 0;
	return addr + ((off - addr) & (size - 1));
}

/**
 * xpmem_get_unmapped_area() - ->get_unmapped_area of /dev/xpmem
 * @file: the /dev/xpmem file
 * @addr: wanted address (with MAP_FIXED: the address), or 0
 * @len: length in bytes
 * @pgoff: page offset: the attachment's (xpmem_att.pgoff)
 * @flags: MAP_* flags
 *
 * With @addr 0, places the attachment with the same offset in a 1 GiB
 * block as its page offset, and so as its source (xpmem_att_create()), if
 * it holds a whole aligned 1 GiB; else thp_get_unmapped_area() does the
 * same for 2 MiB. Importer and exporter huge pages then line up.
 *
 * Only xpmem_att_attach() maps /dev/xpmem; everything else, in particular
 * mremap() moving an attachment, is refused here, before anything has
 * changed. (Refusing later, in ->mremap(), is too late: by then the core mm
 * has moved the page tables, and move_page_tables() can only move a 1 GiB
 * entry to an address with the same offset in a 1 GiB block.)
 *
 * Context: current->mm's mmap_lock held for writing.
 * Return: the address, or -EINVAL, -ENOMEM.
 */
unsigned long xpmem_get_unmapped_area(struct file *file, unsigned long addr,
				      unsigned long len, unsigned long pgoff,
				      unsigned long flags)
{
	unsigned long ret;

	if (!xpmem_pending_mine(pgoff))
		return -EINVAL;
	if (!addr && !(flags & MAP_FIXED)) {
		ret = xpmem_aligned_area(file, len, pgoff, flags, PUD_SIZE);
		if (ret)
			return ret;
	}
	return thp_get_unmapped_area(file, addr, len, pgoff, flags);
}

/* A VMA of the attachment was split or copied: one more piece. */
static void xpmem_vm_open(struct vm_area_struct *vma)
{
	struct xpmem_att *att = vma->vm_private_data;

	kref_get(&att->kref);
}

static void xpmem_vm_close(struct vm_area_struct *vma)
{
	xpmem_att_put(vma->vm_private_data);
}

/*
 * The VMA is about to be split at @addr (partial munmap, mprotect, madvise).
 * The core mm splits a PMD entry across the new boundary (for a PFN map:
 * zaps it), but not a PUD entry, and one left across two VMAs breaks its
 * later zap or change of protection, which expect it inside one VMA. So zap
 * the 1 GiB block around @addr first; faults map it again in smaller
 * pieces. (Device DAX refuses such splits instead.)
 *
 * Context: the importer's mmap_lock held for writing, so no fault maps the
 * block again before the split is done.
 */
static int xpmem_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	struct xpmem_att *att = vma->vm_private_data;
	unsigned long start = ALIGN_DOWN(addr, PUD_SIZE);

	if (READ_ONCE(att->huge_pud) && start != addr &&
	    start >= vma->vm_start && start + PUD_SIZE <= vma->vm_end)
		xpmem_zap_vma(vma, start, PUD_SIZE);
	return 0;
}

/*
 * Moving an attachment is refused by xpmem_get_unmapped_area() before
 * anything moves; this is a second line. (Growing one never gets here:
 * VM_DONTEXPAND makes mremap() fail with EFAULT.)
 */
static int xpmem_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct xpmem_vm_ops = {
	.open = xpmem_vm_open,
	.close = xpmem_vm_close,
	.may_split = xpmem_vm_may_split,
	.mremap = xpmem_vm_mremap,
	.fault = xpmem_vm_fault,
	.pfn_mkwrite = xpmem_vm_pfn_mkwrite,
	XPMEM_HUGE_FAULT_OPS(xpmem_vm_huge_fault)
};

/**
 * xpmem_att_detach() - unmap every piece of @att from the current process
 * @att: the attachment; the caller holds a reference
 *
 * Context: process context, may sleep; takes current->mm's mmap_lock.
 */
void xpmem_att_detach(struct xpmem_att *att)
{
	struct mm_struct *mm = current->mm;
	unsigned long start, end;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	if (att->mm != mm)
		return;
	/* Every piece lies inside the range first mapped (see at_vaddr). */
	do {
		start = 0;
		end = 0;
		mmap_read_lock(mm);
		vma_iter_init(&vmi, mm, att->at_vaddr);
		for_each_vma_range(vmi, vma, att->at_vaddr + att->size) {
			if (vma->vm_private_data == att &&
			    vma->vm_ops == &xpmem_vm_ops) {
				start = vma->vm_start;
				end = vma->vm_end;
				break;
			}
		}
		mmap_read_unlock(mm);
	} while (end && !vm_munmap(start, end - start));
}

/**
 * xpmem_att_detach_addr() - XPMEM_CMD_DETACH: detach what is mapped at @vaddr
 * @vaddr: any address inside an attachment
 *
 * Context: process context, may sleep; takes current->mm's mmap_lock.
 * Return: 0 (also if nothing is mapped at @vaddr), -EINVAL if what is
 * mapped there is not an xpmem attachment.
 */
int xpmem_att_detach_addr(unsigned long vaddr)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct xpmem_att *att;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, vaddr);
	if (!vma) {
		mmap_read_unlock(mm);
		return 0;
	}
	if (vma->vm_ops != &xpmem_vm_ops) {
		mmap_read_unlock(mm);
		return -EINVAL;
	}
	att = vma->vm_private_data;
	kref_get(&att->kref);
	mmap_read_unlock(mm);

	xpmem_att_detach(att);
	xpmem_att_put(att);
	return 0;
}

void xpmem_att_exit(void)
{
	WARN_ON_ONCE(!xa_empty(&xpmem_pending));
	xa_destroy(&xpmem_pending);
	WARN_ON_ONCE(!RB_EMPTY_ROOT(&xpmem_pgoffs));
}
