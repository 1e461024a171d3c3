/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xpmem_internal.h - the objects of xpmem.ko, their lifetimes and locks.
 *
 * Read the DOC blocks below before changing any of the .c files: they are
 * the rules the code follows. docs/design.md explains the same at length.
 */
#ifndef XPMEM_INTERNAL_H
#define XPMEM_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include "xpmem_compat.h"
#include "xpmem_ioctl.h"

/* The version reported by XPMEM_CMD_VERSION, from the VERSION file. */
#define XPMEM_CURRENT_VERSION						\
	((XPMEM_VER_MAJOR << 16) | (XPMEM_VER_MINOR << 12) | XPMEM_VER_PATCH)

/* Ids as user space sees them (include/xpmem.h has the same typedefs). */
typedef s64 xpmem_segid_t;
typedef s64 xpmem_apid_t;

/**
 * DOC: Objects and lifetimes
 *
 * xpmem_proc - the xpmem state of one process, keyed by its mm. Created by
 * the first open() of /dev/xpmem in that mm, shared by its later opens.
 * Referenced by each of its open files, segments and permits. Its segments
 * and permits are torn down when the last of its files is released, which
 * (since attachment VMAs hold the file they were made through) means: every
 * fd closed and every attachment unmapped. Process exit does exactly that.
 *
 * xpmem_seg - an exported range of a process's address space. Referenced by
 * the global segment table until removed, by each permit on it, and briefly
 * by lookups. Removal zaps every attachment of it and makes them SIGBUS.
 *
 * xpmem_ap - an access permit: the right of one process to attach one
 * segment. Referenced by the global permit table until released, by each
 * attachment made through it, and briefly by lookups.
 *
 * xpmem_att - one attachment: a range of a segment mirrored into the
 * importer. Referenced by each importer VMA that maps it (a split VMA takes
 * another reference in ->open) and briefly by ioctls. It is freed when the
 * last VMA is unmapped. Its mmu_interval_notifier lives exactly as long.
 *
 * The importer's PTEs never hold a page reference: they are special PFN
 * mappings, and the interval notifier zaps them in the invalidation start
 * callback, before the exporter's page can be freed, migrated or changed.
 */

/**
 * DOC: Locking
 *
 * Lock order, outermost first:
 *
 *   importer mmap_lock (fault: read; mmap/munmap: write)
 *     xpmem_procs_lock
 *       proc->lock
 *         ap->lock, seg->lock
 *           att->pt_sem (read: 4 KiB fault, allocating page tables)
 *             att->lock
 *               xpmem_mapping i_mmap_rwsem (taken by the zap)
 *                 importer page table locks
 *
 * att->lock is under att->pt_sem through reclaim only (an allocation under
 * the read side may run an invalidation callback). A huge fault takes
 * att->pt_sem for writing under att->lock, with a trylock, which never
 * waits. xpmem_pgoff_lock (xpmem_attach.c) is a leaf: nothing is taken
 * under it.
 *
 * The exporter's mmap_lock is taken only by the fault path, only with
 * mmap_read_trylock() while the importer's is held, and otherwise after
 * dropping the importer's (VM_FAULT_RETRY). So two processes faulting on each
 * other's segments cannot deadlock however their writers queue.
 *
 * att->lock is taken inside mmu notifier callbacks, which reclaim can run.
 * So nothing may allocate memory while holding it: the fault path allocates
 * the importer page tables before taking it.
 *
 * No exit path takes another process's mmap_lock: teardown zaps importer
 * PTEs through the shared xpmem_mapping (unmap_mapping_pages()), never
 * through the importer's VMA tree.
 */

/**
 * struct xpmem_proc - xpmem state of one process (one mm)
 * @kref: see "Objects and lifetimes"; the last put unhashes the proc under
 *	xpmem_procs_lock.
 * @mm: the process's mm. mmgrab()bed, so the pointer stays a unique key of
 *	xpmem_procs; never mmget()ted, so it does not keep the pages alive.
 * @tgid: thread group that created the proc, for messages only.
 * @nr_files: open files of the process that point here; protected by
 *	xpmem_procs_lock. At zero the segments and permits are torn down.
 * @lock: protects @segs and @aps.
 * @segs: segments this process exports (xpmem_seg.proc_node).
 * @aps: permits this process holds (xpmem_ap.proc_node).
 */
struct xpmem_proc {
	struct kref kref;
	struct mm_struct *mm;
	pid_t tgid;
	unsigned int nr_files;
	struct mutex lock;		/* protects segs, aps */
	struct list_head segs;
	struct list_head aps;
};

/**
 * struct xpmem_seg - an exported address range
 * @kref: see "Objects and lifetimes". Freed after an RCU grace period, as
 *	lookups run under rcu_read_lock().
 * @segid: the id user space sees; its low 32 bits index xpmem_segs.
 * @proc: the exporter (a reference).
 * @vaddr: first byte of the range in the exporter.
 * @size: length of the range in bytes, page aligned.
 * @mode: permission bits (0777) given to xpmem_make().
 * @uid: effective uid of the exporter at make time.
 * @gid: effective gid of the exporter at make time.
 * @proc_node: in @proc->segs, under @proc->lock.
 * @lock: protects @removed and @atts.
 * @removed: xpmem_remove() or teardown ran; no new attachment may start.
 * @atts: attachments of this segment (xpmem_att.seg_node).
 * @rcu: for kfree_rcu().
 */
struct xpmem_seg {
	struct kref kref;
	xpmem_segid_t segid;
	struct xpmem_proc *proc;
	unsigned long vaddr;
	unsigned long size;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	struct list_head proc_node;
	struct mutex lock;		/* protects removed, atts */
	bool removed;
	struct list_head atts;
	struct rcu_head rcu;
};

/**
 * struct xpmem_ap - an access permit
 * @kref: see "Objects and lifetimes". Freed after an RCU grace period.
 * @apid: the id user space sees; its low 32 bits index xpmem_aps.
 * @seg: the segment (a reference).
 * @proc: the process that holds the permit (a reference).
 * @writable: obtained with XPMEM_RDWR.
 * @proc_node: in @proc->aps, under @proc->lock.
 * @lock: protects @released and @atts.
 * @released: xpmem_release() or teardown ran; no new attachment may start.
 * @atts: attachments made through this permit (xpmem_att.ap_node).
 * @rcu: for kfree_rcu().
 */
struct xpmem_ap {
	struct kref kref;
	xpmem_apid_t apid;
	struct xpmem_seg *seg;
	struct xpmem_proc *proc;
	bool writable;
	struct list_head proc_node;
	struct mutex lock;		/* protects released, atts */
	bool released;
	struct list_head atts;
	struct rcu_head rcu;
};

/**
 * struct xpmem_att - an attachment: part of a segment mirrored into an importer
 * @kref: see "Objects and lifetimes".
 * @ap: the permit it was made through (a reference).
 * @src_mm: the exporter's mm (== ap->seg->proc->mm, kept alive by it).
 * @src_start: first exporter address mirrored.
 * @size: bytes mirrored, page aligned.
 * @mm: the importer's mm; compared only, never dereferenced.
 * @attacher: the task in xpmem_att_attach(); only its own vm_mmap() may
 *	claim the pending attachment in xpmem_mmap(). Compared only.
 * @at_vaddr: importer address the attachment was mapped at; set in ->mmap
 *	under the importer's mmap_lock. VMAs of this attachment only ever
 *	lie inside [@at_vaddr, @at_vaddr + @size) (mremap is refused).
 * @pgoff: page offset of the first page in xpmem_mapping, in
 *	[@pgoff_first, @pgoff_last]: the page offsets this attachment owns
 *	until it is freed, so a zap can never hit another attachment's PTEs.
 *	@pgoff_last == 0: none yet.
 * @pgoff_node: in xpmem_pgoffs, under xpmem_pgoff_lock (xpmem_attach.c).
 * @writable: the permit allows writes (VM_MAYWRITE of the VMA).
 * @mni: interval notifier over [@src_start, @src_start + @size) of @src_mm.
 * @lock: serialises installing importer PTEs against invalidation (the
 *	mmu_interval_read_retry() protocol) and protects @dead.
 * @pt_sem: a 4 KiB fault allocates importer page tables holding it for
 *	reading; a huge fault maps a PMD or PUD entry holding it for writing,
 *	with down_write_trylock() (it holds @lock, and reclaim under the
 *	read side can take @lock), falling back to 4 KiB pages if that
 *	fails. So no huge entry appears where a 4 KiB fault has checked
 *	there is none and is about to walk the page tables.
 * @dead: the segment was removed or its exporter exited: faults SIGBUS.
 * @huge_pud: a 1 GiB entry was mapped for it (set under @lock, never
 *	cleared). From then on a zap covers whole 1 GiB blocks and a VMA
 *	split zaps the 1 GiB block it cuts (xpmem_vm_may_split()): the core
 *	mm only splits a PUD entry with the importer's mmap_lock held and
 *	inside one VMA.
 * @detaching: an ioctl is unmapping it; protected by @ap->lock.
 * @ap_node: in @ap->atts, under @ap->lock.
 * @seg_node: in @ap->seg->atts, under @ap->seg->lock.
 */
struct xpmem_att {
	struct kref kref;
	struct xpmem_ap *ap;
	struct mm_struct *src_mm;
	unsigned long src_start;
	unsigned long size;
	struct mm_struct *mm;
	struct task_struct *attacher;
	unsigned long at_vaddr;
	pgoff_t pgoff;
	unsigned long pgoff_first, pgoff_last;
	struct rb_node pgoff_node;
	bool writable;
	struct mmu_interval_notifier mni;
	struct mutex lock;		/* PTE install vs invalidate; dead */
	struct rw_semaphore pt_sem;	/* page table alloc vs huge entry */
	bool dead;
	bool huge_pud;
	bool detaching;
	struct list_head ap_node;
	struct list_head seg_node;
};

/**
 * enum xpmem_stat - the module's counters (/sys/kernel/debug/xpmem/stats)
 * @XPMEM_STAT_SEGMENTS: segments alive
 * @XPMEM_STAT_PERMITS: permits alive
 * @XPMEM_STAT_ATTACHMENTS: attachments alive
 * @XPMEM_STAT_FAULTS: importer faults handled
 * @XPMEM_STAT_FAULT_PAGES: importer PTEs installed
 * @XPMEM_STAT_FAULT_HUGE: importer PMDs installed
 * @XPMEM_STAT_FAULT_HUGE_PUD: importer PUDs installed
 * @XPMEM_STAT_INVALIDATIONS: exporter invalidations that reached an attachment
 * @XPMEM_STAT_ZAPS: zaps of importer mappings
 * @XPMEM_STAT_ZAP_PAGES: pages covered by those zaps
 * @XPMEM_NR_STATS: number of counters
 */
enum xpmem_stat {
	XPMEM_STAT_SEGMENTS,
	XPMEM_STAT_PERMITS,
	XPMEM_STAT_ATTACHMENTS,
	XPMEM_STAT_FAULTS,
	XPMEM_STAT_FAULT_PAGES,
	XPMEM_STAT_FAULT_HUGE,
	XPMEM_STAT_FAULT_HUGE_PUD,
	XPMEM_STAT_INVALIDATIONS,
	XPMEM_STAT_ZAPS,
	XPMEM_STAT_ZAP_PAGES,
	XPMEM_NR_STATS
};

/* found in xpmem_main.c */
extern struct address_space *xpmem_mapping;
extern const struct file_operations xpmem_fops;
extern const char *const xpmem_stat_names[XPMEM_NR_STATS];
void xpmem_stat_add(enum xpmem_stat stat, long n);
s64 xpmem_stat_read(enum xpmem_stat stat);

/* found in xpmem_debugfs.c */
#if IS_ENABLED(CONFIG_DEBUG_FS)
void xpmem_debugfs_init(void);
void xpmem_debugfs_exit(void);
#else
static inline void xpmem_debugfs_init(void) { }
static inline void xpmem_debugfs_exit(void) { }
#endif

/* found in xpmem_proc.c */
struct xpmem_proc *xpmem_proc_open(struct mm_struct *mm);
void xpmem_proc_close(struct xpmem_proc *proc);
void xpmem_proc_get(struct xpmem_proc *proc);
void xpmem_proc_put(struct xpmem_proc *proc);
void xpmem_proc_exit(void);

/* found in xpmem_seg.c */
int xpmem_id_alloc(struct xarray *xa, u32 *next, void *entry, s64 *id);
u32 xpmem_id_index(s64 id);
int xpmem_seg_make(struct xpmem_proc *proc, u64 vaddr, u64 size,
		   int permit_type, u64 permit_value, xpmem_segid_t *segid);
int xpmem_seg_remove_id(struct xpmem_proc *proc, xpmem_segid_t segid);
bool xpmem_seg_remove(struct xpmem_seg *seg);
struct xpmem_seg *xpmem_seg_lookup(xpmem_segid_t segid);
void xpmem_seg_put(struct xpmem_seg *seg);
void xpmem_seg_exit(void);

/* found in xpmem_perm.c */
int xpmem_ap_get(struct xpmem_proc *proc, xpmem_segid_t segid, int flags,
		 int permit_type, u64 permit_value, xpmem_apid_t *apid);
int xpmem_ap_release_id(struct xpmem_proc *proc, xpmem_apid_t apid);
bool xpmem_ap_release(struct xpmem_ap *ap, bool unmap);
struct xpmem_ap *xpmem_ap_lookup(xpmem_apid_t apid);
void xpmem_ap_put(struct xpmem_ap *ap);
void xpmem_ap_exit(void);

/* found in xpmem_attach.c */
int xpmem_att_attach(struct xpmem_proc *proc, struct file *file,
		     xpmem_apid_t apid, s64 offset, u64 size, int flags,
		     u64 *vaddr);
int xpmem_att_detach_addr(unsigned long vaddr);
void xpmem_att_detach(struct xpmem_att *att);
void xpmem_att_put(struct xpmem_att *att);
int xpmem_mmap(struct file *file, struct vm_area_struct *vma);
unsigned long xpmem_get_unmapped_area(struct file *file, unsigned long addr,
				      unsigned long len, unsigned long pgoff,
				      unsigned long flags);
void xpmem_att_exit(void);

/* found in xpmem_fault.c */
vm_fault_t xpmem_vm_fault(struct vm_fault *vmf);
vm_fault_t xpmem_vm_pfn_mkwrite(struct vm_fault *vmf);
vm_fault_t xpmem_vm_huge_fault(struct vm_fault *vmf, unsigned int order);

/* found in xpmem_notifier.c */
extern const struct mmu_interval_notifier_ops xpmem_mn_ops;
void xpmem_att_kill(struct xpmem_att *att);
void xpmem_zap_vma(struct vm_area_struct *vma, unsigned long addr,
		   unsigned long size);

#endif /* XPMEM_INTERNAL_H */
