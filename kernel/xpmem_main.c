// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_main.c - module init/exit, the /dev/xpmem misc device and the ioctl
 * boundary: copy in, validate sizes, dispatch, copy out the one out field.
 * This is the only file that touches ioctl __user pointers.
 *
 * User-space usage (libxpmem does this; see include/xpmem.h):
 *
 *	fd = open("/dev/xpmem", O_RDWR | O_CLOEXEC);
 *	ioctl(fd, XPMEM_CMD_MAKE, &make);	exporter: make.segid
 *	ioctl(fd, XPMEM_CMD_GET, &get);		importer: get.apid
 *	ioctl(fd, XPMEM_CMD_ATTACH, &attach);	importer: attach.vaddr
 *	... load/store at attach.vaddr ...
 *	ioctl(fd, XPMEM_CMD_DETACH, &detach);
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/uaccess.h>

#include "xpmem_internal.h"

#define XPMEM_FS_MAGIC	0x78706d6d	/* "xpmm" */

/*
 * All attachment VMAs, in every process, are mappings of one private inode,
 * at page offsets unique to each attachment (xpmem_att.pgoff). Its
 * address_space is the reverse map from an attachment to its importer PTEs:
 * unmap_mapping_pages() on it zaps them without touching any process's
 * mmap_lock. Every open /dev/xpmem file uses it as f_mapping.
 */
static struct vfsmount *xpmem_mnt;
static struct inode *xpmem_inode;
struct address_space *xpmem_mapping;

/*
 * Counters: per CPU, so that the fault path never shares a cache line;
 * summed when read. Gauges (objects alive) are incremented and decremented
 * on whatever CPU, which the sum does not mind.
 */
struct xpmem_stats {
	s64 count[XPMEM_NR_STATS];
};

static DEFINE_PER_CPU(struct xpmem_stats, xpmem_stats);

const char *const xpmem_stat_names[XPMEM_NR_STATS] = {
	[XPMEM_STAT_SEGMENTS] = "segments",
	[XPMEM_STAT_PERMITS] = "permits",
	[XPMEM_STAT_ATTACHMENTS] = "attachments",
	[XPMEM_STAT_FAULTS] = "faults",
	[XPMEM_STAT_FAULT_PAGES] = "fault_pages",
	[XPMEM_STAT_FAULT_HUGE] = "fault_huge",
	[XPMEM_STAT_FAULT_HUGE_PUD] = "fault_huge_pud",
	[XPMEM_STAT_INVALIDATIONS] = "invalidations",
	[XPMEM_STAT_ZAPS] = "zaps",
	[XPMEM_STAT_ZAP_PAGES] = "zap_pages",
};

void xpmem_stat_add(enum xpmem_stat stat, long n)
{
	this_cpu_add(xpmem_stats.count[stat], n);
}

s64 xpmem_stat_read(enum xpmem_stat stat)
{
	s64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(xpmem_stats, cpu).count[stat];
	return sum;
}

static int xpmem_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, XPMEM_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: our own kern_mount() would then pin the module forever. The
 * mount lives exactly as long as the module.
 */
static struct file_system_type xpmem_fs_type = {
	.name = "xpmem",
	.init_fs_context = xpmem_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static int xpmem_open(struct inode *inode, struct file *file)
{
	struct xpmem_proc *proc;

	if (!current->mm)
		return -EINVAL;
	proc = xpmem_proc_open(current->mm);
	if (IS_ERR(proc))
		return PTR_ERR(proc);
	file->private_data = proc;
	file->f_mapping = xpmem_mapping;
	return 0;
}

static int xpmem_release(struct inode *inode, struct file *file)
{
	xpmem_proc_close(file->private_data);
	return 0;
}

static long xpmem_ioctl_make(struct xpmem_proc *proc, void __user *uarg)
{
	struct xpmem_cmd_make __user *umake = uarg;
	struct xpmem_cmd_make make;
	xpmem_segid_t segid;
	int ret;

	if (copy_from_user(&make, umake, sizeof(make)))
		return -EFAULT;
	ret = xpmem_seg_make(proc, make.vaddr, make.size, make.permit_type,
			     make.permit_value, &segid);
	if (ret)
		return ret;
	if (put_user(segid, &umake->segid)) {
		xpmem_seg_remove_id(proc, segid);
		return -EFAULT;
	}
	return 0;
}

static long xpmem_ioctl_remove(struct xpmem_proc *proc, void __user *uarg)
{
	struct xpmem_cmd_remove remove;

	if (copy_from_user(&remove, uarg, sizeof(remove)))
		return -EFAULT;
	return xpmem_seg_remove_id(proc, remove.segid);
}

static long xpmem_ioctl_get(struct xpmem_proc *proc, void __user *uarg)
{
	struct xpmem_cmd_get __user *uget = uarg;
	struct xpmem_cmd_get get;
	xpmem_apid_t apid;
	int ret;

	if (copy_from_user(&get, uget, sizeof(get)))
		return -EFAULT;
	ret = xpmem_ap_get(proc, get.segid, get.flags, get.permit_type,
			   get.permit_value, &apid);
	if (ret)
		return ret;
	if (put_user(apid, &uget->apid)) {
		xpmem_ap_release_id(proc, apid);
		return -EFAULT;
	}
	return 0;
}

static long xpmem_ioctl_release(struct xpmem_proc *proc, void __user *uarg)
{
	struct xpmem_cmd_release release;

	if (copy_from_user(&release, uarg, sizeof(release)))
		return -EFAULT;
	return xpmem_ap_release_id(proc, release.apid);
}

static long xpmem_ioctl_attach(struct xpmem_proc *proc, struct file *file,
			       void __user *uarg)
{
	struct xpmem_cmd_attach __user *uattach = uarg;
	struct xpmem_cmd_attach attach;
	u64 vaddr;
	int ret;

	if (copy_from_user(&attach, uattach, sizeof(attach)))
		return -EFAULT;
	/* attach.fd is ignored, as in hpc/xpmem (whose library passes 0 flags). */
	if (attach.flags & ~XPMEM_ATTACH_FLAGS)
		return -EINVAL;
	vaddr = attach.vaddr;
	ret = xpmem_att_attach(proc, file, attach.apid, attach.offset,
			       attach.size, attach.flags, &vaddr);
	if (ret)
		return ret;
	if (put_user(vaddr, &uattach->vaddr)) {
		xpmem_att_detach_addr(vaddr);
		return -EFAULT;
	}
	return 0;
}

static long xpmem_ioctl_detach(void __user *uarg)
{
	struct xpmem_cmd_detach detach;

	if (copy_from_user(&detach, uarg, sizeof(detach)))
		return -EFAULT;
	return xpmem_att_detach_addr(detach.vaddr);
}

static long xpmem_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	struct xpmem_proc *proc = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case XPMEM_CMD_VERSION:
		/* Needs no state: works in a fork child with the parent's fd. */
		return XPMEM_CURRENT_VERSION;
	case XPMEM_CMD_MAKE:
	case XPMEM_CMD_REMOVE:
	case XPMEM_CMD_GET:
	case XPMEM_CMD_RELEASE:
	case XPMEM_CMD_ATTACH:
	case XPMEM_CMD_DETACH:
	case XPMEM_CMD_FORK_BEGIN:
	case XPMEM_CMD_FORK_END:
		break;
	default:
		return -ENOTTY;
	}

	/*
	 * The file belongs to another process (a fork child using the fd it
	 * inherited, or one passed over a socket). Tell the caller to open
	 * /dev/xpmem itself; libxpmem does that and retries.
	 */
	if (proc->mm != current->mm)
		return -XPMEM_ERRNO_NOPROC;

	switch (cmd) {
	case XPMEM_CMD_MAKE:
		return xpmem_ioctl_make(proc, uarg);
	case XPMEM_CMD_REMOVE:
		return xpmem_ioctl_remove(proc, uarg);
	case XPMEM_CMD_GET:
		return xpmem_ioctl_get(proc, uarg);
	case XPMEM_CMD_RELEASE:
		return xpmem_ioctl_release(proc, uarg);
	case XPMEM_CMD_ATTACH:
		return xpmem_ioctl_attach(proc, file, uarg);
	case XPMEM_CMD_DETACH:
		return xpmem_ioctl_detach(uarg);
	default:
		/*
		 * FORK_BEGIN/FORK_END: hpc/xpmem zapped and blocked importer
		 * mappings around fork(). Attachments here follow COW through
		 * the notifier, so there is nothing to do.
		 */
		return 0;
	}
}

const struct file_operations xpmem_fops = {
	.owner = THIS_MODULE,
	.open = xpmem_open,
	.release = xpmem_release,
	.unlocked_ioctl = xpmem_ioctl,
	/* Every struct has the same layout for 32- and 64-bit callers. */
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = xpmem_mmap,
	/* Attachments line up with the exporter's huge pages (pgoff). */
	.get_unmapped_area = xpmem_get_unmapped_area,
	.llseek = noop_llseek,
};

/*
 * Mode 0666: Open MPI, UCX and MPICH open the device as the job's user.
 * Access control is per segment (the mode given to xpmem_make()).
 */
static struct miscdevice xpmem_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "xpmem",
	.fops = &xpmem_fops,
	.mode = 0666,
};

static void xpmem_check_abi(void)
{
	BUILD_BUG_ON(sizeof(struct xpmem_cmd_make) != 40);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_make, permit_type) != 16);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_make, permit_value) != 24);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_make, segid) != 32);
	BUILD_BUG_ON(sizeof(struct xpmem_cmd_remove) != 8);
	BUILD_BUG_ON(sizeof(struct xpmem_cmd_get) != 32);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_get, flags) != 8);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_get, permit_type) != 12);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_get, permit_value) != 16);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_get, apid) != 24);
	BUILD_BUG_ON(sizeof(struct xpmem_cmd_release) != 8);
	BUILD_BUG_ON(sizeof(struct xpmem_cmd_attach) != 40);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_attach, offset) != 8);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_attach, size) != 16);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_attach, vaddr) != 24);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_attach, fd) != 32);
	BUILD_BUG_ON(offsetof(struct xpmem_cmd_attach, flags) != 36);
	BUILD_BUG_ON(sizeof(struct xpmem_cmd_detach) != 8);
	BUILD_BUG_ON(XPMEM_CURRENT_VERSION <= 0);
}

static struct lock_class_key xpmem_i_mmap_key;

static int __init xpmem_init(void)
{
	int ret;

	xpmem_check_abi();

	xpmem_mnt = kern_mount(&xpmem_fs_type);
	if (IS_ERR(xpmem_mnt)) {
		ret = PTR_ERR(xpmem_mnt);
		goto err;
	}
	xpmem_inode = alloc_anon_inode(xpmem_mnt->mnt_sb);
	if (IS_ERR(xpmem_inode)) {
		ret = PTR_ERR(xpmem_inode);
		goto err_unmount;
	}
	xpmem_mapping = xpmem_inode->i_mapping;
	/*
	 * Our i_mmap_rwsem is taken inside invalidations (the zap), and no
	 * anon_vma lock is ever taken under it (attachment VMAs have none).
	 * A class of its own keeps lockdep from chaining it with the
	 * i_mmap_rwsem of ordinary files, which nests outside anon_vma locks.
	 */
	lockdep_set_class(&xpmem_mapping->i_mmap_rwsem, &xpmem_i_mmap_key);

	xpmem_debugfs_init();
	/* Last: /dev/xpmem appears only once everything behind it works. */
	ret = misc_register(&xpmem_miscdev);
	if (ret)
		goto err_debugfs;

	pr_info("xpmem: version %s loaded, /dev/xpmem ready\n",
		XPMEM_VERSION_STRING);
	return 0;

err_debugfs:
	xpmem_debugfs_exit();
	iput(xpmem_inode);
err_unmount:
	kern_unmount(xpmem_mnt);
err:
	pr_err("xpmem: cannot initialise (error %d); /dev/xpmem not created\n",
	       ret);
	return ret;
}

static void __exit xpmem_exit(void)
{
	/*
	 * The module cannot be unloaded while a file is open, and every
	 * attachment VMA holds a file: all objects are gone by now. The
	 * *_exit() helpers only check that.
	 */
	misc_deregister(&xpmem_miscdev);
	xpmem_debugfs_exit();
	xpmem_att_exit();
	xpmem_ap_exit();
	xpmem_seg_exit();
	xpmem_proc_exit();
	WARN_ON_ONCE(xpmem_stat_read(XPMEM_STAT_SEGMENTS) ||
		     xpmem_stat_read(XPMEM_STAT_PERMITS) ||
		     xpmem_stat_read(XPMEM_STAT_ATTACHMENTS));
	iput(xpmem_inode);
	kern_unmount(xpmem_mnt);
}

module_init(xpmem_init);
module_exit(xpmem_exit);

MODULE_DESCRIPTION("Cross-process memory attach (XPMEM), hpc/xpmem ABI compatible");
MODULE_LICENSE("GPL");
MODULE_VERSION(XPMEM_VERSION_STRING);
