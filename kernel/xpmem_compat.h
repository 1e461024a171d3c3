/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xpmem_compat.h - every kernel API difference xpmem cares about, in one
 * place, keyed on the HAVE_* results of probe.sh (xpmem_config.h).
 *
 * Rules: no kernel version numbers; each shim names the upstream change and
 * the oldest supported kernel that needs it, so it can go when the floor
 * (Debian 12's 6.1) moves past it.
 */
#ifndef XPMEM_COMPAT_H
#define XPMEM_COMPAT_H

#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>

#include "xpmem_config.h"

/*
 * 6.3 made vma->vm_flags const and added vm_flags_set()/vm_flags_clear()
 * ("mm: introduce vma->vm_flags wrapper functions"). Needed by 6.1.
 */
#ifndef HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * 6.4 lets page faults run under a per-VMA lock instead of mmap_lock
 * ("mm: introduce per-VMA lock", FAULT_FLAG_VMA_LOCK). Needed by 6.1, where a
 * fault always holds mmap_lock for read.
 */
#ifndef HAVE_FAULT_FLAG_VMA_LOCK
#define FAULT_FLAG_VMA_LOCK 0
#endif

/*
 * 6.5 added release_fault_lock() to drop whichever lock a fault holds
 * ("mm: handle swap and NUMA PTE faults under the VMA lock"). Needed by 6.1.
 */
#ifndef HAVE_RELEASE_FAULT_LOCK
static inline void release_fault_lock(struct vm_fault *vmf)
{
#ifdef HAVE_FAULT_FLAG_VMA_LOCK
	if (vmf->flags & FAULT_FLAG_VMA_LOCK) {
		vma_end_read(vmf->vma);
		return;
	}
#endif
	mmap_read_unlock(vmf->vma->vm_mm);
}
#endif

/*
 * Huge importer mappings of ordinary (struct page) memory need PMD entries
 * that the core mm treats as special PFN maps, which came with 6.12 ("mm:
 * introduce ARCH_SUPPORTS_HUGE_PFNMAP and special bits to pmd/pud"), and
 * ->huge_fault() taking an order (6.6). Without both (6.1) importers map
 * 4 KiB pages only. XPMEM_HUGE_FAULT_OPS fills the vm_operations_struct
 * field when huge mappings are possible.
 */
#if defined(HAVE_HUGE_FAULT_ORDER) && IS_ENABLED(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP)
#define XPMEM_HUGE_PMD 1
#define XPMEM_HUGE_FAULT_OPS(fn) .huge_fault = (fn),
#else
#define XPMEM_HUGE_PMD 0
#define XPMEM_HUGE_FAULT_OPS(fn)
#endif

/*
 * The same 6.12 change gave PUDs special PFN maps where the architecture
 * has them (x86_64: CONFIG_ARCH_SUPPORTS_PUD_PFNMAP): then a 1 GiB hugetlb
 * page of the exporter is mapped with one PUD (vmf_insert_pfn_pud()).
 */
#if XPMEM_HUGE_PMD && IS_ENABLED(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP)
#define XPMEM_HUGE_PUD 1
#else
#define XPMEM_HUGE_PUD 0
#endif

/*
 * 6.10 replaced the mm->get_unmapped_area hook by mm_get_unmapped_area()
 * ("mm: switch mm->get_unmapped_area() to a flag"). Needed by 6.1.
 */
#ifndef HAVE_MM_GET_UNMAPPED_AREA
static inline unsigned long mm_get_unmapped_area(struct mm_struct *mm,
						 struct file *file,
						 unsigned long addr,
						 unsigned long len,
						 unsigned long pgoff,
						 unsigned long flags)
{
	return mm->get_unmapped_area(file, addr, len, pgoff, flags);
}
#endif

#endif /* XPMEM_COMPAT_H */
