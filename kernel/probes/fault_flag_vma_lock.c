// SPDX-License-Identifier: GPL-2.0
/* FAULT_FLAG_VMA_LOCK: a fault may hold a per-VMA lock, not mmap_lock (6.4). */
#include <linux/mm.h>

int probe(void);
int probe(void)
{
	return FAULT_FLAG_VMA_LOCK;
}
