// SPDX-License-Identifier: GPL-2.0
/*
 * xpmem_debugfs.c - /sys/kernel/debug/xpmem/stats: the module's counters,
 * one "name value" pair per line (documented in README.md). Built only with
 * CONFIG_DEBUG_FS; the counters themselves always exist (xpmem_main.c).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "xpmem_internal.h"

static struct dentry *xpmem_debugfs_dir;

static int xpmem_stats_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < XPMEM_NR_STATS; i++)
		seq_printf(m, "%s %lld\n", xpmem_stat_names[i],
			   xpmem_stat_read(i));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xpmem_stats);

void xpmem_debugfs_init(void)
{
	/* Failure is not an error: debugfs is for diagnostics only. */
	xpmem_debugfs_dir = debugfs_create_dir("xpmem", NULL);
	debugfs_create_file("stats", 0444, xpmem_debugfs_dir, NULL,
			    &xpmem_stats_fops);
}

void xpmem_debugfs_exit(void)
{
	debugfs_remove_recursive(xpmem_debugfs_dir);
}
